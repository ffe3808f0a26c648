"""The engine: one config-free bundle per target, the stack's config injected by Python. A stack builds to the same
bytes from prebuilt engines without Node on PATH (what a deploy from an installed edgeport does) as from a
checkout's functions/; the injected literal is the config JSON.parse would give; source maps follow the shift."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, credential_free_env
from edgeport.build.engine import PLACEHOLDER, compile_engines, inject, js_literal, shift_map
from edgeport.build.bundler import functions_dir

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("engine")
    r = subprocess.run([sys.executable, "-m", "edgeport.build.engine", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def test_an_installed_package_ships_an_engine_per_target_and_set_of_hostable_patterns(prebuilt):
    """32 sets of the 5 pattern types on Cloudflare, 16 on Lambda@Edge and Vercel (no rooms there); each reads the
    placeholder, holds no stack's config, and carries only its patterns' steps."""
    engines = sorted(p.name for p in prebuilt.glob("*.js"))
    assert len([e for e in engines if e.startswith("cloudflare.")]) == 32
    assert len([e for e in engines if e.startswith("lambda-edge.")]) == len([e for e in engines if e.startswith("vercel.")]) == 16
    for e in engines:
        code = (prebuilt / e).read_text()
        assert PLACEHOLDER in code and "shop" not in code, e
        assert json.loads((prebuilt / f"{e}.map").read_text())["mappings"]
    jwt_only, everything = (prebuilt / "vercel.jwt-auth.js").read_text(), (prebuilt / "vercel.ab-test+esi-compose+geo-route+jwt-auth.js").read_text()
    assert "{path}" not in jwt_only and "{path}" in everything  # the variant path template (ab.ts)
    assert len(jwt_only) < 0.8 * len(everything)
    # The Durable Object class is exported by every Cloudflare engine: a script whose migrations created it must keep
    # it. Without rooms it is a stub (functions/platforms/cloudflare/with-rooms.ts): no room object code rides along.
    rooms, no_rooms = (prebuilt / "cloudflare.realtime-room.js").read_text(), (prebuilt / "cloudflare.jwt-auth.js").read_text()
    for code in (rooms, no_rooms):
        assert re.search(r"export\{[^}]*\bas EdgeportRoom\b", code), "EdgeportRoom must be exported"
    assert "webSocketMessage" in rooms and "webSocketMessage" not in no_rooms
    assert "acceptWebSocket" in rooms and "acceptWebSocket" not in no_rooms


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
    assert r.returncode == 1 and "no prebuilt engine cloudflare.ab-test+esi-compose+geo-route+jwt-auth+realtime-room.js" in r.stderr
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
    first = compile_engines(fdir, [("vercel", frozenset({"jwt-auth"}))])
    assert (first / "vercel.jwt-auth.js").exists()
    assert compile_engines(fdir, [("vercel", frozenset({"jwt-auth"}))]) == first  # cached: same directory
    assert first.parent == fdir / ".engine"


def test_the_edge_registry_has_a_flag_for_every_python_pattern_type():
    """build.mjs defines EDGEPORT_WITH_<TYPE> for each type of the Python registry; src/patterns/index.ts must
    declare exactly those (a missing flag would be a ReferenceError at the first request)."""
    import re

    from edgeport.patterns import KINDS

    declared = set(re.findall(r"declare const (EDGEPORT_WITH_\w+): boolean;", (ROOT / "functions/src/patterns/index.ts").read_text()))
    assert declared == {f"EDGEPORT_WITH_{t.upper().replace('-', '_')}" for t in KINDS}


def test_a_stack_bundle_carries_only_the_patterns_it_declares(tmp_path):
    from conftest import write_project

    stack = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    write_project(tmp_path, {"dev": stack})
    full = json.loads(subprocess.run([*EDGEPORT, "build", "--stack", "dev", "--json"], cwd=tmp_path, capture_output=True,
                                     text=True, timeout=300, env=credential_free_env()).stdout)
    sizes = {(a["target"], a["event"]): a["bytes"] for a in full["artifacts"]}
    # Lambda@Edge's origin-response bundle carries only the patterns acting there (ab-test's cookie, esi-compose):
    # smaller than the viewer-request one, which carries the guard and the router.
    assert sizes[("lambda-edge", "origin-response")] < sizes[("lambda-edge", "viewer-request")]
    vr = (tmp_path / ".edgeport/build/dev/lambda-edge/origin-response/index.js").read_text()
    assert "jwt-auth" not in vr.split("\n", 1)[1]
