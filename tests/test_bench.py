"""bench/: the benchmark harness runs end to end in smoke mode and writes results of the documented
shape; the measuring script refuses to time a request whose outcome is not the expected one.
Nothing here asserts timing: only that numbers exist and are consistent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BENCH = ROOT / "bench"
RUNTIMES = {"cloudflare", "vercel", "lambda-edge"}
STATS = ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "min_ms", "max_ms")
PATTERN_CASES = {"ab-test": {"first-visit", "returning"}, "geo-route": {"de", "us"}, "esi-compose": {"page"}}
STREAMING = {"cloudflare", "vercel"}  # where esi-compose reports time to first byte


def measure_processes() -> list[str]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(BENCH / "measure.mjs") in cmd:
                out.append(cmd)
    return out


def run_smoke(tmp: Path, *args: str) -> tuple[dict, str]:
    out = tmp / "results.json"
    cmd = [sys.executable, str(BENCH / "run.py"), "--quick", "--n", "12", "--warmup", "3", "--rounds", "2",
           *args, "--out", str(out), "--work", str(tmp / "work"), "--quiet"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert res.returncode == 0, res.stderr
    return json.loads(out.read_text()), res.stdout


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return run_smoke(tmp_path_factory.mktemp("bench"), "--cold-repeats", "1", "--case", "jwt-auth")


@pytest.fixture(scope="module")
def patterns_smoke(tmp_path_factory):
    """The other cases in one run, without cold starts (the jwt-auth run covers those): keeps this file fast."""
    cases = [a for c in PATTERN_CASES for a in ("--case", c)]
    return run_smoke(tmp_path_factory.mktemp("bench-patterns"), "--cold-repeats", "0", *cases)


def test_machine_facts_and_settings(smoke):
    data, _ = smoke
    assert data["schema"] == 1 and data["mode"] == "quick"
    m = data["machine"]
    assert m["node"].startswith("v") and m["cpu_count"] >= 1 and m["date"].endswith("+00:00")
    assert data["settings"]["n"] == 12 and data["settings"]["warmup"] == 3
    assert set(data["versions"]) >= {"miniflare", "workerd", "edge-runtime"}


def test_every_runtime_implementation_and_scenario_is_measured(smoke):
    data, _ = smoke
    [case] = data["cases"]
    assert case["name"] == "jwt-auth"
    scenarios = {s["name"] for s in case["scenarios"]}
    assert scenarios == {"valid", "bad-signature"}
    seen = {(r["runtime"], r["implementation"], r["scenario"]) for r in data["results"]}
    assert seen == {(rt, impl, s) for rt in RUNTIMES for impl in ("edgeport", "reference") for s in scenarios}
    for r in data["results"]:
        assert r["case"] == "jwt-auth" and r["n"] == 12 and r["transport"]
        assert all(isinstance(r[k], (int, float)) and r[k] > 0 for k in STATS + ("req_per_s",))
        assert r["min_ms"] <= r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"]
        assert r["min_ms"] <= r["mean_ms"] <= r["max_ms"]
        assert 0 <= r["samples_with_node_gc"] <= r["n"]


def test_ratios_cold_starts_and_bundles(smoke):
    data, _ = smoke
    assert {(c["runtime"], c["scenario"]) for c in data["comparisons"]} == {(rt, s) for rt in RUNTIMES
                                                                             for s in ("valid", "bad-signature")}
    for c in data["comparisons"]:
        assert all(c[f"{k}_ratio"] > 0 for k in ("p50", "p90", "p99", "mean", "req_per_s"))
    assert {(c["runtime"], c["implementation"]) for c in data["cold_start"]} == {(rt, i) for rt in RUNTIMES
                                                                                 for i in ("edgeport", "reference")}
    for c in data["cold_start"]:
        assert c["runs"] == 1 and c["total_ms"] > 0 and c["load_ms"] >= 0 and c["first_request_ms"] > 0
    for b in data["bundles"]:
        # the edgeport side is the real `edgeport build` output, the reference side the seed sample
        assert b["edgeport"]["bundle"].endswith((".mjs", ".js")) and b["edgeport"]["bytes"] > 0
        assert "reference" in b["reference"]["bundle"] and b["reference"]["bytes"] > 0


def test_results_carry_no_secret_and_processes_are_gone(smoke):
    data, _ = smoke
    text = json.dumps(data)
    assert "Bearer" not in text and "EDGEPORT_SECRET" not in text
    assert measure_processes() == []


def test_table_shows_ratios(smoke):
    _, stdout = smoke
    assert "ratio p50" in stdout and "cold start" in stdout
    for rt in RUNTIMES:
        assert rt in stdout


def test_lambda_edge_stores_far_away(tmp_path):
    """--store-delay-ms / --aws-region: the Lambda@Edge stores behind an injected delay, read in the Region the
    handler would read (the nearest replica); the run records where the reads went."""
    data, stdout = run_smoke(tmp_path, "--cold-repeats", "1", "--case", "jwt-auth", "--runtime", "lambda-edge",
                             "--store-delay-ms", "300", "--aws-region", "eu-west-3")
    assert (data["settings"]["store_delay_ms"], data["settings"]["aws_region"]) == (300, "eu-west-3")
    # one read per process (the cold start, the warm run), from the replica nearest to eu-west-3; no A/B, no SSM
    assert data["store_calls"] == {"secretsmanager eu-west-2 GetSecretValue": 2}
    assert "300 ms injected" in stdout


def test_reference_implementations_say_where_they_come_from():
    sys.path.insert(0, str(BENCH))
    try:
        from cases import CASES
    finally:
        sys.path.remove(str(BENCH))
    files = sorted((BENCH / "reference").glob("*.ts"))
    declared = {f for c in CASES for f in c.reference.values()}
    assert {f.name for f in files} >= declared >= {f"{c}.{rt}.ts" for c in ("jwt-auth", *PATTERN_CASES) for rt in RUNTIMES}
    for f in files:
        head = f.read_text()[:3000].lower()
        assert "seed article" in head and "adaptations" in head, f.name
    for c in CASES:  # a runtime is either compared or says why not
        assert not set(c.reference) & set(c.not_compared), c.name


# ---------------------------------------------------------------- ab-test, geo-route, esi-compose

def test_pattern_cases_are_measured_on_every_runtime(patterns_smoke):
    data, _ = patterns_smoke
    cases = {c["name"]: c for c in data["cases"]}
    assert set(cases) == set(PATTERN_CASES)
    for name, scenarios in PATTERN_CASES.items():
        assert {s["name"] for s in cases[name]["scenarios"]} == scenarios
        rows = [r for r in data["results"] if r["case"] == name]
        assert {(r["runtime"], r["implementation"], r["scenario"]) for r in rows} == {
            (rt, impl, s) for rt in RUNTIMES for impl in ("edgeport", "reference") for s in scenarios}
        for r in rows:
            assert r["n"] == cases[name]["n"] >= 3  # scaled-down cases still time a few requests
            assert all(isinstance(r[k], (int, float)) and r[k] > 0 for k in STATS + ("req_per_s",))
            assert r["min_ms"] <= r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
        comps = [c for c in data["comparisons"] if c["case"] == name]
        assert {(c["runtime"], c["scenario"]) for c in comps} == {(rt, s) for rt in RUNTIMES for s in scenarios}
        assert all(c["p50_ratio"] > 0 and c["p99_ratio"] > 0 for c in comps)
    assert data["cold_start"] == []
    assert cases["geo-route"]["lambda_event"] == cases["esi-compose"]["lambda_event"] == "origin-request"
    assert {s["country"] for s in cases["geo-route"]["scenarios"]} == {"DE", "US"}


def test_esi_reports_time_to_first_byte_where_it_streams(patterns_smoke):
    data, stdout = patterns_smoke
    [case] = [c for c in data["cases"] if c["name"] == "esi-compose"]
    assert set(case["ttfb"]) == STREAMING
    for r in (r for r in data["results"] if r["case"] == "esi-compose"):
        if r["runtime"] in STREAMING:
            # every sample's first byte comes no later than its last, so every order statistic does too
            for k in STATS:
                assert 0 < r[f"ttfb_{k}"] <= r[k], (r["runtime"], r["implementation"], k)
        else:
            assert not any(k.startswith("ttfb_") for k in r), "Lambda@Edge answers are not streamed"
    ttfb = {c["runtime"] for c in data["comparisons"] if c["case"] == "esi-compose" and "ttfb_p50_ratio" in c}
    assert ttfb == STREAMING
    assert "time to first byte" in stdout and "diff p50" in stdout
    assert measure_processes() == []


def test_measure_checks_where_a_forward_goes(tmp_path):
    """A forward to another host than the case expects fails the run (e.g. geo routing to the wrong origin)."""
    mw = tmp_path / "middleware.js"
    mw.write_text('export default async function middleware(req) {\n'
                  '  return new Response(null, { headers: { "x-middleware-rewrite": "https://wrong.example.com/store/x" } });\n}\n')
    job = {"functionsDir": str(ROOT / "functions"), "runtime": "vercel", "mode": "warm", "n": 3, "warmup": 1, "rounds": 1,
           "impls": [{"name": "reference", "bundle": str(mw), "env": {}}], "origins": {}, "siteHost": "bench.example.com",
           "scenarios": [{"name": "de", "method": "GET", "host": "bench.example.com", "path": "/store/x", "country": "DE",
                          "headers": {"Host": "bench.example.com"},
                          "expect": {"reference": {"kind": "forward", "host": "api-eu.example.com", "path": "/store/x"}}}]}
    res = subprocess.run(["node", str(BENCH / "measure.mjs")], input=json.dumps(job), capture_output=True, text=True,
                         cwd=ROOT / "functions", timeout=60)
    assert res.returncode == 1
    assert "expected to go to host api-eu.example.com, went to wrong.example.com" in json.loads(res.stdout)["error"]


def test_measure_refuses_an_unexpected_outcome(tmp_path):
    """A request answered differently from the case's expectation fails the run instead of being timed."""
    mw = tmp_path / "middleware.js"
    mw.write_text('export default async function middleware() { return new Response("no", { status: 418 }); }\n')
    job = {"functionsDir": str(ROOT / "functions"), "runtime": "vercel", "mode": "warm", "n": 5, "warmup": 1, "rounds": 1,
           "impls": [{"name": "reference", "bundle": str(mw), "env": {}}],
           "scenarios": [{"name": "valid", "method": "GET", "host": "bench.example.com", "path": "/api/x",
                          "headers": {"Host": "bench.example.com"}, "expect": {"reference": {"kind": "forward"}}}]}
    res = subprocess.run(["node", str(BENCH / "measure.mjs")], input=json.dumps(job), capture_output=True, text=True,
                         cwd=ROOT / "functions", timeout=60)
    assert res.returncode == 1
    err = json.loads(res.stdout)["error"]
    assert "expected forward, got respond" in err and "418" in err
