"""The engine: one config-free bundle per target, the stack's config injected by Python. A stack builds to the same
bytes from prebuilt engines without Node on PATH (what a deploy from an installed edgeport does) as from a
checkout's functions/; the injected literal is the config JSON.parse would give; source maps follow the shift."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, credential_free_env
from edgeport.build.engine import PLACEHOLDER, compile_engines, inject, js_literal, shift_map
from edgeport.build.bundler import functions_dir
from edgeport import targets

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("engine")
    r = subprocess.run([sys.executable, "-m", "edgeport.build.engine", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def test_every_target_has_an_engine_that_reads_the_placeholder_and_holds_no_config(prebuilt):
    for t in targets.NAMES:
        code = (prebuilt / f"{t}.js").read_text()
        assert PLACEHOLDER in code and '"stack":' not in code and "shop" not in code, t
        assert json.loads((prebuilt / f"{t}.js.map").read_text())["mappings"]


def test_a_build_from_prebuilt_engines_without_node_is_byte_identical_to_a_checkout_build(prebuilt, tmp_path):
    env = credential_free_env()
    checkout = subprocess.run([*EDGEPORT, "build", "--stack", "dev", "--json", "--out", str(tmp_path / "a")], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
    assert checkout.returncode == 0, checkout.stderr
    # No node on PATH, no functions/ to find: only the prebuilt engines.
    bare = {**env, "PATH": os.path.dirname(sys.executable), "EDGEPORT_FUNCTIONS_DIR": str(tmp_path / "nowhere"),
            "EDGEPORT_ENGINE_DIR": str(prebuilt)}
    assert shutil.which("node", path=bare["PATH"]) is None
    packaged = subprocess.run([*EDGEPORT, "build", "--stack", "dev", "--json", "--out", str(tmp_path / "b")], cwd=ROOT,
                              env=bare, capture_output=True, text=True, timeout=300)
    assert packaged.returncode == 0, packaged.stderr
    a, b = json.loads(checkout.stdout), json.loads(packaged.stdout)
    assert [x["sha256"] for x in a["artifacts"]] == [x["sha256"] for x in b["artifacts"]]
    assert len(a["artifacts"]) == 5


def test_without_node_engines_or_functions_the_error_says_what_to_do(tmp_path):
    env = {**credential_free_env(), "PATH": os.path.dirname(sys.executable), "EDGEPORT_ENGINE_DIR": str(tmp_path)}
    r = subprocess.run([*EDGEPORT, "build", "--stack", "dev", "--out", str(tmp_path / "o")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "no prebuilt engine for cloudflare, lambda-edge, vercel" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_injected_literal_evaluates_to_what_json_parse_gives():
    config = {"a-b": 1, "__proto__": {"polluted": True}, "ok_$1": [1.5, None, True, "x\u2028y"], "ünï": "é",
              "nested": {"0": "zero", "": "empty", "class": "kw"}}
    literal = js_literal(config)
    script = f"const v = ({literal}); const j = JSON.parse(process.argv[1]); " \
             "console.log(JSON.stringify([v, Object.getPrototypeOf(v) === Object.prototype, ({{}}).polluted === undefined]))"
    out = subprocess.run(["node", "-e", script.replace("{{}}", "{}"), json.dumps(config)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    value, plain_proto, not_polluted = json.loads(out.stdout)
    assert value == config and plain_proto and not_polluted
    assert '"__proto__"' not in literal.replace('["__proto__"]', "")


def test_injection_keeps_the_engine_bytes_and_shifts_the_source_map_by_the_added_line():
    engine = b'"use strict";var a=__EDGEPORT_CONFIG__;module.exports=a;\n'
    code, added = inject(engine, {"version": 1})
    assert code == b'"use strict";const __EDGEPORT_CONFIG__=({version:1});\n' + engine and added == 1
    esm, added = inject(b"var a=__EDGEPORT_CONFIG__;export{a as default};\n", {"x": 1}, footer="export const config = {};")
    assert esm.startswith(b"const __EDGEPORT_CONFIG__=({x:1});\nvar a=") and esm.endswith(b"export{a as default};\nexport const config = {};\n")
    m = json.loads(shift_map(json.dumps({"version": 3, "sources": ["../src/a.ts"], "mappings": "AAAA"}).encode(), 1, ROOT / "x"))
    assert m["mappings"] == ";AAAA" and m["sources"] == [str((ROOT / "src" / "a.ts").resolve())]


def test_an_engine_compiled_with_its_config_inlined_is_refused():
    from edgeport.errors import BuildError

    with pytest.raises(BuildError, match="does not read __EDGEPORT_CONFIG__"):
        inject(b"var a={version:1};", {"version": 1})


def test_the_checkout_cache_is_keyed_by_the_sources(tmp_path):
    fdir = functions_dir()
    first = compile_engines(fdir, ["vercel"])
    assert compile_engines(fdir, ["vercel"]) == first  # cached: same directory, not rebuilt
    assert first.parent == fdir / ".engine"
