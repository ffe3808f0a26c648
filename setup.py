"""Package build hook. Everything but this is in pyproject.toml.

A wheel carries, besides the Python modules, what `python -m edgeport.dist` makes from a checkout (functions/ with
its node_modules, conformance/): the prebuilt engines (deploys, `build` and `plan` need no Node), the local runtime
hosts with a lockfile of their npm packages (`dev` and `conformance` install them on first use), the conformance
scenarios. build_py writes them into the build directory; sdist writes them into its release tree, so the sdist
holds them and a wheel builds from it without Node or functions/. Nothing is written into the source tree.
setuptools runs these subclasses through cmdclass (setuptools.pypa.io/en/latest/userguide/extension.html,
"Customizing commands"); make_release_tree is the sdist step that lays out the archive's directory.
"""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
CHECKOUT = (HERE / "functions" / "build.mjs").exists()  # an sdist has no functions/: it carries the output instead


def _python() -> str:
    """A Python that imports edgeport's dependencies (the registries are pydantic models): this one, or under an
    isolated build (`python -m build` without --no-isolation) the checkout's .venv."""
    probe = [sys.executable, "-c", "import pydantic, yaml, click"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return sys.executable
    venv = HERE / ".venv" / "bin" / "python"
    if venv.exists():
        return str(venv)
    raise SystemExit("setup.py: this Python cannot import edgeport's dependencies to write the engines: build with "
                     "--no-isolation from a virtualenv holding them (make setup; make dist)")


def write_package_data(pkg_dir: Path) -> None:
    if not (HERE / "functions" / "node_modules" / "esbuild").exists():
        raise SystemExit("setup.py: functions/node_modules is missing: run `make setup` (npm ci in functions/) first")
    subprocess.run([_python(), "-m", "edgeport.dist", str(pkg_dir)], check=True,
                   env={**os.environ, "PYTHONPATH": str(HERE / "components")})


class BuildPy(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install is a checkout: engines and hosts come from functions/
        pkg = Path(self.build_lib) / "edgeport"
        if CHECKOUT:
            write_package_data(pkg)
        elif not (pkg / "engine" / "engine.json").exists() or not (pkg / "runtime" / "package-lock.json").exists():
            raise SystemExit("setup.py: no prebuilt engines or runtime in this source tree and no functions/ to make "
                             "them from")


class Sdist(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        if CHECKOUT:
            write_package_data(Path(base_dir) / "components" / "edgeport")


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
