"""bench/: the benchmark harness runs end to end in smoke mode and writes results of the documented
shape; the measuring script refuses to time a request whose outcome is not the expected one.
Nothing here asserts timing: only that numbers exist and are consistent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

BENCH = ROOT / "bench"
RUNTIMES = {"cloudflare", "vercel", "lambda-edge"}
STATS = ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "min_ms", "max_ms")
PATTERN_CASES = {"ab-test": {"first-visit", "returning"}, "geo-route": {"de", "us"}, "esi-compose": {"page"}}
STREAMING = {"cloudflare", "vercel"}  # where esi-compose reports time to first byte


# Every bench run these tests start carries this tag in its environment (which bench/run.py passes on to its Node
# processes), so the leftover-process check sees only this session's processes, not a `make bench` running beside it.
RUN_TAG = f"EDGEPORT_BENCH_TEST_RUN={os.getpid()}-{time.time_ns()}"


def measure_processes() -> list[str]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if str(BENCH / "measure.mjs") in cmd and RUN_TAG.encode() in (d / "environ").read_bytes().split(b"\0"):
                    out.append(cmd)
            except OSError:
                continue
    return out


def run_smoke(tmp: Path, *args: str) -> tuple[dict, str]:
    out = tmp / "results.json"
    cmd = [sys.executable, str(BENCH / "run.py"), "--quick", "--n", "12", "--warmup", "3", "--rounds", "2",
           *args, "--out", str(out), "--work", str(tmp / "work"), "--quiet"]
    key, value = RUN_TAG.split("=", 1)
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=180, env={**os.environ, key: value})
    assert res.returncode == 0, res.stderr
    return json.loads(out.read_text()), res.stdout


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return run_smoke(tmp_path_factory.mktemp("bench"), "--cold-repeats", "1", "--case", "jwt-auth")


@pytest.fixture(scope="module")
def patterns_smoke(tmp_path_factory):
    """The other cases in one run, without cold starts (the jwt-auth run covers those): keeps this file fast."""
    cases = [a for c in PATTERN_CASES for a in ("--case", c)]
    # the ESI latency sweep has a test of its own (below)
    return run_smoke(tmp_path_factory.mktemp("bench-patterns"), "--cold-repeats", "0", "--esi-latencies", "50", *cases)


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


# ---------------------------------------------------------------- peers: Hono + hono/jwt, Hono + jose, the floor

PEER_IMPLS = ("edgeport", "floor", "hono-jwt", "hono-jose")
PEER_SMOKE = {"jwt-rs256": {"valid", "bad-signature", "fresh"}, "chain": {"returning", "first-visit"}}


def ensure_peer_packages() -> None:
    """bench/node_modules as bench/package-lock.json pins it (what `make bench` installs with npm ci)."""
    installed = BENCH / "node_modules" / ".package-lock.json"
    lock = json.loads((BENCH / "package-lock.json").read_text())["packages"]
    if installed.exists():
        have = json.loads(installed.read_text())["packages"]
        if all(have.get(k, {}).get("version") == v.get("version") for k, v in lock.items() if k):
            return
    res = subprocess.run(["npm", "ci", "--prefix", str(BENCH), "--no-audit", "--no-fund", "--loglevel=error"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def peers_smoke(tmp_path_factory):
    """One JWT case (RS256: hono/jwk, jose's local JWK set) and the chain (hono/jwt and jose HS256, geo, A/B; on
    Lambda@Edge two triggers per request) on every runtime, every implementation's every answer checked."""
    ensure_peer_packages()
    cases = [a for c in PEER_SMOKE for a in ("--case", c)]
    return run_smoke(tmp_path_factory.mktemp("bench-peers"), "--cold-repeats", "0", *cases)


def test_peers_and_the_floor_are_measured_next_to_edgeport(peers_smoke):
    data, _ = peers_smoke
    cases = {c["name"]: c for c in data["cases"]}
    assert set(cases) == set(PEER_SMOKE)
    for name, scenarios in PEER_SMOKE.items():
        assert cases[name]["implementations"] == list(PEER_IMPLS)
        assert cases[name]["stack"] in ("bench/stacks/Pulumi.peers-jwt.yaml", "bench/stacks/Pulumi.peers-chain.yaml")
        rows = [r for r in data["results"] if r["case"] == name]
        assert {(r["runtime"], r["implementation"], r["scenario"]) for r in rows} == {
            (rt, i, s) for rt in RUNTIMES for i in PEER_IMPLS for s in scenarios}
        for r in rows:
            assert r["n"] == cases[name]["n"] >= 3
            assert r["min_ms"] <= r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
        comps = [c for c in data["peer_comparisons"] if c["case"] == name]
        assert {(c["runtime"], c["scenario"]) for c in comps} == {(rt, s) for rt in RUNTIMES for s in scenarios}
        for c in comps:
            assert set(c["vs"]) == {"hono-jwt", "hono-jose"}
            assert all(v[f"{k}_ratio"] > 0 for v in c["vs"].values() for k in ("p50", "p90", "p99", "mean"))
            assert set(c["above_floor_p50_us"]) == set(c["above_floor_p99_us"]) == {"edgeport", "hono-jwt", "hono-jose"}
            res = {r["implementation"]: r for r in rows if (r["runtime"], r["scenario"]) == (c["runtime"], c["scenario"])}
            for impl, us in c["above_floor_p50_us"].items():  # consistent with the results it comes from
                assert us == pytest.approx((res[impl]["p50_ms"] - res["floor"]["p50_ms"]) * 1000, abs=0.11)
    # the seed article's reference is not part of the peer cases; their comparisons are separate
    assert not [c for c in data["comparisons"] if c["case"] in PEER_SMOKE]
    assert data["cold_start"] == []
    assert cases["chain"]["lambda_chain"] == ["viewer-request", "origin-request"]
    assert data["versions"]["bench:hono"] != "?" and data["versions"]["bench:jose"] != "?"
    assert measure_processes() == []


def test_peer_bundle_sizes_next_to_edgeport(peers_smoke):
    data, stdout = peers_smoke
    rows = [b for b in data["bundles"] if b["case"] in PEER_SMOKE]
    assert {(b["case"], b["runtime"]) for b in rows} == {(c, rt) for c in PEER_SMOKE for rt in RUNTIMES}
    for b in rows:
        for impl in PEER_IMPLS:
            assert b[impl]["bytes"] > 0 and b[impl]["gzip_bytes"] > 0, (b["case"], b["runtime"], impl)
        # edgeport's side is the stack's `edgeport build` output, the peers' their bundles of bench/peers/
        assert "/build-peers-" in b["edgeport"]["bundle"] and "/work/peers/" in b["hono-jose"]["bundle"]
        if b["case"] == "chain" and b["runtime"] == "lambda-edge":
            # two functions per implementation; the sizes above are their sums
            for impl in PEER_IMPLS:
                parts = b[impl]["parts"]
                assert set(parts) == {"viewer-request", "origin-request"}
                assert b[impl]["bytes"] == sum(p["bytes"] for p in parts.values())
    assert "above floor" in stdout and "bundle bytes, minified / gzip" in stdout and "hono-jose" in stdout
    assert "Bearer" not in json.dumps(data)


def test_peer_packages_are_pinned_exactly():
    pkg = json.loads((BENCH / "package.json").read_text())
    lock = json.loads((BENCH / "package-lock.json").read_text())["packages"]
    assert set(pkg["dependencies"]) >= {"hono", "jose"}
    for name, version in pkg["dependencies"].items():
        assert version[0].isdigit() and not any(c in version for c in "^~<>*| "), (name, version)
        assert lock[f"node_modules/{name}"]["version"] == version
    # the peers are not functions/' dependencies: nothing of theirs leaks into edgeport's own build
    assert "hono" not in json.loads((ROOT / "functions" / "package.json").read_text()).get("dependencies", {})


def test_peer_sources_cite_their_docs():
    files = sorted((BENCH / "peers").rglob("*.ts"))
    assert len(files) >= 15
    for f in files:
        head = f.read_text()[:1500]
        assert head.startswith("//") and "https://" in head, f.relative_to(BENCH)


def test_measure_checks_the_answer_to_a_forward(tmp_path):
    """A forward whose answer lacks a header the case expects on it (an A/B first visit's Set-Cookie) fails the run."""
    mw = tmp_path / "middleware.js"
    mw.write_text('export default async function middleware() {\n'
                  '  return new Response(null, { headers: { "x-middleware-next": "1" } });\n}\n')
    job = {"functionsDir": str(ROOT / "functions"), "runtime": "vercel", "mode": "warm", "n": 3, "warmup": 1, "rounds": 1,
           "impls": [{"name": "hono-jwt", "bundle": str(mw), "env": {}}], "origins": {}, "siteHost": "bench.example.com",
           "scenarios": [{"name": "first-visit", "method": "GET", "host": "bench.example.com", "path": "/shop/x",
                          "headers": {"Host": "bench.example.com"},
                          "expect": {"hono-jwt": {"kind": "forward", "responseHeaders": {"set-cookie": True}}}}]}
    res = subprocess.run(["node", str(BENCH / "measure.mjs")], input=json.dumps(job), capture_output=True, text=True,
                         cwd=ROOT / "functions", timeout=60)
    assert res.returncode == 1
    assert 'answer header set-cookie: expected true, got undefined' in json.loads(res.stdout)["error"]


def test_measure_runs_lambda_triggers_in_turn(tmp_path):
    """Lambda@Edge with two triggers per request: origin-request gets viewer-request's record plus what CloudFront
    adds (the distribution's origin, Host, the viewer's country); only that implementation gets its implHeaders."""
    vr, orq = tmp_path / "vr.js", tmp_path / "or.js"
    vr.write_text('exports.handler = async (e) => { const r = e.Records[0].cf.request;\n'
                  '  r.headers["x-seen"] = [{ key: "x-seen", value: r.headers["x-only-me"] ? "marked" : "plain" }]; return r; };\n')
    orq.write_text('exports.handler = async (e) => { const r = e.Records[0].cf.request;\n'
                   '  if (e.Records[0].cf.config.eventType !== "origin-request") throw new Error("wrong trigger");\n'
                   '  const c = r.headers["cloudfront-viewer-country"][0].value;\n'
                   '  r.origin.custom.domainName = c.toLowerCase() + ".example.com";\n'
                   '  r.headers.host = [{ key: "Host", value: r.origin.custom.domainName }]; return r; };\n')
    impl = lambda name: {"name": name, "bundle": str(vr), "bundles": {"viewer-request": str(vr), "origin-request": str(orq)}}  # noqa: E731
    want = lambda seen: {"kind": "forward", "host": "de.example.com", "headers": {"x-seen": seen}}  # noqa: E731
    job = {"functionsDir": str(ROOT / "functions"), "runtime": "lambda-edge", "mode": "warm", "n": 4, "warmup": 1, "rounds": 2,
           "events": ["viewer-request", "origin-request"], "impls": [impl("a"), impl("b")],
           "origins": {"default": "https://origin.bench.example.com"}, "siteHost": "bench.example.com",
           "scenarios": [{"name": "de", "method": "GET", "host": "bench.example.com", "path": "/shop/x", "country": "DE",
                          "headers": {"Host": "bench.example.com"}, "implHeaders": {"b": {"x-only-me": "1"}},
                          "expect": {"a": want("plain"), "b": want("marked")}}]}
    res = subprocess.run(["node", str(BENCH / "measure.mjs")], input=json.dumps(job), capture_output=True, text=True,
                         cwd=ROOT / "functions", timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert {(r["implementation"], r["n"]) for r in out["results"]} == {("a", 4), ("b", 4)}


def test_peer_sources_type_check():
    """The peers compile as a Hono user's TypeScript would (hono's and jose's own types, strict)."""
    ensure_peer_packages()
    res = subprocess.run([str(ROOT / "functions" / "node_modules" / ".bin" / "tsc"), "-p", str(BENCH / "peers" / "tsconfig.json")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_profile_attributes_time_to_edgeport_sources(tmp_path):
    """--profile: edgeport's warm requests under V8's sampling profiler, frames mapped back to functions/ sources
    through the engine's source map (Lambda@Edge: the handler in this process)."""
    ensure_peer_packages()
    out = tmp_path / "profile.json"
    latest = BENCH / "results" / "latest.json"
    before = latest.stat().st_mtime_ns if latest.exists() else None
    res = subprocess.run([sys.executable, str(BENCH / "run.py"), "--profile", "--case", "jwt-hs256", "--runtime", "lambda-edge",
                          "--n", "150", "--warmup", "10", "--out", str(out), "--work", str(tmp_path / "work"), "--quiet"],
                         capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert data["results"] == [] and (latest.stat().st_mtime_ns if latest.exists() else None) == before
    [p] = data["profiles"]
    assert (p["case"], p["runtime"], p["implementation"]) == ("jwt-hs256", "lambda-edge", "edgeport")
    assert {s["scenario"] for s in p["scenarios"]} == {"valid", "bad-signature", "fresh"}
    seen = []
    for s in p["scenarios"]:
        where = [x["where"] for x in s["top_total"]]
        # every scenario's time reaches edgeport's own code, mapped back through the engine's source map
        assert any(w.startswith(("src/", "platforms/lambda-edge/")) for w in where), where
        assert all(x["us_per_request"] >= 0 and 0 <= x["share"] <= 1 for x in s["top_total"] + s["top_self"])
        seen += where
    # and the JWT pattern's own source shows up (which scenario lists it varies: a cache hit, and since the synchronous
    # node:crypto module also a miss, leaves jwt.ts only a few samples at this n)
    assert any(w.startswith("src/patterns/jwt.ts:") for w in seen), seen
    assert "where (total" in res.stdout


# ---------------------------------------------------------------- #14 items 5 and 6: cold start vs the floor, ESI sweep

def test_peer_cold_start_next_to_the_floor(tmp_path):
    """Peer cases start edgeport and the floor cold (not the peers); Lambda@Edge says whether the first request waited
    for a store: HS256 reads its secret from Secrets Manager, the floor reads nothing."""
    ensure_peer_packages()
    data, stdout = run_smoke(tmp_path, "--cold-repeats", "1", "--case", "jwt-hs256", "--runtime", "vercel",
                             "--runtime", "lambda-edge")
    assert {(c["runtime"], c["implementation"]) for c in data["cold_start"]} == {
        (rt, i) for rt in ("vercel", "lambda-edge") for i in ("edgeport", "floor")}
    [case] = data["cases"]
    assert case["cold_implementations"] == ["edgeport", "floor"]
    rows = {r["runtime"]: r for r in data["cold_start_vs_floor"]}
    assert set(rows) == {"vercel", "lambda-edge"}
    for r in rows.values():
        assert r["case"] == "jwt-hs256" and r["runs"] == 1
        for k in ("total_ms", "load_ms", "first_request_ms"):
            assert r[f"edgeport_{k}"] > 0 and r[f"floor_{k}"] > 0
        assert r["above_floor_ms"] == pytest.approx(r["edgeport_total_ms"] - r["floor_total_ms"], abs=0.011)
    assert "store_read" not in rows["vercel"] and rows["lambda-edge"]["store_read"] is True
    cold = {c["implementation"]: c for c in data["cold_start"] if c["runtime"] == "lambda-edge"}
    [edge_sample], [floor_sample] = cold["edgeport"]["store_calls"], cold["floor"]["store_calls"]
    # the HS256 secret was read, and had arrived by the time the first response was complete
    read = [c for c in edge_sample["calls"] if c["action"] == "secretsmanager.GetSecretValue"]
    assert read and read[0]["end_ms"] is not None and read[0]["end_ms"] <= edge_sample["first_response_at_ms"]
    assert floor_sample["calls"] == [] and cold["floor"]["store_read"] is False
    assert "edgeport - floor" in stdout and "store read" in stdout
    assert measure_processes() == []


def test_esi_latency_sweep(tmp_path):
    """esi-compose at several fragment latencies: TTFB (where the page streams) and total per latency, both sides;
    the slower scenarios run fewer requests; the delay reaches the origin stand-in through the viewer's cookie."""
    latencies = [0, 50, 120]
    data, stdout = run_smoke(tmp_path, "--cold-repeats", "0", "--case", "esi-compose",
                             "--esi-latencies", ",".join(map(str, latencies)))
    assert data["settings"]["esi_latencies_ms"] == latencies
    [case] = data["cases"]
    delays = {s["name"]: s["fragment_delay_ms"] for s in case["scenarios"]}
    assert delays == {"page": 50, "fragment-0ms": 0, "fragment-120ms": 120}
    assert case["scenarios"][0]["name"] == "page"  # cold starts use the first scenario: unchanged
    rows = data["esi_latency"]
    assert {(r["runtime"], r["fragment_delay_ms"]) for r in rows} == {(rt, ms) for rt in RUNTIMES for ms in latencies}
    for r in rows:
        assert r["n"] >= 3 and r["edgeport_p50_ms"] > 0 and r["reference_p50_ms"] > 0
        assert r["total_diff_p50_ms"] == pytest.approx(r["edgeport_p50_ms"] - r["reference_p50_ms"], abs=0.002)
        if r["runtime"] in STREAMING:
            assert 0 < r["edgeport_ttfb_p50_ms"] <= r["edgeport_p50_ms"]
            assert 0 < r["reference_ttfb_p50_ms"] <= r["reference_p50_ms"]
        else:
            assert "edgeport_ttfb_p50_ms" not in r
        # the page needs the slow fragment on both sides: its delay reached the origin stand-in (not a speed check)
        assert r["reference_p50_ms"] >= 0.9 * r["fragment_delay_ms"]
    assert "by fragment latency" in stdout
    assert measure_processes() == []


def test_esi_latencies_option_is_checked():
    res = subprocess.run([sys.executable, str(BENCH / "run.py"), "--esi-latencies", "50,fast"], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 2 and "comma-separated list of milliseconds" in res.stderr
