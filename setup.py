"""Package build hook: the wheel carries the prebuilt engines (edgeport/engine/), so a deploy from an installed
edgeport needs no Node (components/edgeport/build/engine.py). They are compiled from functions/ when it is there
(a checkout, with `npm ci` done); an sdist already holds them (MANIFEST.in), so a wheel builds from it without Node.
Everything else is in pyproject.toml; setuptools runs build_py's subclass through cmdclass
(setuptools.pypa.io/en/latest/userguide/extension.html#customizing-commands)."""

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
ENGINES = HERE / "components" / "edgeport" / "engine"


def compile_engines() -> None:
    if (HERE / "functions" / "node_modules" / "esbuild").exists():
        subprocess.run([sys.executable, "-m", "edgeport.build.engine", str(ENGINES)], check=True,
                       env={"PYTHONPATH": str(HERE / "components"), **__import__("os").environ})
    elif not (ENGINES / "engine.json").exists():
        raise SystemExit("no prebuilt engines and no functions/node_modules to compile them: run `make setup` first")


class BuildPy(build_py):
    def run(self):
        # An editable install (`make setup`, before `npm ci`) builds no wheel to ship: the checkout compiles its
        # engines from functions/ on first use, so nothing is needed here.
        if not getattr(self, "editable_mode", False):
            compile_engines()
        super().run()


class Sdist(sdist):
    def run(self):
        compile_engines()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
