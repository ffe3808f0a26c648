"""One contract between Python and TypeScript: every runtime config the spec layer emits type-checks against the
TypeScript types the edge code reads it with (EdgeConfig in functions/src/patterns/index.ts, each pattern's config
interface in its step module).

Each emitted config is written as a TypeScript object literal annotated with EdgeConfig and compiled with the
project's own tsc and tsconfig: an object literal gets TypeScript's excess-property check, so a key Python emits
that TypeScript does not declare fails here, as do a missing required key and a wrong value type - in either
direction of a change. The configs are those of every stack in the repository (dev, prod, bench) and of the
runtime tests' app, on every target and trigger.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from edgeport import targets
from edgeport.spec import load_stack, parse_app
from patterns_app import APP

FUNCTIONS = ROOT / "functions"
CONFIG_TS = FUNCTIONS / "src" / "patterns" / "index.ts"


def _configs() -> list[tuple[str, dict]]:
    apps = [(f"{s}", load_stack(s, ROOT).app) for s in ("dev", "prod")]
    apps.append(("bench", load_stack("bench", ROOT / "bench").app))
    apps.append(("patterns", parse_app(APP)))
    out = []
    for stack, app in apps:
        units, issues = targets.bundles_and_limits(app, stack)
        assert not issues, issues
        out += [(f"{stack}/{u.target}/{u.event or 'all'}", u.config) for u in units]
    return out


def _literal(name: str, config: dict) -> str:
    ident = re.sub(r"\W", "_", name)
    return f"// {name}\nexport const {ident}: EdgeConfig = {json.dumps(config, indent=1)};\n"


@pytest.fixture(scope="module")
def workdir():
    # Inside functions/node_modules so that tsc resolves the project's type packages the way the build does.
    d = FUNCTIONS / "node_modules" / ".cache" / "edgeport-contract"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _tsc(workdir, files: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (workdir / name).write_text(text)
    (workdir / "tsconfig.json").write_text(json.dumps({
        "extends": str(FUNCTIONS / "tsconfig.json"), "include": [str(workdir / n) for n in files]}))
    return subprocess.run([str(FUNCTIONS / "node_modules" / ".bin" / "tsc"), "-p", str(workdir / "tsconfig.json")],
                          cwd=FUNCTIONS, capture_output=True, text=True, timeout=300)


def test_every_emitted_config_type_checks_against_the_typescript_types(workdir):
    configs = _configs()
    assert len(configs) >= 12 and {n.split("/")[1] for n, _ in configs} == set(targets.NAMES)
    head = f'import type {{ EdgeConfig }} from "{CONFIG_TS.with_suffix("")}";\n\n'
    p = _tsc(workdir, {"configs.ts": head + "\n".join(_literal(n, c) for n, c in configs)})
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]


def test_the_contract_check_fails_on_a_key_typescript_does_not_know(workdir):
    """The check above can fail: an extra key and a wrong type in one pattern's config are both reported."""
    name, config = next((n, c) for n, c in _configs() if any(p.get("type") == "ab-test" for p in c["patterns"])
                        or any("variants" in p for p in c["patterns"]))
    bad = json.loads(json.dumps(config))
    ab = next(p for p in bad["patterns"] if "variants" in p)
    ab["variantz"] = ab["variants"]
    bad["secretTtl"] = "five minutes"
    head = f'import type {{ EdgeConfig }} from "{CONFIG_TS.with_suffix("")}";\n\n'
    p = _tsc(workdir, {"bad.ts": head + _literal(name, bad)})
    assert p.returncode != 0
    assert "'\"variantz\"' does not exist in type 'AbConfig'" in p.stdout, p.stdout[-3000:]
    assert "Type 'string' is not assignable to type 'number'" in p.stdout, p.stdout[-3000:]
