"""`python -m edgeport.dist PKG_DIR`: what an installed edgeport carries besides its Python modules, made from a
checkout and written into PKG_DIR (the `edgeport` directory of a build; setup.py passes <build_lib>/edgeport for a
wheel and the release tree's components/edgeport for an sdist, so a wheel builds from the sdist without Node):

    engine/              every target's prebuilt engine (.js + .map) and engine.json (build/engine.py): deploys,
                         `build` and `plan` need no Node
    runtime/             the local runtime hosts and a package.json + package-lock.json limited to what they load
                         (local/runtime.py): `dev` and `conformance` install them with `npm ci` on first use
    data/conformance/    the conformance scenarios and their JSON Schema (used when a project has none of its own)
    data/requirements.txt  the exact versions of what edgeport[local] installs, from requirements.lock (`init`)

Needs functions/ with its node_modules (`make setup`) and conformance/.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import EdgeportError

ROOT = Path(__file__).resolve().parents[2]  # the checkout
DATA = Path(__file__).resolve().parent / "data"  # edgeport/data/ of an installed package


def packaged_scenarios() -> Path:
    """The conformance scenarios an installed edgeport carries (a checkout: its conformance/scenarios)."""
    shipped = DATA / "conformance" / "scenarios"
    return shipped if shipped.is_dir() else ROOT / "conformance" / "scenarios"


def deploy_pins() -> list[str]:
    """`name==version` for everything `pip install edgeport[local]` brings, at the versions of requirements.lock
    (what the tests ran with): edgeport's own requirements (pyproject.toml) and theirs, from the installed packages'
    metadata, with their markers evaluated here. `edgeport init` writes them into a project's requirements.txt."""
    import re
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.strip())
        if m:
            lock[canonicalize_name(m[1])] = f"{m[1]}=={m[2]}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["local"]]]
    seen: dict[str, set[str]] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen and set(req.extras) <= seen[name]:
            continue
        seen.setdefault(name, set()).update(req.extras)
        try:
            requires = metadata.distribution(req.name).requires or []
        except metadata.PackageNotFoundError:
            raise EdgeportError(f"{req.name} (needed by edgeport) is not installed here: run `make setup`") from None
        for r in map(Requirement, requires):
            extras = seen[name] or {""}
            if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras):
                todo.append(r)
    missing = sorted(n for n in seen if n not in lock)
    if missing:
        raise EdgeportError(f"requirements.lock does not pin {', '.join(missing)}, which edgeport needs")
    return sorted((lock[n] for n in seen), key=str.lower)


def _fresh(dest: Path) -> Path:
    """An empty directory beside `dest` (the same depth: the engines' source maps name their sources relatively)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))


def _swap(tmp: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    os.rename(tmp, dest)


def write(pkg: Path) -> dict:
    from .build.bundler import functions_dir
    from .build.engine import compile_engines, every_engine
    from .local.runtime import stage

    fdir = functions_dir()
    summary: dict = {}
    wanted = every_engine()
    tmp = _fresh(pkg / "engine")
    try:
        compile_engines(fdir, wanted, tmp)
        _swap(tmp, pkg / "engine")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary["engines"] = len(wanted)

    tmp = _fresh(pkg / "runtime")
    try:
        summary["runtime"] = stage(fdir, tmp)
        _swap(tmp, pkg / "runtime")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    src = ROOT / "conformance"
    scenarios = sorted((src / "scenarios").glob("*.yaml"))
    if not scenarios:
        raise EdgeportError(f"no conformance scenarios in {src / 'scenarios'}")
    tmp = _fresh(pkg / "data")
    try:
        (tmp / "conformance" / "scenarios").mkdir(parents=True)
        shutil.copy2(src / "scenario.schema.json", tmp / "conformance" / "scenario.schema.json")
        for f in scenarios:
            shutil.copy2(f, tmp / "conformance" / "scenarios" / f.name)
        _swap(tmp, pkg / "data")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary["scenarios"] = [f.name for f in scenarios]
    pins = deploy_pins()
    (pkg / "data" / "requirements.txt").write_text("\n".join(pins) + "\n")
    summary["pins"] = len(pins)
    return summary


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m edgeport.dist PKG_DIR   (the edgeport directory of a package build)", file=sys.stderr)
        return 2
    try:
        summary = write(Path(argv[0]).resolve())
    except EdgeportError as e:
        print(f"edgeport.dist: {e}", file=sys.stderr)
        return 1
    rt = summary["runtime"]
    print(f"edgeport.dist: {summary['engines']} engines, {len(rt['hosts'])} host files + a lockfile of "
          f"{rt['packages']} npm packages ({', '.join(rt['dependencies'])}), {len(summary['scenarios'])} scenario "
          f"files, {summary['pins']} pinned requirements -> {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
