"""How `edgeport plan` scales with the size of a stack, against the floor: a bare Pulumi program registering the same
number of resources under the same mocks (edgeport.plan.recording_mocks).

    .venv/bin/python bench/plan_scale.py [--sizes 1,10,100,300] [--repeat 2]

For each size, a stack of that many patterns (the four stateless types in turn on all three targets, three routes
each plus an exact route on every third: 1,000 routes at 300) is written to a temporary project and planned with
`edgeport plan --offline --json` in a fresh process (wall time, peak RSS from getrusage, resources), after one
untimed plan that compiles the engines the stack needs. The edge sources are a snapshot of functions/ taken at the
start (EDGEPORT_FUNCTIONS_DIR), so an edit made meanwhile does not put an esbuild compile into a timed run. The
floor is a fresh process importing pulumi and pulumi_aws and registering N `aws.ssm.Parameter` resources under the
mocks; its per-resource cost is the slope of a least-squares line through the sizes, as is edgeport's.

Then the CLI's start-up: the median wall time of `edgeport --help` and `edgeport validate --stack dev` (this
repository's dev stack) over --startup-runs fresh processes each, interleaved, once as the environment runs Python
(with PYTHONDONTWRITEBYTECODE set, edgeport's own modules compile from source every run) and once with bytecode
cached (PYTHONPYCACHEPREFIX in the temporary directory: what an installed package has).

Writes bench/results/plan-scale.json and prints markdown tables (docs/benchmarks.md, "Plan scale").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_scale import big_app  # noqa: E402 - the stack generator the scale test uses

FLOOR = r"""
import sys, time
t0 = time.perf_counter()
import pulumi
import pulumi_aws as aws
from pulumi.runtime.mocks import _sync_await
from pulumi.runtime.stack import run_pulumi_func
from edgeport.plan import recording_mocks
t_import = time.perf_counter() - t0
n = int(sys.argv[1])
mocks = recording_mocks()
pulumi.runtime.set_mocks(mocks, project="floor", stack="floor", preview=False)
def run():
    for i in range(n):
        aws.ssm.Parameter(f"p{i}", name=f"/floor/{i}", type="String", value=str(i))
_sync_await(run_pulumi_func(run))
assert len(mocks.resources) == n
print(t_import)
"""


def _child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS of this child in MB, stdout). RUSAGE_CHILDREN keeps the largest child so far, so each
    measurement runs in its own intermediate process."""
    wrapper = ("import resource, subprocess, sys, time, json\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "w = time.perf_counter() - t\n"
               "print(json.dumps({'rc': p.returncode, 'wall': w, 'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
               " 'out': p.stdout, 'err': p.stderr[-2000:]}))\n")
    r = subprocess.run([sys.executable, "-c", wrapper, *cmd], cwd=cwd, capture_output=True, text=True, timeout=1800)
    got = json.loads(r.stdout)
    if got["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{got['err']}")
    return got["wall"], got["rss"], got["out"]


def snapshot_functions(dest: Path) -> Path:
    """A copy of functions/ as it is now (sources, platforms, local hosts, build script; node_modules linked)."""
    src = ROOT / "functions"
    for part in ("src", "platforms", "local"):
        shutil.copytree(src / part, dest / part, ignore=shutil.ignore_patterns("node_modules", ".engine"))
    for f in ("build.mjs", "package.json"):
        shutil.copy(src / f, dest / f)
    (dest / "node_modules").symlink_to(src / "node_modules")
    return dest


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares (slope, intercept)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs) or 1.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def startup(runs: int, cache: Path) -> dict:
    """Median (and min, max) wall seconds of `edgeport --help` and `edgeport validate --stack dev`, per bytecode mode."""
    cmds = {"help": ["--help"], "validate": ["validate", "--stack", "dev"]}
    modes = {"as_run": dict(os.environ),
             "bytecode_cached": {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                                 "PYTHONPYCACHEPREFIX": str(cache)}}
    times: dict[tuple[str, str], list[float]] = {}
    for i in range(runs + 1):  # the first round writes the cached bytecode and is not counted
        for mode, env in modes.items():
            for name, args in cmds.items():
                t = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "edgeport.cli", *args], cwd=ROOT, env=env, capture_output=True)
                wall = time.perf_counter() - t
                if r.returncode != 0:
                    raise SystemExit(f"edgeport {' '.join(args)} failed:\n{r.stderr.decode()[-2000:]}")
                if i:
                    times.setdefault((mode, name), []).append(wall)
    return {mode: {name: {"median_s": round(statistics.median(times[mode, name]), 3),
                          "min_s": round(min(times[mode, name]), 3), "max_s": round(max(times[mode, name]), 3)}
                   for name in cmds} for mode in modes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,10,100,300")
    ap.add_argument("--repeat", type=int, default=2, help="runs per size; the fastest counts")
    ap.add_argument("--startup-runs", type=int, default=10, help="runs of --help and validate per mode (0: skip)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    rows = []
    work = Path(tempfile.mkdtemp(prefix="edgeport-plan-scale-"))
    env_note = {k: os.environ[k] for k in ("EDGEPORT_ENGINE_DIR",) if k in os.environ}
    try:
        shutil.copy(ROOT / "Pulumi.yaml", work / "Pulumi.yaml")
        (work / "stacks").mkdir()
        os.environ["EDGEPORT_FUNCTIONS_DIR"] = str(snapshot_functions(work / "functions"))
        for n in sizes:
            app = big_app(n)
            (work / "stacks" / f"Pulumi.s{n}.yaml").write_text(yaml.safe_dump({"config": {"edgeport:app": app}}))
            plan = [sys.executable, "-m", "edgeport.cli", "plan", "--stack", f"s{n}", "--offline", "--json"]
            measure(plan, work)  # compiles the engines this stack needs (cached for the timed runs)
            best = None
            for _ in range(args.repeat):
                wall, rss, out = measure(plan, work)
                if best is None or wall < best[0]:
                    best = (wall, rss, len(json.loads(out)["resources"]))
            floor_best = None
            for _ in range(args.repeat):
                fwall, frss, _ = measure([sys.executable, "-c", FLOOR, str(best[2])], work)
                if floor_best is None or fwall < floor_best[0]:
                    floor_best = (fwall, frss)
            routes = sum(len(p["routes"]) for p in app["patterns"])
            rows.append({"patterns": n, "routes": routes, "resources": best[2], "wall_s": round(best[0], 2),
                         "peak_rss_mb": round(best[1]), "floor_wall_s": round(floor_best[0], 2),
                         "floor_peak_rss_mb": round(floor_best[1])})
            print(f"{n:>4} patterns: {best[2]:>4} resources in {best[0]:.2f} s ({best[1]:.0f} MB); floor {floor_best[0]:.2f} s",
                  file=sys.stderr)
        load_startup = Path("/proc/loadavg").read_text().split()[:3]
        cli = startup(args.startup_runs, work / "pycache") if args.startup_runs else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = [r["resources"] for r in rows]
    slope, fixed = fit(res, [r["wall_s"] for r in rows])
    fslope, ffixed = fit(res, [r["floor_wall_s"] for r in rows])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    result = {"commit": commit or None, "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before,
                          "loadavg_after": Path("/proc/loadavg").read_text().split()[:3], **env_note},
              "rows": rows, "edgeport": {"ms_per_resource": round(slope * 1000, 2), "fixed_s": round(fixed, 2)},
              "floor": {"ms_per_resource": round(fslope * 1000, 2), "fixed_s": round(ffixed, 2)}}
    if cli is not None:
        result["cli_startup"] = {"runs": args.startup_runs, "loadavg_before": load_startup,
                                 "loadavg_after": Path("/proc/loadavg").read_text().split()[:3], **cli}
    out = ROOT / "bench" / "results" / "plan-scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("| patterns | routes | resources | plan wall | peak RSS | floor wall | floor RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['patterns']} | {r['routes']} | {r['resources']} | {r['wall_s']:.2f} s | {r['peak_rss_mb']} MB | "
              f"{r['floor_wall_s']:.2f} s | {r['floor_peak_rss_mb']} MB |")
    print(f"\nedgeport: {result['edgeport']['ms_per_resource']} ms per resource + {result['edgeport']['fixed_s']} s fixed; "
          f"floor: {result['floor']['ms_per_resource']} ms per resource + {result['floor']['fixed_s']} s fixed "
          f"(load {' '.join(load_before)} -> {' '.join(result['machine']['loadavg_after'])})")
    if cli is not None:
        st = result["cli_startup"]
        print(f"\n| median of {st['runs']} | `edgeport --help` | `edgeport validate --stack dev` |\n|---|---:|---:|")
        for mode, label in (("as_run", "as run here"), ("bytecode_cached", "bytecode cached")):
            print(f"| {label} | {st[mode]['help']['median_s'] * 1000:.0f} ms | {st[mode]['validate']['median_s'] * 1000:.0f} ms |")
        print(f"(load {' '.join(st['loadavg_before'])} -> {' '.join(st['loadavg_after'])})")
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    rc = main()
    print(f"({time.perf_counter() - t:.0f} s)", file=sys.stderr)
    sys.exit(rc)
