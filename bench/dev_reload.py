"""`edgeport dev` reloads: how long from an edit to the new behaviour, per target, and what clients see meanwhile.

    .venv/bin/python bench/dev_reload.py                     # every target, 5 edits; writes bench/results/dev-reload.json
    .venv/bin/python bench/dev_reload.py --target vercel --edits 3 --out /tmp/r.json

A copy of the dev stack is served by `edgeport dev` (a subprocess, as a user runs it). One poller per target asks
for /store/x as a US viewer every 20 ms on a new connection, for the whole run. Each edit rewrites the stack
file's US geo rule (us <-> beta) and waits until every target answers with the new origin: the time from the
write to the first answer from the new origin is that target's "edit -> new behaviour" (it includes the watcher's
poll interval, validation, the esbuild build and the new hosts' start). Any refused connection, reset or 5xx a
poller sees is counted: the goal is none.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GEO_LINE = "{ countries: [US, CA], origin: us }"


def _get(url: str) -> tuple[int | None, str | None, str | None]:
    """(status, origin header, error) of one GET on a fresh connection."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/store/x", headers={"x-edgeport-country": "US", "connection": "close"})
        res = conn.getresponse()
        res.read()
        return res.status, res.getheader("x-edgeport-origin"), None
    except OSError as e:
        return None, None, f"{type(e).__name__}: {e}"
    finally:
        conn.close()


class Poller(threading.Thread):
    def __init__(self, url: str, every_s: float):
        super().__init__(daemon=True)
        self.url, self.every_s = url, every_s
        self.stop = threading.Event()
        self.log: list[tuple[float, int | None, str | None, str | None]] = []  # (t, status, origin, error)

    def run(self) -> None:
        while not self.stop.is_set():
            t = time.monotonic()
            self.log.append((t, *_get(self.url)))
            self.stop.wait(max(0.0, self.every_s - (time.monotonic() - t)))


def run(targets: list[str] | None = None, edits: int = 5, poll_ms: int = 20, timeout_s: float = 120) -> dict:
    work = Path(tempfile.mkdtemp(prefix="edgeport-reload-"))
    stack = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    assert GEO_LINE in stack, "the dev stack's US geo rule moved; update bench/dev_reload.py"
    shutil.copy(ROOT / "Pulumi.yaml", work / "Pulumi.yaml")
    (work / "stacks").mkdir()
    stack_file = work / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack)
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", "--port", "0", "--quiet"]
    for t in targets or []:
        cmd += ["--target", t]
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out: list[str] = []
    def read():
        for line in proc.stdout:  # one at a time: list.extend would take the whole stream first
            out.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    pollers: dict[str, Poller] = {}
    try:
        deadline = time.monotonic() + timeout_s
        while not any("Ctrl-C to stop" in line for line in list(out)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("edgeport dev did not start:\n" + "".join(out[-30:]))
            time.sleep(0.1)
        urls = {m.group(1): m.group(2) for line in list(out)
                if (m := re.match(r"\s+([a-z-]+)\s+(http://127\.0\.0\.1:\d+)$", line.rstrip()))}
        pollers = {t: Poller(u, poll_ms / 1000) for t, u in urls.items()}
        for p in pollers.values():
            p.start()
        time.sleep(0.5)
        origin = "us"
        per_edit: list[dict[str, float]] = []
        edit_times: list[float] = []
        for _ in range(edits):
            time.sleep(0.3)
            want = "beta" if origin == "us" else "us"
            stack_file.write_text(stack.replace(GEO_LINE, f"{{ countries: [US, CA], origin: {want} }}"))
            t_edit = time.monotonic()
            edit_times.append(t_edit)
            seen: dict[str, float] = {}
            while len(seen) < len(pollers):
                if time.monotonic() - t_edit > timeout_s:
                    raise RuntimeError(f"no new behaviour after {timeout_s} s:\n" + "".join(out[-30:]))
                for t, p in pollers.items():
                    if t not in seen:
                        hit = next((e[0] for e in list(p.log) if e[0] >= t_edit and e[2] == want), None)
                        if hit is not None:
                            seen[t] = hit - t_edit
                time.sleep(0.01)
            per_edit.append(seen)
            origin = want
        time.sleep(0.5)
    finally:
        for p in pollers.values():
            p.stop.set()
        for p in pollers.values():
            p.join(15)
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
    result: dict = {"edits": edits, "poll_ms": poll_ms, "targets": {}}
    for t, p in pollers.items():
        times = [e[t] for e in per_edit]
        # each failure with when it happened: seconds after the edit before it (a reload in progress or not)
        bad = [{"status": s, "error": err, "after_edit_s": round(t0 - max((e for e in edit_times if e <= t0), default=t0), 3)}
               for (t0, s, _o, err) in p.log if err or (s or 0) >= 500]
        result["targets"][t] = {
            "edit_to_new_s": [round(x, 3) for x in times],
            "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "requests": len(p.log), "failures": len(bad), "failure_samples": bad[:5],
        }
    alls = [max(e.values()) for e in per_edit]
    result["all_targets"] = {"edit_to_new_s": [round(x, 3) for x in alls], "median_s": round(statistics.median(alls), 3),
                             "max_s": round(max(alls), 3)}
    return result


def table(result: dict) -> str:
    rows = [("target", "edit -> new behaviour (median / max)", "requests", "refused/reset/5xx")]
    for t, r in result["targets"].items():
        rows.append((t, f"{r['median_s']:.2f} s / {r['max_s']:.2f} s", str(r["requests"]), str(r["failures"])))
    a = result["all_targets"]
    rows.append(("all targets", f"{a['median_s']:.2f} s / {a['max_s']:.2f} s", "", ""))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", action="append", help="only this target (repeatable; default every one)")
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--poll-ms", type=int, default=20)
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "dev-reload.json")
    a = ap.parse_args()
    result = run(a.target, a.edits, a.poll_ms)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(table(result))
    print(f"\nwritten: {a.out}")


if __name__ == "__main__":
    main()
