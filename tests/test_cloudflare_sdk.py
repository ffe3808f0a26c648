"""edgeport registers its Cloudflare resources through targets/cloudflare/sdk.py instead of importing pulumi_cloudflare
(1-2 s): the engine must see exactly what the generated SDK would send. Each scenario runs the Cloudflare component
under Pulumi's mocks with both (tests/cloudflare_wire.py, one process per SDK) and compares every request made of
the resource monitor: registrations (type, name, parent, inputs, property dependencies, aliases, protect,
ignoreChanges, provider version, source position and stack trace), component outputs and the data-source invoke."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import warnings

import pytest

from conftest import ROOT

SCENARIOS = ["dev", "domain", "dns", "steps", "jwt"]


def _wire(sdk: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "cloudflare_wire.py"), sdk, *SCENARIOS],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def wire() -> tuple[dict, dict]:
    return _wire("edgeport"), _wire("pulumi_cloudflare")


def _key(r: dict) -> str:
    return json.dumps(r, sort_keys=True)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_requests_as_the_generated_sdk(wire, scenario):
    ours, theirs = (w[scenario] for w in wire)
    mine, gen = sorted(ours["requests"], key=_key), sorted(theirs["requests"], key=_key)
    types = sorted(r["request"].get("type") or r["request"].get("tok") or "outputs" for r in mine)
    assert types == sorted(r["request"].get("type") or r["request"].get("tok") or "outputs" for r in gen)
    for a, b in zip(mine, gen):
        assert a == b, f"{a['rpc']} {a['request'].get('type')} {a['request'].get('name')}"
    assert ours["outputs"] == theirs["outputs"]
    assert any(t.startswith("cloudflare:index/workersScript:") for t in types)


def test_scenarios_cover_every_resource_and_the_data_source(wire):
    ours = wire[0]
    seen = {r["request"].get("type") or r["request"].get("tok") for s in SCENARIOS for r in ours[s]["requests"]}
    assert {"cloudflare:index/workersKvNamespace:WorkersKvNamespace", "cloudflare:index/workersKv:WorkersKv",
            "cloudflare:index/workersScript:WorkersScript", "cloudflare:index/workersRoute:WorkersRoute",
            "cloudflare:index/workersCustomDomain:WorkersCustomDomain", "cloudflare:index/dnsRecord:DnsRecord",
            "cloudflare:index/getWorkersScripts:getWorkersScripts"} <= seen
    # the data source's answer is read: a script at the newest tag gets no migrations, a new one every step
    script = {s: next(r["request"]["object"] for r in ours[s]["requests"]
                      if r["request"].get("type") == "cloudflare:index/workersScript:WorkersScript") for s in SCENARIOS}
    assert "migrations" not in script["domain"] and script["dev"]["migrations"]["newTag"] == "edgeport-v1"
    assert script["steps"]["migrations"]["oldTag"] == "edgeport-v1" and len(script["steps"]["migrations"]["steps"]) == 2


def test_production_never_imports_pulumi_cloudflare(wire):
    assert wire[0]["imported_pulumi_cloudflare"] is False
    assert wire[1]["imported_pulumi_cloudflare"] is True


@pytest.mark.parametrize("version", ["6.23.1", "7.0.0a3", "7.0.0b1", "7.0.0rc2", "7.0.0.dev5", "7.0.0+abc.1"])
def test_provider_version_is_the_generated_sdks(monkeypatch, version):
    from edgeport.targets.cloudflare import sdk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pulumi_cloudflare import _utilities
    monkeypatch.setattr(importlib.metadata, "version", lambda name: version)
    assert sdk.provider_version.__wrapped__() == str(_utilities._get_semver_version())


def test_installed_provider_version():
    from edgeport.targets.cloudflare import sdk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pulumi_cloudflare import _utilities
    assert sdk.provider_version() == _utilities.get_version()


def test_unknown_inputs_are_refused():
    from edgeport.targets.cloudflare import sdk

    with pytest.raises(TypeError, match="no input limits"):
        sdk.WorkersScript("s", account_id="a", script_name="s", limits={"cpu_ms": 50})
    with pytest.raises(TypeError, match="Missing required property 'script_name'"):
        sdk.WorkersScript("s", account_id="a")
