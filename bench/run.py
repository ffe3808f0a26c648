"""edgeport benchmarks: in-runtime latency of edgeport's built bundles against the seed
article's reference implementations, per pattern (case) and per runtime.

    make bench                          # full run, writes bench/results/latest.json (commit it)
    .venv/bin/python bench/run.py --quick                # shorter run, writes .edgeport/bench/last.json
    .venv/bin/python bench/run.py --case jwt-auth --runtime vercel --n 500 --out /tmp/b.json
    .venv/bin/python bench/run.py --runtime lambda-edge --store-delay-ms 1000 --aws-region eu-west-3   # far stores

Steps: build the bench stack with `edgeport build` (the real bundles), bundle the reference
implementations with the same esbuild settings, mint tokens once, start a moto server for
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

from cases import CASES, HOST, RUNTIMES, Case, Context  # noqa: E402

STACK = "bench"
SCHEMA = 1
FULL = {"n": 5000, "warmup": 500, "rounds": 10, "cold_repeats": 3}
QUICK = {"n": 200, "warmup": 40, "rounds": 4, "cold_repeats": 1}
NODE_TIMEOUT = 300.0
SETTLE_MS = 1000  # Lambda@Edge warm runs: untimed pause after the warm-up (measure.mjs settle())
STOP_GRACE = 3.0
VERSION_PACKAGES = ["miniflare", "workerd", "edge-runtime", "@edge-runtime/vm", "esbuild", "@aws-sdk/client-secrets-manager"]


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
        raise BenchError(f"{what} failed: {detail}")
    return res


def node_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEPORT_SECRET_", "AWS_"))}
    env.update({"CLOUDFLARE_CF_FETCH_ENABLED": "false", "WRANGLER_SEND_METRICS": "false"})
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- building

def build_edgeport(work: Path) -> dict[str, Any]:
    """`edgeport build` of the bench stack, exactly as a user runs it; returns the manifest."""
    out = work / "build"
    cli = Path(sys.executable).with_name("edgeport")
    cmd = [str(cli), "build", "--stack", STACK, "--project-dir", str(BENCH), "--out", str(out), "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise BenchError(f"edgeport build --stack {STACK} failed:\n{res.stderr.strip() or res.stdout.strip()}")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["_dir"] = str(out)
    return manifest


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
    arts = [a for a in manifest["artifacts"] if a["target"] == rt and (rt != "lambda-edge" or a["event"] == case.lambda_event)]
    if not arts:
        raise BenchError(f"the bench build has no {rt} bundle for {case.name}")
    a = arts[0]
    impl: dict[str, Any] = {"name": "edgeport", "bundle": str(base / a["file"]), "bytes": a["bytes"]}
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


def reference_impl(ref: dict, case: Case, rt: str, secrets: dict[str, str]) -> dict[str, Any]:
    impl: dict[str, Any] = {"name": "reference", "bundle": ref["outfile"], "bytes": ref["bytes"]}
    if rt != "lambda-edge":
        impl["env"] = {k: secrets[s] for k, s in case.reference_secrets.items()}
    if case.reference_cache.get(rt):
        impl["cache"] = case.reference_cache[rt]
    return impl


def public(impl: dict[str, Any]) -> dict[str, Any]:
    """What a job may say in the results (no secrets, no configs)."""
    return {"bundle": os.path.relpath(impl["bundle"], ROOT), "bytes": impl["bytes"]}


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
    return out


# ---------------------------------------------------------------- run

def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else None  # never 0 in practice; JSON has no infinity


def measure(args, settings: dict[str, int], cases: list[Case], runtimes: list[str], log) -> dict[str, Any]:
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    machine = machine_facts()  # first: the load average before the bench adds its own
    log(f"building stack {STACK!r} with edgeport build ...")
    manifest = build_edgeport(work)
    st = load_stack(STACK, BENCH)
    secret_names = sorted({s for a in manifest["artifacts"] for s in a["secrets"]})
    secrets = {s: random_secrets.token_urlsafe(48) for s in secret_names}  # same value for both sides
    for case in cases:
        for s in case.reference_secrets.values():
            secrets.setdefault(s, random_secrets.token_urlsafe(48))
    refs = build_references(cases, runtimes, secrets, work)
    ctx = Context(app=st.app, stack=STACK, secrets=secrets)

    aws: LocalAws | None = None
    proxy: StoreProxy | None = None
    aws_env: dict[str, str] = {}
    results, cold, comparisons, bundles, case_info = [], [], [], [], []
    try:
        if "lambda-edge" in runtimes:
            log("starting moto (Secrets Manager for Lambda@Edge) ...")
            aws = LocalAws().start()
            mod = profile("lambda-edge")
            for s in secret_names:
                aws.put_secret(mod.secret_id(st.app, STACK, s), secrets[s], mod.secret_regions(st.app)[1:])
            aws_env = aws.env()
            if args.store_delay_ms:
                proxy = StoreProxy(aws.endpoint, args.store_delay_ms).start()
                aws_env.update({"AWS_ENDPOINT_URL_SECRETS_MANAGER": proxy.url, "AWS_ENDPOINT_URL_SSM": proxy.url})
            if args.aws_region:
                aws_env["AWS_REGION"] = args.aws_region
            # live A/B ratios, seeded with the declared ones as a deployment would
            ssm = aws.client("ssm")
            for key, value in ((manifest.get("targets") or {}).get("lambda-edge") or {}).get("live", {}).items():
                ssm.put_parameter(Name=key, Value=value, Type="String", Overwrite=True)
        for case in cases:
            defined = case.scenarios(ctx)  # tokens etc. are made once, here
            scenarios = [s.to_job() for s in defined]
            cs = case.settings(settings)
            case_info.append({"name": case.name, "title": case.title, "pattern": case.pattern,
                              "scenarios": [{"name": s.name, "label": s.label, "method": s.method, "path": s.path,
                                             **({"country": s.country} if s.country else {})} for s in defined],
                              "reference": {rt: f"bench/reference/{f}" for rt, f in case.reference.items()},
                              "not_compared": {rt: why for rt, why in case.not_compared.items() if rt in runtimes},
                              "n": cs["n"], "warmup": cs["warmup"],
                              "ttfb": [rt for rt in case.ttfb if rt in runtimes],
                              "lambda_event": case.lambda_event,
                              "notes": case.notes})
            for rt in runtimes:
                if rt not in case.reference:
                    log(f"{case.name} / {rt}: no reference implementation, skipped")
                    continue
                impls = [edgeport_impl(manifest, case, rt, secrets), reference_impl(refs[(case.name, rt)], case, rt, secrets)]
                bundles.append({"case": case.name, "runtime": rt, **{i["name"]: public(i) for i in impls}})
                env = node_env(aws_env if rt == "lambda-edge" else None)
                base = {"functionsDir": str(functions_dir()), "runtime": rt, "event": case.lambda_event,
                        "cfTransport": args.cf_transport, "scenarios": scenarios, "ttfb": rt in case.ttfb,
                        "origins": manifest["origins"], "siteHost": HOST, "site": case.site}
                if rt == "cloudflare":
                    base["cloudflare"] = cf_settings(manifest)
                if rt == "vercel":
                    base["vercel"] = (manifest.get("targets") or {}).get("vercel") or {}
                # cold starts: fresh processes, one implementation each, alternating order
                samples: dict[str, list[dict]] = {i["name"]: [] for i in impls}
                for r in range(settings["cold_repeats"]):
                    for impl in (impls if r % 2 == 0 else impls[::-1]):
                        log(f"{case.name} / {rt}: cold start {impl['name']} ({r + 1}/{settings['cold_repeats']}) ...")
                        samples[impl["name"]].append(run_node(BENCH / "measure.mjs", {**base, "mode": "cold", "impls": [impl]},
                                                              env, f"{case.name}/{rt}/{impl['name']} cold start"))
                for name, runs in samples.items():
                    if not runs:
                        continue
                    cold.append({"case": case.name, "runtime": rt, "implementation": name, "runs": len(runs),
                                 "total_ms": round(statistics.median(x["total_ms"] for x in runs), 2),
                                 "load_ms": round(statistics.median(x["load_ms"] for x in runs), 2),
                                 "first_request_ms": round(statistics.median(x["first_request_ms"] for x in runs), 2),
                                 "samples_total_ms": [x["total_ms"] for x in runs]})
                log(f"{case.name} / {rt}: {cs['n']} requests x {len(scenarios)} scenarios x 2 implementations ...")
                # Lambda@Edge: the store reads the load and the warm-up began in the background land before timing
                # (loading the SDK and one read: well under 1 s locally, plus any injected delay).
                settle = SETTLE_MS + args.store_delay_ms if rt == "lambda-edge" else 0
                warm = run_node(BENCH / "measure.mjs", {**base, "mode": "warm", "impls": impls, "n": cs["n"],
                                                         "warmup": cs["warmup"], "rounds": settings["rounds"],
                                                         "settleMs": settle},
                                env, f"{case.name}/{rt} warm run")
                by = {}
                for r in warm["results"]:
                    row = {"case": case.name, "runtime": rt, "scenario": r["scenario"], "implementation": r["implementation"],
                           "transport": warm["transport"], **{k: v for k, v in r.items() if k not in ("scenario", "implementation")}}
                    results.append(row)
                    by[(r["scenario"], r["implementation"])] = row
                for s in scenarios:
                    e, ref = by[(s["name"], "edgeport")], by[(s["name"], "reference")]
                    comp = {"case": case.name, "runtime": rt, "scenario": s["name"],
                            **{f"{k}_ratio": _ratio(e[f"{k}_ms"], ref[f"{k}_ms"]) for k in ("p50", "p90", "p99", "mean")},
                            "req_per_s_ratio": _ratio(e["req_per_s"], ref["req_per_s"])}
                    if "ttfb_p50_ms" in e:  # streamed responses: time to first byte as well
                        comp.update({f"ttfb_{k}_ratio": _ratio(e[f"ttfb_{k}_ms"], ref[f"ttfb_{k}_ms"])
                                     for k in ("p50", "p90", "p99", "mean")})
                    comparisons.append(comp)
        # where the Lambda@Edge stores were read: service, Region (from the request's signature), call
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
                     "ratio": "edgeport / reference (> 1: edgeport slower)",
                     "percentiles": "nearest rank", "rounding": "5 significant digits",
                     "ttfb": "time to the first byte of the response body, same timer (cases that stream)"},
        "cases": case_info,
        "bundles": bundles,
        "results": results,
        "comparisons": comparisons,
        "cold_start": cold,
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
    return "\n".join(lines)


# ---------------------------------------------------------------- main

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
    ap.add_argument("--out", help="results JSON (default: bench/results/latest.json for a complete run; "
                                  "with --quick, --case or --runtime: .edgeport/bench/last.json)")
    ap.add_argument("--work", default=str(ROOT / ".edgeport" / "bench"), help="scratch directory for bundles (default .edgeport/bench)")
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
    complete = not (args.quick or args.case or args.runtime or args.store_delay_ms or args.aws_region)
    out = Path(args.out) if args.out else (BENCH / "results" / "latest.json" if complete else Path(args.work) / "last.json")
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
        print(render(data))
    log(f"wrote {os.path.relpath(out.resolve(), Path.cwd())} in {data['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
