"""Start and stop the local runtime hosts (functions/local/host.mjs, or an installed edgeport's copy: runtime.py),
one node process per target.

Each host runs in its own process group so that Ctrl-C reaches only this process,
which then stops every host (SIGTERM, then SIGKILL after a grace period): workerd
can otherwise linger on half-closed connections and keep its port.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from ..build import BuildResult, node_binary
from ..errors import LocalRunError
from ..spec.models import App
from ..spec.secret_refs import env_name
from .. import targets
from .procs import stop_group, stop_groups
from .runtime import runtime_dir

READY_TIMEOUT = 60.0
STOP_GRACE = 3.0


@dataclass
class Host:
    target: str
    url: str
    process: subprocess.Popen
    admin: str = ""
    stderr_tail: list[str] = field(default_factory=list)


def _host_cmd(argv: list[str]) -> list[str]:
    return [node_binary(), "--disable-warning=NodeVersionSupportWarning", str(runtime_dir() / "local" / "host.mjs"), *argv]


def spawn_standby(target: str) -> subprocess.Popen:
    """A host process for `target` that loads its runtime and waits for LocalRunner.start(standby=...)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("EDGEPORT_SECRET_")},
           **getattr(targets.profile(target), "LOCAL_ENV", {})}
    return subprocess.Popen(_host_cmd(["--standby", "--target", target]), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=runtime_dir())


def _pump(stream, sink: list[str], echo: bool, on_line: Callable[[str], None] | None = None) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))
        del sink[:-200]
        if on_line:
            on_line(line.rstrip("\n"))
        elif echo:
            print(line, end="", flush=True)


class HostStores:
    """A target's local stores when they live in its host process (Miniflare's KV, the Edge Config stand-in):
    secrets go in as environment variables, live settings and store faults through the host's admin endpoint.
    A target package can provide its own (`local_stores(runner)`, e.g. Lambda@Edge's AWS stand-ins)."""

    exposes: tuple[str, ...] = ()

    def __init__(self, runner: "LocalRunner", target: str, *, switchable: bool = False):
        self.runner, self.target = runner, target
        self.switchable = switchable  # the host's store can be made slow or unreachable (POST /store)

    def prepare(self, names: list[str], *, store_down: bool) -> dict[str, str]:
        """The host's environment for its secrets (and stores), before it starts."""
        return {env_name(s): self.runner.secrets[s] for s in names}

    def started(self, *, store_down: bool) -> None:
        if store_down and self.switchable:
            self.set_store(down=True)

    def set_live(self, key: str, value: str | None) -> None:
        self.runner.admin(self.target, "PUT" if value is not None else "DELETE", f"/live?key={quote(key)}", value)

    def set_store(self, *, down: bool | None = None, delay_ms: int | None = None) -> None:
        q = "&".join(f for f in (f"down={int(down)}" if down is not None else "", f"delayMs={delay_ms}" if delay_ms is not None else "") if f)
        self.runner.admin(self.target, "POST", f"/store?{q}", None)

    def stop(self) -> None:
        pass


class LocalRunner:
    """Serves a built stack on 127.0.0.1 in each target's local runtime.

    origins: declared origin name -> local URL standing in for it. The bundles keep the
    declared URLs; the hosts send their requests to the local ones ("local DNS").
    store_delay_ms: put a StoreProxy between the Lambda@Edge host and its AWS stores, delaying each
    request by this much (adjust later with set_store; the proxy records every call: `store_proxy`).
    aws_region: the Lambda@Edge host's AWS_REGION, the Region its "replica" runs in (default us-east-1).
    """

    def __init__(self, app: App, build: BuildResult, secrets: dict[str, str], origins: dict[str, str], *,
                 now_ms: int | None = None, echo_logs: bool = False, store_delay_ms: int | None = None,
                 aws_region: str | None = None, on_event: Callable[[str, dict[str, Any]], None] | None = None):
        missing = sorted(set(app.origins) - set(origins))
        if missing:
            raise LocalRunError(f"no local stand-in for origin{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        self.app, self.build, self.secrets = app, build, secrets
        self.origin_map = {app.origins[name]: url for name, url in origins.items() if name in app.origins}
        self.now_ms, self.echo_logs = now_ms, echo_logs
        # Each host's events after it is ready (functions/local/events.mjs: request, console), and its stderr
        # lines as {"event": "stderr"}; without a callback stdout events are dropped and stderr echoed if echo_logs.
        self.on_event = on_event
        self.hosts: dict[str, Host] = {}
        self.store_delay_ms, self.aws_region = store_delay_ms, aws_region
        self._stores: dict[str, HostStores] = {}

    # -- live settings and stores
    def adopt_stores(self, other: "LocalRunner") -> None:
        """Take over another runner's stores that live outside its hosts (moto for Lambda@Edge): `edgeport dev`
        keeps them across reloads, so a new host does not wait for a new store server (and live settings set
        meanwhile survive, re-seeded with the declared values only where the build declares them)."""
        for target, st in other.release_stores().items():
            st.runner = self
            self._stores[target] = st

    def release_stores(self) -> dict[str, "HostStores"]:
        """Detach this runner's stores without stopping them (for adopt_stores)."""
        out, self._stores = self._stores, {}
        return out

    def stores(self, target: str) -> "HostStores":
        """The target's local stores (PlatformStores of its package, or the host's own)."""
        if target not in self._stores:
            factory = getattr(targets.profile(target), "local_stores", None)
            self._stores[target] = factory(self) if factory else HostStores(self, target)
        return self._stores[target]

    def set_live(self, target: str, key: str, value: str | None) -> None:
        """Change a live setting (e.g. A/B ratios as JSON) in the target's local store; None deletes it."""
        self.stores(target).set_live(key, value)

    def set_store(self, target: str, *, down: bool | None = None, delay_ms: int | None = None) -> None:
        """Make a target's local store slow or unreachable (where its stand-in can: see the target's stores)."""
        self.stores(target).set_store(down=down, delay_ms=delay_ms)

    def admin(self, target: str, method: str, path: str, body: str | None) -> None:
        """A request to a running host's admin endpoint (loopback only; functions/local/host.mjs)."""
        u = urlsplit(self.hosts[target].admin)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request(method, path, body=body.encode() if body is not None else None)
            res = conn.getresponse()
            text = res.read().decode()
            if res.status >= 300:
                raise LocalRunError(f"{target} admin {method} {path}: {res.status} {text.strip()}")
        finally:
            conn.close()

    # -- lifecycle
    def start(self, target: str, port: int = 0, *, store_down: bool = False, public_port: int | None = None,
              standby: subprocess.Popen | None = None) -> Host:
        """Start one target's host. store_down: its live-settings store is unreachable from the start.
        public_port: the port viewers address (a front forwarding to this host, as `edgeport dev` has).
        standby: a process from spawn_standby(target) to use instead of a new one (its runtime already loaded)."""
        if not self.build.for_target(target):
            raise LocalRunError(f"the build has no {target} bundle (is targets.{target} declared?)")
        names = sorted({s for a in self.build.for_target(target) for s in a.secret_names})
        extra = self.stores(target).prepare(names, store_down=store_down)
        extra.update(getattr(targets.profile(target), "LOCAL_ENV", {}))
        argv = ["--manifest", str(self.build.manifest_path), "--target", target, "--origins", json.dumps(self.origin_map),
                "--port", str(port)]
        if self.now_ms is not None:
            argv += ["--now-ms", str(self.now_ms)]
        if public_port:
            argv += ["--public-port", str(public_port)]
        if standby is not None and standby.poll() is None:
            # A standby host has its runtime loaded already: it gets its arguments and environment now.
            proc = standby
            proc.stdin.write(json.dumps({"argv": argv, "env": extra}) + "\n")
            proc.stdin.close()
        else:
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("EDGEPORT_SECRET_")}, **extra}
            proc = subprocess.Popen(_host_cmd(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True, cwd=runtime_dir())
        host = Host(target, "", proc)
        on_event = self.on_event
        on_stderr = (lambda text: on_event(target, {"event": "stderr", "text": text})) if on_event else None
        threading.Thread(target=_pump, args=(proc.stderr, host.stderr_tail, self.echo_logs, on_stderr), daemon=True).start()
        lines: queue.Queue[str | None] = queue.Queue()

        def read_stdout():
            ready = False
            for line in proc.stdout:
                if not ready:
                    ready = line.startswith('{"ready"')
                    lines.put(line)
                    continue
                if on_event:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        event = {"event": "console", "level": "log", "text": line.rstrip("\n")}
                    on_event(target, event)
            lines.put(None)

        threading.Thread(target=read_stdout, daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                self._kill(proc)
                tail = "\n".join(host.stderr_tail[-15:])
                raise LocalRunError(f"the {target} host did not start" + (f":\n{tail}" if tail else ""))
            if line.startswith("{"):
                try:
                    ready = json.loads(line)
                    host.url, host.admin = ready["ready"].rstrip("/"), ready.get("admin", "")
                    break
                except (ValueError, KeyError):
                    pass
        self.hosts[target] = host
        self.stores(target).started(store_down=store_down)
        return host

    def __getattr__(self, name: str):
        # Platform stand-ins a target's stores expose to tests (e.g. Lambda@Edge's `aws` and `store_proxy`).
        for s in self.__dict__.get("_stores", {}).values():
            if name in getattr(s, "exposes", ()):
                return getattr(s, name)
        raise AttributeError(name)

    def start_all(self, ports: dict[str, int] | None = None) -> dict[str, Host]:
        for t in self.app.targets.names():
            if self.build.for_target(t):
                self.start(t, (ports or {}).get(t, 0))
        return self.hosts

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        stop_group(proc, STOP_GRACE)

    def stop(self) -> None:
        stop_groups([h.process for h in self.hosts.values()], STOP_GRACE)  # together: one grace period for all
        self.hosts.clear()
        for s in self._stores.values():
            s.stop()
        self._stores.clear()

    def __enter__(self) -> "LocalRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

