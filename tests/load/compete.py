"""Competing work for `make test-under-load`: CPU-bound processes plus one that churns disk and memory, the way a
package install next to the suite does. Runs until killed.

    python tests/load/compete.py --cpu 4 --io 1
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import tempfile
import time


def burn() -> None:
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF


def churn() -> None:
    """Write, fsync, read back and drop 64 MiB files, holding ~256 MiB of fresh memory at a time."""
    d = tempfile.mkdtemp(prefix="edgeport-load-")
    block = os.urandom(1 << 20)
    i = 0
    while True:
        path = os.path.join(d, f"f{i % 4}")
        with open(path, "wb") as f:
            for _ in range(64):
                f.write(block)
            f.flush()
            os.fsync(f.fileno())
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
        held = [bytearray(1 << 20) for _ in range(256)]
        del held
        i += 1
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", type=int, default=4)
    ap.add_argument("--io", type=int, default=1)
    a = ap.parse_args()
    procs = [mp.Process(target=burn, daemon=True) for _ in range(a.cpu)] + [mp.Process(target=churn, daemon=True) for _ in range(a.io)]
    for p in procs:
        p.start()
    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for p in procs:
            p.join()
    finally:
        for p in procs:
            p.kill()


if __name__ == "__main__":
    main()
