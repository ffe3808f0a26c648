"""Build the edge bundles for a stack: spec -> runtime config per target -> esbuild (functions/build.mjs)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import BuildError, SpecError, SpecIssue
from ..spec.models import App
from .. import targets
from ..targets import profile
from ..targets.base import BundleUnit
from .artifacts import Artifact, BuildResult, measure

MIN_NODE = (20, 3)


def functions_dir() -> Path:
    """functions/ of this checkout (EDGEPORT_FUNCTIONS_DIR overrides)."""
    env = os.environ.get("EDGEPORT_FUNCTIONS_DIR")
    d = Path(env) if env else Path(__file__).resolve().parents[3] / "functions"
    if not (d / "build.mjs").exists():
        raise BuildError(f"edge sources not found at {d}; set EDGEPORT_FUNCTIONS_DIR to the functions/ directory")
    if not (d / "node_modules" / "esbuild").exists():
        raise BuildError(f"{d}/node_modules is missing: run `make setup` (or `npm ci --prefix {d}`)")
    return d


def node_binary() -> str:
    node = shutil.which("node")
    if not node:
        raise BuildError("node is not on PATH: edgeport needs Node.js >= 20.3 to bundle and run edge code")
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
    try:
        version = tuple(int(x) for x in out.split(".")[:2])
    except ValueError:
        version = (0, 0)
    if version < MIN_NODE:
        raise BuildError(f"node {out} is too old: edgeport needs Node.js >= {MIN_NODE[0]}.{MIN_NODE[1]}")
    return node


def units_for(app: App, stack: str, locate: Callable[[SpecIssue], SpecIssue] | None = None) -> list[BundleUnit]:
    """The bundles every target needs; platform quotas that config can break are checked first.
    `locate` adds the stack file and line to those issues (Stack.locate)."""
    units, issues = targets.bundles_and_limits(app, stack)
    if issues:
        raise SpecError([locate(i) for i in issues] if locate else issues)
    return units


def build_app(app: App, stack: str, out_dir: Path, locate: Callable[[SpecIssue], SpecIssue] | None = None, *,
              units: list[BundleUnit] | None = None) -> BuildResult:
    """Bundle every target of the stack into out_dir and check the budgets. Raises BuildError
    (SpecError for platform limits the declaration breaks, located by `locate` when given).
    `units` are this app's and stack's bundle units when they have been worked out already (Stack.units: load_stack
    has checked their limits); otherwise they are worked out and checked here."""
    if units is None:
        units = units_for(app, stack, locate)
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # Several builds of one stack may run at once (a plan per pull-request check, `dev` beside `plan`).
    # Each writes into its own staging directory and moves every finished file into place with an atomic
    # rename, so no reader ever sees a half-written bundle (a concurrent plan once hashed an empty file).
    stage = Path(tempfile.mkdtemp(prefix=".stage-", dir=out_dir.parent))
    try:
        built = _bundle(units, stage, map_dir(out_dir))
        for f in sorted(p for p in stage.rglob("*") if p.is_file()):
            dest = out_dir / f.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    def moved(p: Path) -> Path:
        return out_dir / p.relative_to(stage)
    artifacts = [dataclasses.replace(a, path=moved(a.path), config_path=moved(a.config_path) if a.config_path else None,
                                     extra_files=[moved(p) for p in a.extra_files]) for a in built]
    local = {t: profile(t).local_settings(app, stack) for t in app.targets.names()}
    result = BuildResult(app=app.name, stack=stack, out_dir=out_dir, artifacts=artifacts, origins=dict(app.origins), local=local)
    result.write_manifest()
    over = [a for a in artifacts if a.over_budget]
    if over:
        raise BuildError("over budget: " + "; ".join(
            f"{a.label} is {a.measured:,} B ({a.budget.measure}), limit {a.budget.limit:,} B ({a.budget.label})" for a in over))
    return result


def _bundle(units: list[BundleUnit], out_dir: Path, maps: Path) -> list[Artifact]:
    """Each unit's bundle: its target's engine (build/engine.py) with the unit's config injected; measured."""
    from .engine import engine_file, engines, inject, shift_map

    def carried(u: BundleUnit) -> frozenset[str]:  # the pattern steps the unit's bundle needs
        return frozenset(p["type"] for p in u.config.get("patterns", []))

    edir = engines(sorted({(u.target, carried(u)) for u in units}, key=lambda w: (w[0], sorted(w[1]))))
    artifacts = []
    for u in units:
        path = out_dir / u.outfile
        path.parent.mkdir(parents=True, exist_ok=True)
        footer = getattr(profile(u.target), "bundle_footer", None)
        engine = edir / engine_file(u.target, carried(u))
        code, added = inject(engine.read_bytes(), u.config if u.inline_config else None,
                             footer(u) if footer else None)
        path.write_bytes(code)
        source_map = engine.with_name(f"{engine.name}.map")
        if source_map.exists():
            (maps / f"{u.outfile}.map").parent.mkdir(parents=True, exist_ok=True)
            (maps / f"{u.outfile}.map").write_bytes(shift_map(source_map.read_bytes(), added, edir))
        config_path = None
        if not u.inline_config:
            config_path = path.parent / "config.json"
            config_path.write_text(json.dumps(u.config, indent=2, sort_keys=True) + "\n")
        extra = []
        for rel, text in u.extra_files.items():
            p = out_dir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            extra.append(p)
        sha, size, gz, zipped = measure(path, path.name)
        artifacts.append(Artifact(
            target=u.target, event=u.event, path=path, sha256=sha, size=size, gzip_size=gz, zip_size=zipped, budget=u.budget,
            config=u.config, config_path=config_path, secret_names=sorted(u.config.get("secrets", {})), extra_files=extra))
    return artifacts


def map_dir(out_dir: Path) -> Path:
    """Where the bundles' source maps go: beside the build directory, never inside what a target uploads."""
    return out_dir.parent / f"{out_dir.name}.maps"


def default_out_dir(project_dir: Path, stack: str) -> Path:
    return project_dir / ".edgeport" / "build" / stack
