"""The wheel, installed into a fresh virtual environment outside the repository, carries what a deploy needs: with
no Node on PATH and no functions/ to find, `edgeport init`, `validate`, `build` and `plan` work there, from the
prebuilt engines in the package. (Its dependencies come from this project's .venv through a .pth file, so the test
needs no network; the wheel itself is installed with --no-deps.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    [whl] = out.glob("edgeport-*.whl")
    return whl


def test_the_wheel_carries_the_engines_and_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    engines = [n for n in names if n.startswith("edgeport/engine/") and n.endswith(".js")]
    assert len(engines) == 64 and "edgeport/engine/engine.json" in names
    assert {"edgeport/templates/stack.yaml", "edgeport/templates/github/workflows/pr.yml"} <= set(names)
    assert not [n for n in names if n.startswith(("functions/", "tests/"))]


def test_installed_outside_the_repo_it_deploys_without_node(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # this .venv's packages, not its .pth files
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDFLARE_", "EDGEPORT_", "VERCEL_"))}
    env.update(PATH=str(venv / "bin"), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, HOME=str(tmp_path))
    work = tmp_path / "work"
    work.mkdir()

    def run(*args, cwd=work):
        return subprocess.run([str(py), "-m", "edgeport.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(py), "-c", "import edgeport; print(edgeport.__file__)"], env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    assert run("init", "shop").returncode == 0
    proj = work / "shop"
    assert run("validate", "--stack", "dev", cwd=proj).returncode == 0
    b = run("build", "--stack", "dev", "--json", cwd=proj)
    assert b.returncode == 0, b.stderr
    assert len(json.loads(b.stdout)["artifacts"]) == 5
    p = run("plan", "--stack", "dev", "--offline", "--json", cwd=proj)
    assert p.returncode == 0, p.stderr
    assert any(r["type"] == "cloudflare:index/workersScript:WorkersScript" for r in json.loads(p.stdout)["resources"])
