"""Loopback ports and process groups for the local stand-ins (runtime hosts, moto, recording servers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

STOP_GRACE = 3.0


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it; a race with another process is possible
    but harmless here: the caller's bind fails loudly)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on host:port now (SO_REUSEADDR as servers set it, so a port in TIME_WAIT
    after a previous run counts as free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def next_free_ports(start: int, count: int, limit: int = 200) -> int | None:
    """The first port from `start` with `count` consecutive free ports (for --port), or None within `limit`."""
    for p in range(start, min(start + limit, 65536 - count)):
        if all(port_free(p + i) for i in range(count)):
            return p
    return None


def _signal_groups(procs: list[subprocess.Popen], sig: signal.Signals) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass


def _wait_all(procs: list[subprocess.Popen], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass


def stop_groups(procs: list[subprocess.Popen], grace: float = STOP_GRACE) -> None:
    """Stop processes started with start_new_session=True and everything in their groups: SIGTERM to every group,
    SIGKILL to those still running after `grace` seconds (one grace period shared by all: stopping N hosts takes at
    most 2 x grace, not N x 2 x grace; one after the other, `edgeport dev` took over 30 s to exit at a load of 7 on
    2 cores). A group may hold children (workerd) that outlive their parent, so every group is killed at the end."""
    running = [p for p in procs if p.poll() is None]
    _signal_groups(running, signal.SIGTERM)
    _wait_all(running, grace)
    _signal_groups([p for p in running if p.poll() is None], signal.SIGKILL)
    _wait_all(running, grace)
    _signal_groups(running, signal.SIGKILL)


def stop_group(proc: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """stop_groups for one process."""
    stop_groups([proc], grace)
