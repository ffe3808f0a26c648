"""Loopback ports and process groups for the local stand-ins (runtime hosts, moto, recording servers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

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


def stop_group(proc: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """Stop a process started with start_new_session=True and everything in its group: SIGTERM, then SIGKILL after
    `grace` seconds. The group may hold children (workerd) that outlive their parent, so it is killed at the end."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(grace)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
