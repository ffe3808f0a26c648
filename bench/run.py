"""edgeport benchmarks: in-runtime latency of edgeport's built bundles against the seed
article's reference implementations, per pattern (case) and per runtime; and against its peers (Hono +
hono/jwt or hono/jwk, Hono + jose) and an empty handler (the floor) for JWT HS256/RS256/ES256 and the
geo -> auth -> ab chain.

    make bench                          # full run, writes bench/results/latest.json (commit it)
    .venv/bin/python bench/run.py --quick                # shorter run, writes .edgeport/bench/last.json
    .venv/bin/python bench/run.py --case jwt-auth --runtime vercel --n 500 --out /tmp/b.json
    .venv/bin/python bench/run.py --runtime lambda-edge --store-delay-ms 1000 --aws-region eu-west-3   # far stores

Steps: build the bench stacks with `edgeport build` (the real bundles; the peers' JWT stack with a fresh RS256 and
ES256 key pair), bundle the reference implementations and the peers (bench/peers/, npm packages pinned in
bench/package.json, installed by `make bench` with `npm ci --prefix bench`) with the same esbuild settings, mint
tokens once, start a moto server for
Lambda@Edge's Secrets Manager and SSM (live A/B ratios) - with --store-delay-ms behind a StoreProxy
that delays every call (edgeport.local.store_proxy) - then run bench/measure.mjs in fresh
Node processes: per case and runtime one warm process (both implementations, interleaved) and a
few cold-start processes per implementation. Every Node process runs in its own process group
and is killed with it.
See docs/benchmarks.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import secrets as random_secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

try:
    from edgeport.build import functions_dir, node_binary
    from edgeport.errors import EdgeportError
    from edgeport.local.aws import LocalAws
    from edgeport.local.store_proxy import StoreProxy
    from edgeport.spec.loader import load_stack
    from edgeport.targets import profile
except ImportError:  # pragma: no cover - wrong interpreter
    sys.exit("bench/run.py needs the project's virtualenv: run `make bench` (or .venv/bin/python bench/run.py)")
try:
    from edgeport.spec.secret_refs import env_name
except ImportError:  # pragma: no cover - older layout
    from edgeport.spec.secrets import env_name

from cases import CASES, ESI_LATENCIES, FLOOR, HOST, PEERS, RUNTIMES, Case, Context  # noqa: E402

STACK = "bench"
SCHEMA = 1
FULL = {"n": 5000, "warmup": 500, "rounds": 10, "cold_repeats": 3}
QUICK = {"n": 200, "warmup": 40, "rounds": 4, "cold_repeats": 1}
NODE_TIMEOUT = 300.0
SETTLE_MS = 1000  # Lambda@Edge warm runs: untimed pause after the warm-up (measure.mjs settle())
STOP_GRACE = 3.0
VERSION_PACKAGES = ["miniflare", "workerd", "edge-runtime", "@edge-runtime/vm", "esbuild", "@aws-sdk/client-secrets-manager"]
PEER_PACKAGES = ["hono", "jose", "@vercel/functions"]  # bench/package.json, exact pins
KEY_ALGS = ("RS256", "ES256")
PROFILE_INTERVAL_US = 50  # --profile: V8's sampling interval  # the peers-jwt stack's asymmetric patterns: a fresh key pair per run


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- processes

def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL after a grace period; always sweep the group
    afterwards (workerd can outlive its parent and keep draining connections)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(STOP_GRACE)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(STOP_GRACE)


def run_node(script: Path, job: dict[str, Any], env: dict[str, str], what: str) -> dict[str, Any]:
    """Run a bench Node script with the job on stdin (it may carry secrets); return its JSON."""
    proc = subprocess.Popen([node_binary(), "--disable-warning=NodeVersionSupportWarning", str(script)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=functions_dir(), start_new_session=True)
    try:
        out, err = proc.communicate(json.dumps(job), timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: no answer within {NODE_TIMEOUT:.0f} s") from None
    finally:
        _kill_group(proc)
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = None
    if proc.returncode != 0 or not isinstance(res, (dict, list)) or (isinstance(res, dict) and "error" in res):
        detail = res.get("error") if isinstance(res, dict) and "error" in res else (err.strip()[-2000:] or out[-2000:])
        if isinstance(res, dict) and "error" in res and err.strip():  # e.g. workerd's own log of why it did not start
            detail += "\n" + err.strip()[-1500:]
        raise BenchError(f"{what} failed: {detail}")
    return res


def node_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEPORT_SECRET_", "AWS_"))}
    env.update({"CLOUDFLARE_CF_FETCH_ENABLED": "false", "WRANGLER_SEND_METRICS": "false"})
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- building

def build_edgeport(work: Path, stack: str = STACK, project_dir: Path = BENCH) -> dict[str, Any]:
    """`edgeport build` of a bench stack, exactly as a user runs it; returns the manifest."""
    out = work / ("build" if stack == STACK else f"build-{stack}")
    cli = Path(sys.executable).with_name("edgeport")
    cmd = [str(cli), "build", "--stack", stack, "--project-dir", str(project_dir), "--out", str(out), "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise BenchError(f"edgeport build --stack {stack} failed:\n{res.stderr.strip() or res.stdout.strip()}")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["_dir"] = str(out)
    return manifest


def peer_keys() -> dict[str, tuple[Any, Any]]:
    """alg -> (the key pair the peers-jwt stack trusts, another one whose signatures must fail), fresh per run."""
    from edgeport.patterns.jwt_auth import new_private_key

    return {alg: (new_private_key(alg), new_private_key(alg)) for alg in KEY_ALGS}


def keyed_project(work: Path, stack: str, keys: dict[str, tuple[Any, Any]]) -> Path:
    """A project directory holding bench/stacks/Pulumi.<stack>.yaml with its PLACEHOLDER_<alg> keys replaced by
    this run's public keys (JSON is YAML)."""
    from edgeport.patterns.jwt_auth import public_jwk

    text = (BENCH / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    for alg, (trusted, _other) in keys.items():
        text = text.replace(f"PLACEHOLDER_{alg}", json.dumps(public_jwk(trusted, alg)))
    if "PLACEHOLDER_" in text:
        raise BenchError(f"Pulumi.{stack}.yaml has a key placeholder this run has no key for")
    d = work / f"project-{stack}"
    (d / "stacks").mkdir(parents=True, exist_ok=True)
    (d / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    return d


def peer_settings(apps: dict[str, Any], keys: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """What the peers are configured with (bench/peers/lib/settings.ts): the edgeport stacks' own settings."""
    from edgeport.patterns.ab_test import ab_cookie, ab_header
    from edgeport.patterns.geo_route import geo
    from edgeport.patterns.jwt_auth import public_jwk

    out: dict[str, Any] = {}
    if "peers-jwt" in apps:
        app = apps["peers-jwt"]
        hs = next(p for p in app.patterns if p.name == "auth-hs256")
        out.update({"issuer": hs.issuer, "audience": hs.audience if isinstance(hs.audience, str) else hs.audience[0],
                    "leeway": hs.leeway, "jwks": {alg: public_jwk(k[0], alg) for alg, k in keys.items()}})
    if "peers-chain" in apps:
        app = apps["peers-chain"]
        by = {p.type: p for p in app.patterns}
        g, a, j = by["geo-route"], by["ab-test"], by["jwt-auth"]
        host = {o: str(u).split("//", 1)[1].rstrip("/") for o, u in app.origins.items()}
        out.update({"issuer": j.issuer, "audience": j.audience if isinstance(j.audience, str) else j.audience[0],
                    "leeway": j.leeway})
        out.update({"countries": {c: host[r.origin] for r in g.rules for c in sorted(geo.expand(r.countries))},
                    "fallbackOrigin": host[g.default],
                    "experiment": {"cookie": ab_cookie(a), "header": ab_header(a), "maxAge": a.cookie_max_age,
                                   "variants": [{"name": v.name, "weight": v.weight, **({"path": v.path} if v.path else {})}
                                                for v in a.variants]}})
    out.setdefault("jwks", {alg: public_jwk(k[0], alg) for alg, k in keys.items()})
    out.setdefault("countries", {})
    out.setdefault("fallbackOrigin", HOST)
    out.setdefault("experiment", {"cookie": "", "header": "", "maxAge": 0, "variants": []})
    return out


def peer_entries(case: Case, rt: str) -> dict[str, dict[str, str]]:
    """implementation -> Lambda@Edge event (or "" elsewhere) -> entry file under bench/peers/."""
    events = case.lambda_events() if rt == "lambda-edge" else ("",)
    out: dict[str, dict[str, str]] = {FLOOR: {e: f"floor.{rt}.ts" for e in events}}
    for peer in PEERS:
        if rt == "lambda-edge" and len(events) > 1:
            # one function per trigger; a trigger without token work is the same Hono app for both peers
            out[peer] = {e: (f"{case.peer_group}/{peer}.{rt}.{e}.ts"
                             if (BENCH / "peers" / case.peer_group / f"{peer}.{rt}.{e}.ts").exists()
                             else f"{case.peer_group}/hono.{rt}.{e}.ts") for e in events}
        else:
            out[peer] = {e: f"{case.peer_group}/{peer}.{rt}.ts" for e in events}
    return out


def build_peers(cases: list[Case], runtimes: list[str], secrets: dict[str, str], settings: dict[str, Any],
                work: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Bundle every peer entry the cases need, once each; returns (entry, runtime) -> {outfile, bytes, gzip_bytes}."""
    wanted: dict[tuple[str, str], Case] = {}
    for case in cases:
        if case.peer_group:
            for rt in runtimes:
                for by_event in peer_entries(case, rt).values():
                    for entry in by_event.values():
                        wanted.setdefault((entry, rt), case)
    if not wanted:
        return {}
    if not (BENCH / "node_modules" / "hono" / "package.json").exists():
        raise BenchError("the peers' packages are not installed: run `npm ci --prefix bench` (make bench does)")
    bundles, keys = [], []
    for (entry, rt), case in sorted(wanted.items()):
        name = entry.removesuffix(".ts").replace("/", "-")
        out = work / "peers" / rt / f"{name}.{'js' if rt == 'lambda-edge' else 'mjs' if rt == 'cloudflare' else 'js'}"
        define = {"__PEER_SETTINGS__": settings}
        if rt == "lambda-edge":  # no environment variables there: the secret is a build-time constant
            define["__JWT_SECRET__"] = secrets[case.reference_secrets.get("JWT_SECRET", "jwt_hmac")]
        bundles.append({"target": rt, "entry": str(BENCH / "peers" / entry), "outfile": str(out), "define": define})
        keys.append((entry, rt))
    report = run_node(BENCH / "build-reference.mjs",
                      {"functionsDir": str(functions_dir()), "benchDir": str(BENCH), "bundles": bundles},
                      node_env(), "bundling the peers")
    return {k: {**r, "gzip_bytes": gzip_size(Path(r["outfile"]))} for k, r in zip(keys, report)}


def gzip_size(path: Path) -> int:
    """gzip -9 size, as `edgeport build` reports its bundles' (gzipBytes)."""
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def build_references(cases: list[Case], runtimes: list[str], secrets: dict[str, str], work: Path) -> dict:
    bundles, keys = [], []
    for case in cases:
        for rt in runtimes:
            if rt not in case.reference:
                continue
            out = work / "reference" / case.name / rt / ("index.js" if rt == "lambda-edge" else
                                                         "worker.mjs" if rt == "cloudflare" else "middleware.js")
            define = ({f"__{k}__": secrets[s] for k, s in case.reference_secrets.items()} if rt == "lambda-edge" else {})
            bundles.append({"target": rt, "entry": str(BENCH / "reference" / case.reference[rt]), "outfile": str(out),
                            "define": define})
            keys.append((case.name, rt))
    if not bundles:
        return {}
    report = run_node(BENCH / "build-reference.mjs", {"functionsDir": str(functions_dir()), "bundles": bundles},
                      node_env(), "bundling the reference implementations")
    return {k: r for k, r in zip(keys, report)}


# ---------------------------------------------------------------- jobs

def edgeport_impl(manifest: dict, case: Case, rt: str, secrets: dict[str, str]) -> dict[str, Any]:
    base = Path(manifest["_dir"])
    events = case.lambda_events() if rt == "lambda-edge" else (None,)
    arts = [next((a for a in manifest["artifacts"] if a["target"] == rt and (rt != "lambda-edge" or a["event"] == e)), None)
            for e in events]
    if None in arts:
        raise BenchError(f"the {case.stack} build has no {rt} bundle for {case.name} ({', '.join(str(e) for e in events)})")
    a = arts[0]
    impl: dict[str, Any] = {"name": "edgeport", "bundle": str(base / a["file"]), "bytes": a["bytes"], "gzip_bytes": a["gzipBytes"]}
    if len(arts) > 1:
        impl["bundles"] = {x["event"]: str(base / x["file"]) for x in arts}
        impl["parts"] = {x["event"]: {"bundle": str(base / x["file"]), "bytes": x["bytes"], "gzip_bytes": x["gzipBytes"]} for x in arts}
        impl["bytes"], impl["gzip_bytes"] = sum(x["bytes"] for x in arts), sum(x["gzipBytes"] for x in arts)
    if rt != "lambda-edge":  # Lambda@Edge reads Secrets Manager (moto) instead
        impl["env"] = {env_name(s): secrets[s] for s in a["secrets"]}
    if rt == "vercel" and ((manifest.get("targets") or {}).get("vercel") or {}).get("edgeConfig"):
        impl["liveStore"] = True  # measure.mjs serves the live settings from an Edge Config stand-in
    return impl


def cf_settings(manifest: dict) -> dict[str, Any]:
    """The manifest's Cloudflare settings (compatibility date/flags, hostname, KV, Durable Objects)."""
    settings = (manifest.get("targets") or {}).get("cloudflare") or manifest.get("cloudflare") or {}
    if "compatibilityDate" not in settings:
        raise BenchError("the build manifest has no Cloudflare compatibility date (targets.cloudflare.compatibilityDate)")
    return settings


def peer_impl(name: str, built: dict, case: Case, rt: str, secrets: dict[str, str]) -> dict[str, Any]:
    """A peer or the floor: one bundle, or one per Lambda@Edge trigger (sizes: their sum)."""
    parts = {e: built[(entry, rt)] for e, entry in peer_entries(case, rt)[name].items()}
    first = next(iter(parts.values()))
    impl: dict[str, Any] = {"name": name, "bundle": first["outfile"], "bytes": sum(p["bytes"] for p in parts.values()),
                            "gzip_bytes": sum(p["gzip_bytes"] for p in parts.values())}
    if len(parts) > 1:
        impl["bundles"] = {e: p["outfile"] for e, p in parts.items()}
        impl["parts"] = {e: {"bundle": p["outfile"], "bytes": p["bytes"], "gzip_bytes": p["gzip_bytes"]} for e, p in parts.items()}
    if rt != "lambda-edge":
        impl["env"] = {k: secrets[s] for k, s in case.reference_secrets.items()}
    return impl


def reference_impl(ref: dict, case: Case, rt: str, secrets: dict[str, str]) -> dict[str, Any]:
    impl: dict[str, Any] = {"name": "reference", "bundle": ref["outfile"], "bytes": ref["bytes"]}
    if rt != "lambda-edge":
        impl["env"] = {k: secrets[s] for k, s in case.reference_secrets.items()}
    if case.reference_cache.get(rt):
        impl["cache"] = case.reference_cache[rt]
    return impl


def public(impl: dict[str, Any]) -> dict[str, Any]:
    """What a job may say in the results (no secrets, no configs)."""
    out = {"bundle": os.path.relpath(impl["bundle"], ROOT), "bytes": impl["bytes"]}
    if "gzip_bytes" in impl:
        out["gzip_bytes"] = impl["gzip_bytes"]
    if "parts" in impl:  # Lambda@Edge triggers run in turn: each function's bundle (bytes above: their sum)
        out["parts"] = {e: {**p, "bundle": os.path.relpath(p["bundle"], ROOT)} for e, p in impl["parts"].items()}
    return out


def job_impl(impl: dict[str, Any]) -> dict[str, Any]:
    """What measure.mjs gets of an implementation."""
    return {k: v for k, v in impl.items() if k not in ("parts", "gzip_bytes")}


# ---------------------------------------------------------------- facts

def machine_facts() -> dict[str, Any]:
    node = node_binary()
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "node": subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def package_versions() -> dict[str, str]:
    out = {}
    for pkg in VERSION_PACKAGES:
        try:
            out[pkg] = json.loads((functions_dir() / "node_modules" / pkg / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            out[pkg] = "?"
    for pkg in PEER_PACKAGES:  # the peers' own (bench/node_modules)
        try:
            out[f"bench:{pkg}"] = json.loads((BENCH / "node_modules" / pkg / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            out[f"bench:{pkg}"] = "?"
    return out


# ---------------------------------------------------------------- run

def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else None  # never 0 in practice; JSON has no infinity


def _case_info(case: Case, defined: list, settings: dict[str, int], runtimes: list[str]) -> dict[str, Any]:
    cs = case.settings(settings)
    return {"name": case.name, "title": case.title, "pattern": case.pattern, "stack": f"bench/stacks/Pulumi.{case.stack}.yaml",
            "implementations": case.implementations(),
            "scenarios": [{**s.info(), **(case.scenario_settings(settings, s) or {})} for s in defined],
            "reference": {rt: f"bench/reference/{f}" for rt, f in case.reference.items()},
            **({"peers": {rt: {name: [f"bench/peers/{e}" for e in dict.fromkeys(by.values())]
                               for name, by in peer_entries(case, rt).items()} for rt in runtimes}}
               if case.peer_group else {}),
            "not_compared": {rt: why for rt, why in case.not_compared.items() if rt in runtimes},
            "n": cs["n"], "warmup": cs["warmup"],
            "ttfb": [rt for rt in case.ttfb if rt in runtimes],
            "lambda_event": case.lambda_event,
            **({"lambda_chain": list(case.lambda_chain)} if case.lambda_chain else {}),
            "cold_start": case.cold,
            **({"cold_implementations": case.cold_implementations()} if case.cold_impls else {}),
            "notes": case.notes}


def _peer_comparison(case: Case, rt: str, scenario: str, by: dict) -> dict[str, Any]:
    """edgeport / each peer (p50, p90, p99, mean) and every implementation's microseconds above the floor."""
    e, floor = by[(scenario, "edgeport")], by[(scenario, FLOOR)]
    us = lambda a, b: round((a - b) * 1000, 1)  # noqa: E731
    return {"case": case.name, "runtime": rt, "scenario": scenario,
            "vs": {p: {f"{k}_ratio": _ratio(e[f"{k}_ms"], by[(scenario, p)][f"{k}_ms"]) for k in ("p50", "p90", "p99", "mean")}
                   for p in PEERS},
            "above_floor_p50_us": {i: us(by[(scenario, i)]["p50_ms"], floor["p50_ms"]) for i in ("edgeport", *PEERS)},
            "above_floor_p99_us": {i: us(by[(scenario, i)]["p99_ms"], floor["p99_ms"]) for i in ("edgeport", *PEERS)},
            # the target of #14: edgeport's cost above the floor as a share of each peer's (p50)
            "above_floor_share": {p: _ratio(us(e["p50_ms"], floor["p50_ms"]), us(by[(scenario, p)]["p50_ms"], floor["p50_ms"]))
                                  for p in PEERS}}


def cold_vs_floor(cold: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """#14 item 5: per peer case and runtime, edgeport's cold start next to the floor's (the empty handler started the
    same way): medians, and edgeport - floor for the total, the load and the first request."""
    by = {(c["case"], c["runtime"], c["implementation"]): c for c in cold}
    out = []
    for (case, rt, impl), e in by.items():
        f = by.get((case, rt, FLOOR))
        if impl != "edgeport" or f is None:
            continue
        row = {"case": case, "runtime": rt, "runs": min(e["runs"], f["runs"]),
               **{f"edgeport_{k}": e[k] for k in ("total_ms", "load_ms", "first_request_ms")},
               **{f"floor_{k}": f[k] for k in ("total_ms", "load_ms", "first_request_ms")},
               "above_floor_ms": round(e["total_ms"] - f["total_ms"], 2),
               "above_floor_load_ms": round(e["load_ms"] - f["load_ms"], 2),
               "above_floor_first_request_ms": round(e["first_request_ms"] - f["first_request_ms"], 2),
               "ratio": _ratio(e["total_ms"], f["total_ms"])}
        if "store_read" in e:
            row["store_read"] = e["store_read"]
        out.append(row)
    return out


def esi_latency(case_info: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """#14 item 6: esi-compose per runtime and fragment latency: time to first byte (where the page streams) and total
    time at p50, edgeport next to the seed article's buffered reference."""
    info = next((c for c in case_info if c["name"] == "esi-compose"), None)
    if info is None:
        return []
    delays = {s["name"]: s["fragment_delay_ms"] for s in info["scenarios"] if "fragment_delay_ms" in s}
    res = {(r["runtime"], r["scenario"], r["implementation"]): r for r in results if r["case"] == "esi-compose"}
    out = []
    for (rt, scenario, impl), e in res.items():
        ref = res.get((rt, scenario, "reference"))
        if impl != "edgeport" or ref is None or scenario not in delays:
            continue
        row: dict[str, Any] = {"runtime": rt, "fragment_delay_ms": delays[scenario], "scenario": scenario, "n": e["n"],
                               "edgeport_p50_ms": e["p50_ms"], "reference_p50_ms": ref["p50_ms"],
                               "total_diff_p50_ms": round(e["p50_ms"] - ref["p50_ms"], 3)}
        if "ttfb_p50_ms" in e:
            row.update({"edgeport_ttfb_p50_ms": e["ttfb_p50_ms"], "reference_ttfb_p50_ms": ref["ttfb_p50_ms"],
                        "ttfb_diff_p50_ms": round(e["ttfb_p50_ms"] - ref["ttfb_p50_ms"], 3)})
        out.append(row)
    return sorted(out, key=lambda r: (RUNTIMES.index(r["runtime"]), r["fragment_delay_ms"]))


def measure(args, settings: dict[str, int], cases: list[Case], runtimes: list[str], log) -> dict[str, Any]:
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    machine = machine_facts()  # first: the load average before the bench adds its own
    stacks = list(dict.fromkeys(c.stack for c in cases if c.implementations() and (c.reference or c.peer_group)))
    keys = peer_keys() if "peers-jwt" in stacks else {}
    manifests, apps = {}, {}
    for stack in stacks:
        log(f"building stack {stack!r} with edgeport build ...")
        project = keyed_project(work, stack, keys) if stack == "peers-jwt" else BENCH
        manifests[stack] = build_edgeport(work, stack, project)
        apps[stack] = load_stack(stack, project).app
    secret_names = sorted({s for m in manifests.values() for a in m["artifacts"] for s in a["secrets"]})
    secrets = {s: random_secrets.token_urlsafe(48) for s in secret_names}  # same value for every side
    for case in cases:
        for s in case.reference_secrets.values():
            secrets.setdefault(s, random_secrets.token_urlsafe(48))
    refs = build_references(cases, runtimes, secrets, work)
    peers = build_peers(cases, runtimes, secrets, peer_settings(apps, keys), work)

    aws: LocalAws | None = None
    proxy: StoreProxy | None = None
    aws_env: dict[str, str] = {}
    results, cold, comparisons, peer_comparisons, bundles, case_info, profiles = [], [], [], [], [], [], []
    try:
        if "lambda-edge" in runtimes and manifests:
            log("starting moto (Secrets Manager for Lambda@Edge) ...")
            aws = LocalAws().start()
            mod = profile("lambda-edge")
            for stack, m in manifests.items():
                for s in sorted({s for a in m["artifacts"] for s in a["secrets"]}):
                    aws.put_secret(mod.secret_id(apps[stack], stack, s), secrets[s], mod.secret_regions(apps[stack])[1:])
            aws_env = aws.env()
            if args.store_delay_ms:
                proxy = StoreProxy(aws.endpoint, args.store_delay_ms).start()
                aws_env.update({"AWS_ENDPOINT_URL_SECRETS_MANAGER": proxy.url, "AWS_ENDPOINT_URL_SSM": proxy.url})
            if args.aws_region:
                aws_env["AWS_REGION"] = args.aws_region
            # live A/B ratios, seeded with the declared ones as a deployment would
            ssm = aws.client("ssm")
            for m in manifests.values():
                for key, value in ((m.get("targets") or {}).get("lambda-edge") or {}).get("live", {}).items():
                    ssm.put_parameter(Name=key, Value=value, Type="String", Overwrite=True)
        for case in cases:
            if case.stack not in manifests:  # nothing to measure (realtime-room): listed with its reasons
                case_info.append(_case_info(case, [], settings, runtimes))
                continue
            manifest = manifests[case.stack]
            ctx = Context(app=apps[case.stack], stack=case.stack, secrets=secrets, keys=keys,
                          esi_latencies=tuple(args.esi_latencies))
            defined = case.scenarios(ctx)  # tokens etc. are made once, here
            # a scenario may run a fraction of the case's n (the ESI latency sweep's slow fragments)
            scenarios = [{**s.to_job(), **(case.scenario_settings(settings, s) or {})} for s in defined]
            cs = case.settings(settings)
            # Lambda@Edge cold start: whether edgeport's first request needs a value from a store (a secret from
            # Secrets Manager; live A/B ratios from SSM are never waited for: declared ratios until they land)
            declared = {p.name: p for p in ctx.app.patterns}  # realtime-room's pattern is not in the bench stack
            first_needs_store = any(getattr(declared.get(n), "secret", None) for n in case.pattern.split("+"))
            case_info.append(_case_info(case, defined, settings, runtimes))
            for rt in runtimes:
                if not case.peer_group and rt not in case.reference:
                    log(f"{case.name} / {rt}: no reference implementation, skipped")
                    continue
                impls = [edgeport_impl(manifest, case, rt, secrets)]
                if case.peer_group:
                    impls += [peer_impl(name, peers, case, rt, secrets) for name in (FLOOR, *PEERS)]
                else:
                    impls.append(reference_impl(refs[(case.name, rt)], case, rt, secrets))
                bundles.append({"case": case.name, "runtime": rt, **{i["name"]: public(i) for i in impls}})
                env = node_env(aws_env if rt == "lambda-edge" else None)
                base = {"functionsDir": str(functions_dir()), "runtime": rt, "event": case.lambda_event,
                        "cfTransport": args.cf_transport, "scenarios": scenarios, "ttfb": rt in case.ttfb,
                        "origins": manifest["origins"], "siteHost": HOST, "site": case.site}
                if rt == "lambda-edge" and case.lambda_chain:
                    base["events"] = list(case.lambda_chain)
                if rt == "cloudflare":
                    base["cloudflare"] = cf_settings(manifest)
                if rt == "vercel":
                    base["vercel"] = (manifest.get("targets") or {}).get("vercel") or {}
                # cold starts: fresh processes, one implementation each, alternating order
                cold_impls = [i for i in impls if i["name"] in case.cold_implementations()]
                samples: dict[str, list[dict]] = {i["name"]: [] for i in cold_impls}
                for r in range(settings["cold_repeats"] if cold_impls and not args.profile else 0):
                    for impl in (cold_impls if r % 2 == 0 else cold_impls[::-1]):
                        log(f"{case.name} / {rt}: cold start {impl['name']} ({r + 1}/{settings['cold_repeats']}) ...")
                        samples[impl["name"]].append(run_node(BENCH / "measure.mjs", {**base, "mode": "cold", "impls": [job_impl(impl)]},
                                                              env, f"{case.name}/{rt}/{impl['name']} cold start"))
                for name, runs in samples.items():
                    if not runs:
                        continue
                    entry = {"case": case.name, "runtime": rt, "implementation": name, "runs": len(runs),
                             "total_ms": round(statistics.median(x["total_ms"] for x in runs), 2),
                             "load_ms": round(statistics.median(x["load_ms"] for x in runs), 2),
                             "first_request_ms": round(statistics.median(x["first_request_ms"] for x in runs), 2),
                             "samples_total_ms": [x["total_ms"] for x in runs]}
                    if rt == "lambda-edge":
                        # store_read: the first request must wait for a store (by the stack's declaration);
                        # store_calls: the Secrets Manager / SSM calls begun before the first response was complete,
                        # per sample (end_ms null: still under way when it was), ms from the start of loading
                        entry["store_read"] = name == "edgeport" and first_needs_store
                        entry["store_calls"] = [{"first_response_at_ms": x.get("first_response_at_ms"),
                                                 "calls": x.get("store_calls", [])} for x in runs]
                    cold.append(entry)
                # Lambda@Edge: the store reads the load and the warm-up began in the background land before timing
                # (loading the SDK and one read: well under 1 s locally, plus any injected delay).
                settle = SETTLE_MS + args.store_delay_ms if rt == "lambda-edge" else 0
                if args.profile:  # where edgeport's time goes (bench/profile.mjs), instead of the timing run
                    if rt == "cloudflare":
                        log(f"{case.name} / {rt}: not profiled (workerd is another process; --profile covers vercel and lambda-edge)")
                        continue
                    log(f"{case.name} / {rt}: profiling edgeport over {cs['n']} requests per scenario ...")
                    prof = run_node(BENCH / "profile.mjs", {**base, "mode": "profile", "impls": [job_impl(impls[0])], "n": cs["n"],
                                                             "warmup": cs["warmup"], "settleMs": settle, "intervalUs": PROFILE_INTERVAL_US,
                                                             "engineRoot": str(functions_dir() / ".engine")},
                                    env, f"{case.name}/{rt} profile")
                    profiles.append({"case": case.name, "runtime": rt, **prof})
                    continue
                log(f"{case.name} / {rt}: {cs['n']} requests x {len(scenarios)} scenarios x {len(impls)} implementations ...")
                warm = run_node(BENCH / "measure.mjs", {**base, "mode": "warm", "impls": [job_impl(i) for i in impls],
                                                         "n": cs["n"], "warmup": cs["warmup"], "rounds": settings["rounds"],
                                                         "settleMs": settle},
                                env, f"{case.name}/{rt} warm run")
                by = {}
                for r in warm["results"]:
                    row = {"case": case.name, "runtime": rt, "scenario": r["scenario"], "implementation": r["implementation"],
                           "transport": warm["transport"], **{k: v for k, v in r.items() if k not in ("scenario", "implementation")}}
                    results.append(row)
                    by[(r["scenario"], r["implementation"])] = row
                for s in scenarios:
                    if case.peer_group:
                        peer_comparisons.append(_peer_comparison(case, rt, s["name"], by))
                        continue
                    e, ref = by[(s["name"], "edgeport")], by[(s["name"], "reference")]
                    comp = {"case": case.name, "runtime": rt, "scenario": s["name"],
                            **{f"{k}_ratio": _ratio(e[f"{k}_ms"], ref[f"{k}_ms"]) for k in ("p50", "p90", "p99", "mean")},
                            "req_per_s_ratio": _ratio(e["req_per_s"], ref["req_per_s"])}
                    if "ttfb_p50_ms" in e:  # streamed responses: time to first byte as well
                        comp.update({f"ttfb_{k}_ratio": _ratio(e[f"ttfb_{k}_ms"], ref[f"ttfb_{k}_ms"])
                                     for k in ("p50", "p90", "p99", "mean")})
                    comparisons.append(comp)
        store_calls = dict(Counter(f"{c.service} {c.region} {c.action.split('.')[-1]}" for c in proxy.calls)) if proxy else None
    finally:
        if proxy is not None:
            proxy.stop()
        if aws is not None:
            aws.stop()
    return {
        "schema": SCHEMA,
        "generated_by": "bench/run.py",
        "mode": "quick" if args.quick else "full",
        "machine": machine,
        "versions": package_versions(),
        "settings": {**settings, "stack": f"bench/stacks/Pulumi.{STACK}.yaml", "cf_transport": args.cf_transport,
                     "store_delay_ms": args.store_delay_ms, "aws_region": args.aws_region or "us-east-1",
                     "timing": "performance.now() around one dispatch, sequential, after warm-up; ms",
                     "ratio": "edgeport / reference (> 1: edgeport slower); peer cases: edgeport / each peer",
                     "above_floor": "peer cases: p50 (p99) of an implementation minus the floor's, in microseconds",
                     "percentiles": "nearest rank", "rounding": "5 significant digits",
                     "esi_latencies_ms": list(args.esi_latencies),
                     "ttfb": "time to the first byte of the response body, same timer (cases that stream)"},
        "cases": case_info,
        "bundles": bundles,
        "results": results,
        "comparisons": comparisons,
        "peer_comparisons": peer_comparisons,
        **({"profiles": profiles} if args.profile else {}),
        "cold_start": cold,
        "cold_start_vs_floor": cold_vs_floor(cold),
        "esi_latency": esi_latency(case_info, results),
        **({"store_calls": store_calls} if store_calls is not None else {}),
        "duration_s": round(time.monotonic() - t_start, 1),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


# ---------------------------------------------------------------- table

def _table(rows: list[list[str]], right_from: int = 2) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) if i >= right_from else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                     for r in rows)


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _ms(v: float) -> str:
    """ms with three decimals, four below 0.1 ms (Vercel and Lambda@Edge cells are microseconds)."""
    return f"{v:.4f}" if v < 0.1 else f"{v:.3f}"


def _diff_us(a: float, b: float) -> str:
    """edgeport - reference in microseconds: at sub-microsecond references, ratios say little."""
    d = (a - b) * 1000
    return f"{d:+.1f}" if abs(d) < 100 else f"{d:+.0f}"


def render(data: dict[str, Any]) -> str:
    m, s = data["machine"], data["settings"]
    lines = [f"edgeport bench ({data['mode']}): node {m['node']}, {m['cpus_usable']} CPU(s) usable, {m['date']}",
             f"n={s['n']} sequential requests per cell after {s['warmup']} warm-up (unless a case says otherwise), "
             f"interleaved in {s['rounds']} rounds; ms; ratio = edgeport / reference"]
    la = m.get("loadavg_at_start")
    if s.get("store_delay_ms"):
        lines.append(f"Lambda@Edge stores: {s['store_delay_ms']} ms injected per Secrets Manager / SSM call, "
                     f"AWS_REGION {s.get('aws_region')}; calls: "
                     + ", ".join(f"{k} x{n}" for k, n in sorted((data.get("store_calls") or {}).items())))
    if la:  # the bench itself keeps about one core busy, so only the load before it started says much
        busy = la[0] > 0.5 * (m["cpus_usable"] or 1)
        lines.append(f"load average (1 min) before the run: {la[0]}"
                     + (" - the machine was busy: expect noisy numbers, rerun on a quiet machine" if busy else ""))
    res = {(r["case"], r["runtime"], r["scenario"], r["implementation"]): r for r in data["results"]}
    for case in data["cases"]:
        if case["name"] in {c["case"] for c in data.get("peer_comparisons", [])}:
            lines += _render_peer_case(data, case, res)
            continue
        comps = [c for c in data["comparisons"] if c["case"] == case["name"]]
        skipped = case.get("not_compared") or {}
        if not comps and not skipped:
            continue
        labels = {x["name"]: x["label"] for x in case["scenarios"]}
        head = f"{case['name']}: {case['title']}"
        if case.get("n", s["n"]) != s["n"]:
            head += f" (n={case['n']} after {case['warmup']} warm-up)"
        lines += ["", head]
        ttfb = [c for c in comps if "ttfb_p50_ratio" in c]
        rows = [["runtime", "request", "edgeport p50", "p99", "reference p50", "p99", "diff p50 us", "ratio p50", "ratio p99",
                 "edgeport req/s", "reference req/s"]]
        for c in comps:
            e, r = res[(c["case"], c["runtime"], c["scenario"], "edgeport")], res[(c["case"], c["runtime"], c["scenario"], "reference")]
            rows.append([c["runtime"], labels[c["scenario"]], _ms(e["p50_ms"]), _ms(e["p99_ms"]), _ms(r["p50_ms"]),
                         _ms(r["p99_ms"]), _diff_us(e["p50_ms"], r["p50_ms"]), _x(c["p50_ratio"]), _x(c["p99_ratio"]),
                         f"{e['req_per_s']:,}", f"{r['req_per_s']:,}"])
        if comps:
            lines.append(_table(rows))
        lines += [f"{rt}: not compared - {why}" for rt, why in skipped.items()]
        if ttfb:
            lines += ["", f"time to first byte vs last byte, {case['name']} (ms; runtimes where the response streams)"]
            rows = [["runtime", "request", "edgeport TTFB p50", "p99", "last p50", "reference TTFB p50", "p99", "last p50",
                     "ratio TTFB p50", "ratio TTFB p99"]]
            for c in ttfb:
                e, r = res[(c["case"], c["runtime"], c["scenario"], "edgeport")], res[(c["case"], c["runtime"], c["scenario"], "reference")]
                rows.append([c["runtime"], labels[c["scenario"]], _ms(e["ttfb_p50_ms"]), _ms(e["ttfb_p99_ms"]), _ms(e["p50_ms"]),
                             _ms(r["ttfb_p50_ms"]), _ms(r["ttfb_p99_ms"]), _ms(r["p50_ms"]),
                             _x(c["ttfb_p50_ratio"]), _x(c["ttfb_p99_ratio"])])
            lines.append(_table(rows))
        if case["name"] == "esi-compose" and data.get("esi_latency"):
            lines += ["", *_render_esi_latency(data)]
        cold = {(c["runtime"], c["implementation"]): c for c in data["cold_start"] if c["case"] == case["name"]}
        if cold:
            runs = max(c["runs"] for c in cold.values())
            lines += ["", f"cold start, {case['name']}: bundle load + first response in a fresh Node process "
                          f"(median of {runs}; ms)"]
            rows = [["runtime", "edgeport", "(load + first)", "reference", "(load + first)", "ratio"]]
            for rt in dict.fromkeys(k[0] for k in cold):
                e, r = cold.get((rt, "edgeport")), cold.get((rt, "reference"))
                if not (e and r):
                    continue
                rows.append([rt, f"{e['total_ms']:.1f}", f"{e['load_ms']:.1f} + {e['first_request_ms']:.1f}", f"{r['total_ms']:.1f}",
                             f"{r['load_ms']:.1f} + {r['first_request_ms']:.1f}", f"{e['total_ms'] / r['total_ms']:.2f}x"])
            lines.append(_table(rows, right_from=1))
    sizes = _render_peer_bundles(data)
    if sizes:
        lines += ["", *sizes]
    return "\n".join(lines)


def render_profiles(data: dict[str, Any], k: int = 12) -> str:
    """Per case, runtime and scenario: edgeport's top frames by total (inclusive) and by self time, µs per request."""
    lines = [f"edgeport profile: node {data['machine']['node']}, V8 sampling every {PROFILE_INTERVAL_US} us (the profiler slows "
             "everything down: read shares, and us as relative weights); us per request (share of samples)"]
    for p in data.get("profiles", []):
        for sc in p["scenarios"]:
            lines += ["", f"{p['case']} / {p['runtime']} / {sc['scenario']}: {sc['us_per_request_wall']} us per request "
                          f"(wall, harness included), {sc['requests']} requests"]
            for kind, what in (("total", "the function and what it calls"), ("self", "the function's own code")):
                rows = [[f"where ({kind}: {what})", f"{kind} us", "share"]]
                rows += [[x["where"], f"{x['us_per_request']:.1f}", f"{x['share']:.0%}"] for x in sc[f"top_{kind}"][:k]]
                lines.append(_table(rows, right_from=1))
    return "\n".join(lines)


def _us(v: float | None) -> str:
    return "-" if v is None else f"{v:+.0f}" if abs(v) >= 100 else f"{v:+.1f}"


def _render_peer_case(data: dict[str, Any], case: dict[str, Any], res: dict) -> list[str]:
    s = data["settings"]
    impls = case["implementations"]  # edgeport, floor, peers...
    peers = [i for i in impls if i not in ("edgeport", FLOOR)]
    labels = {x["name"]: x["label"] for x in case["scenarios"]}
    comps = [c for c in data["peer_comparisons"] if c["case"] == case["name"]]
    head = f"{case['name']}: {case['title']}"
    if case.get("n", s["n"]) != s["n"]:
        head += f" (n={case['n']} after {case['warmup']} warm-up)"
    rows = [["runtime", "request", *[x for i in impls for x in (f"{i} p50", "p99")]]]
    for c in comps:
        rows.append([c["runtime"], labels[c["scenario"]],
                     *[_ms(res[(c["case"], c["runtime"], c["scenario"], i)][k]) for i in impls for k in ("p50_ms", "p99_ms")]])
    out = ["", head, _table(rows), ""]
    rows = [["runtime", "request", *[x for p in peers for x in (f"edgeport/{p} p50", "p99")],
             *[f"{i} above floor us" for i in ("edgeport", *peers)], *[f"share of {p}" for p in peers]]]
    for c in comps:
        rows.append([c["runtime"], labels[c["scenario"]],
                     *[_x(c["vs"][p][k]) for p in peers for k in ("p50_ratio", "p99_ratio")],
                     *[f"{_us(c['above_floor_p50_us'][i])} ({_us(c['above_floor_p99_us'][i])})" for i in ("edgeport", *peers)],
                     *[_x(c["above_floor_share"][p]) for p in peers]])
    out += [f"{case['name']}: ratios edgeport / peer (> 1: edgeport slower); microseconds above the floor at p50 "
            "(p99); share = edgeport's above-floor p50 / the peer's", _table(rows)]
    return out + _render_peer_cold(data, case)


def _render_esi_latency(data: dict[str, Any]) -> list[str]:
    """#14 item 6: TTFB and total per fragment latency, edgeport (streamed) against the buffered reference."""
    rows = [["runtime", "fragment ms", "n", "edgeport TTFB p50", "reference TTFB p50", "TTFB diff", "edgeport total p50",
             "reference total p50", "total diff"]]
    for r in data["esi_latency"]:
        ttfb = "edgeport_ttfb_p50_ms" in r
        rows.append([r["runtime"], str(r["fragment_delay_ms"]), str(r["n"]),
                     _ms(r["edgeport_ttfb_p50_ms"]) if ttfb else "-", _ms(r["reference_ttfb_p50_ms"]) if ttfb else "-",
                     f"{r['ttfb_diff_p50_ms']:+.1f}" if ttfb else "-", _ms(r["edgeport_p50_ms"]), _ms(r["reference_p50_ms"]),
                     f"{r['total_diff_p50_ms']:+.1f}"])
    return ["esi-compose by fragment latency: time to first byte and total at p50 (ms; diff = edgeport - reference; "
            "Lambda@Edge does not stream: total only)", _table(rows, right_from=1)]


def _render_peer_cold(data: dict[str, Any], case: dict[str, Any]) -> list[str]:
    """#14 item 5: edgeport's cold start against the floor's, per runtime."""
    rows_in = [r for r in data.get("cold_start_vs_floor", []) if r["case"] == case["name"]]
    if not rows_in:
        return []
    rows = [["runtime", "edgeport", "(load + first)", "floor", "(load + first)", "edgeport - floor", "store read"]]
    for r in rows_in:
        store = "-" if "store_read" not in r else "yes" if r["store_read"] else "no"
        rows.append([r["runtime"], f"{r['edgeport_total_ms']:.1f}", f"{r['edgeport_load_ms']:.1f} + {r['edgeport_first_request_ms']:.1f}",
                     f"{r['floor_total_ms']:.1f}", f"{r['floor_load_ms']:.1f} + {r['floor_first_request_ms']:.1f}",
                     f"{r['above_floor_ms']:+.1f}", store])
    runs = max(r["runs"] for r in rows_in)
    return ["", f"cold start, {case['name']}: bundle load + first response in a fresh Node process, edgeport and the "
                f"floor (median of {runs}; ms; store read: Lambda@Edge's first request waits for Secrets Manager)",
            _table(rows, right_from=1)]


def _render_peer_bundles(data: dict[str, Any]) -> list[str]:
    """Bundle bytes, minified / gzip -9, of every implementation in the peer cases (one row per stack and runtime)."""
    peer_cases = {c["name"]: c for c in data["cases"] if c["name"] in {x["case"] for x in data.get("peer_comparisons", [])}}
    seen, rows = set(), []
    for b in data["bundles"]:
        case = peer_cases.get(b["case"])
        if not case or (case["stack"], b["runtime"]) in seen:
            continue
        seen.add((case["stack"], b["runtime"]))
        impls = case["implementations"]
        if not rows:
            rows.append(["stack", "runtime", *impls])
        rows.append([case["stack"].rsplit("/", 1)[-1].removeprefix("Pulumi.").removesuffix(".yaml"), b["runtime"],
                     *[f"{b[i]['bytes']:,} / {b[i]['gzip_bytes']:,}" for i in impls]])
    if not rows:
        return []
    return ["bundle bytes, minified / gzip -9 (Lambda@Edge chain: viewer-request + origin-request functions)",
            _table(rows, right_from=2)]


# ---------------------------------------------------------------- main

def _latencies(text: str) -> list[int]:
    try:
        out = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of milliseconds: {text!r}") from None
    if not out or out[0] < 0:
        raise argparse.ArgumentTypeError(f"latencies must be 0 or more: {text!r}")
    return out


def parse_args(argv: list[str] | None):
    ap = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"shorter run (n={QUICK['n']}, 1 cold start each)")
    ap.add_argument("--n", type=int, help=f"timed requests per implementation and scenario (default {FULL['n']})")
    ap.add_argument("--warmup", type=int, help=f"warm-up requests before timing (default {FULL['warmup']})")
    ap.add_argument("--rounds", type=int, help=f"interleaving rounds (default {FULL['rounds']})")
    ap.add_argument("--cold-repeats", type=int, help=f"fresh processes per implementation for cold start (default {FULL['cold_repeats']})")
    ap.add_argument("--case", action="append", choices=[c.name for c in CASES], help="only this case (repeatable)")
    ap.add_argument("--runtime", action="append", choices=list(RUNTIMES), help="only this runtime (repeatable)")
    ap.add_argument("--cf-transport", choices=["http", "dispatchFetch"], default="http",
                    help="how requests reach workerd: HTTP to Miniflare's loopback port (default) or Miniflare's dispatchFetch")
    ap.add_argument("--store-delay-ms", type=int, default=0,
                    help="Lambda@Edge: delay every Secrets Manager / SSM call by this much (a store across an ocean)")
    ap.add_argument("--aws-region", help="Lambda@Edge: the AWS_REGION the handler runs in (default us-east-1)")
    ap.add_argument("--esi-latencies", type=_latencies, default=list(ESI_LATENCIES),
                    help="esi-compose: the slow fragment's latencies to sweep, ms, comma-separated "
                         f"(default {','.join(map(str, ESI_LATENCIES))})")
    ap.add_argument("--out", help="results JSON (default: bench/results/latest.json for a complete run; "
                                  "with --quick, --case or --runtime: .edgeport/bench/last.json)")
    ap.add_argument("--work", default=str(ROOT / ".edgeport" / "bench"), help="scratch directory for bundles (default .edgeport/bench)")
    ap.add_argument("--profile", action="store_true",
                    help="instead of timing: CPU-profile edgeport's warm requests on vercel and lambda-edge (bench/profile.mjs) "
                         "and print where its time goes, by source function (writes .edgeport/bench/profile.json)")
    ap.add_argument("--no-table", action="store_true", help="do not print the table")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for k in ("n", "warmup", "rounds", "cold_repeats"):
        v = getattr(args, k)
        if v is not None:
            low = 0 if k in ("warmup", "cold_repeats") else 1
            if v < low:
                ap.error(f"--{k.replace('_', '-')} must be at least {low}")
            settings[k] = v
    return args, settings


def main(argv: list[str] | None = None) -> int:
    args, settings = parse_args(argv)
    cases = [c for c in CASES if not args.case or c.name in args.case]
    runtimes = [r for r in RUNTIMES if not args.runtime or r in args.runtime]
    # latest.json (committed) is only ever the result of a complete default run
    complete = not (args.quick or args.case or args.runtime or args.store_delay_ms or args.aws_region or args.profile
                    or args.esi_latencies != list(ESI_LATENCIES))
    out = Path(args.out) if args.out else (BENCH / "results" / "latest.json" if complete else
                                           Path(args.work) / ("profile.json" if args.profile else "last.json"))
    log = (lambda _msg: None) if args.quiet else (lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))

    def on_term(_sig, _frame):  # let `finally` blocks stop moto and the Node process groups
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        data = measure(args, settings, cases, runtimes, log)
    except (BenchError, EdgeportError) as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(out)
    if not args.no_table:
        print(render_profiles(data) if args.profile else render(data))
    log(f"wrote {os.path.relpath(out.resolve(), Path.cwd())} in {data['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
