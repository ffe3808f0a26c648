"""Shared test fixtures.

Pulumi's mocks are process-global (set_mocks): they are installed once here, for
the component tests. Tests that run whole Pulumi programs (edgeport plan) do so in
a subprocess.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pulumi

from edgeport.plan import recording_mocks

ROOT = Path(__file__).resolve().parents[1]

MOCKS = recording_mocks()
pulumi.runtime.set_mocks(MOCKS, project="edgeport", stack="test", preview=False)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None,
            timeout: float = 15) -> Reply:
    """One HTTP request without redirects or exceptions on 4xx/5xx."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, (u.path or "/") + (f"?{u.query}" if u.query else ""), body=body, headers=headers or {})
        res = conn.getresponse()
        return Reply(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read())
    finally:
        conn.close()


@contextmanager
def echo_origins(names):
    """An EchoOrigin per origin name, started, stopped on exit."""
    from edgeport.local.echo import EchoOrigin

    started = {n: EchoOrigin(name=n).start() for n in names}
    try:
        yield started
    finally:
        for o in started.values():
            o.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def credential_free_env() -> dict[str, str]:
    """This environment without cloud credentials, so `edgeport plan` skips its prerequisite checks (a developer's
    own AWS or Cloudflare credentials would otherwise check the example stacks' placeholder ids)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDFLARE_", "EDGEPORT_CLOUDFLARE_"))}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    return env


def write_project(dirpath: Path, stacks: dict[str, str]) -> Path:
    """A minimal edgeport project: Pulumi.yaml and stacks/Pulumi.<name>.yaml files."""
    shutil.copy(ROOT / "Pulumi.yaml", dirpath / "Pulumi.yaml")
    (dirpath / "stacks").mkdir(exist_ok=True)
    for name, text in stacks.items():
        (dirpath / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return dirpath


def copy_functions(tmp_path: Path) -> Path:
    """A copy of functions/ (sources, platforms, local hosts, build script) to edit in a test; node_modules shared."""
    fdir = tmp_path / "functions"
    for part in ("src", "platforms", "local"):
        shutil.copytree(ROOT / "functions" / part, fdir / part)
    for f in ("build.mjs", "package.json"):
        shutil.copy(ROOT / "functions" / f, fdir / f)
    (fdir / "node_modules").symlink_to(ROOT / "functions" / "node_modules")
    return fdir


def stop_dev(proc) -> None:
    """Ctrl-C an `edgeport dev` subprocess and wait for it (killed if it does not stop within 30 s)."""
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
