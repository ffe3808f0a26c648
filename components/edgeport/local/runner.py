"""Start and stop the local runtime hosts (functions/local/host.mjs), one node process per target.

Each host runs in its own process group so that Ctrl-C reaches only this process,
which then stops every host (SIGTERM, then SIGKILL after a grace period): workerd
can otherwise linger on half-closed connections and keep its port.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from ..build import BuildResult, functions_dir, node_binary
from ..errors import LocalRunError
from ..spec.models import App
from ..spec.secret_refs import env_name
from ..targets import profile
from .aws import LocalAws
from .store_proxy import StoreProxy

READY_TIMEOUT = 60.0
STOP_GRACE = 3.0


@dataclass
class Host:
    target: str
    url: str
    process: subprocess.Popen
    admin: str = ""
    stderr_tail: list[str] = field(default_factory=list)


def _closed_port() -> int:
    """A loopback port nothing listens on (for an unreachable store)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pump(stream, sink: list[str], echo: bool) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))
        del sink[:-200]
        if echo:
            print(line, end="", flush=True)


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
                 aws_region: str | None = None):
        missing = sorted(set(app.origins) - set(origins))
        if missing:
            raise LocalRunError(f"no local stand-in for origin{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        self.app, self.build, self.secrets = app, build, secrets
        self.origin_map = {app.origins[name]: url for name, url in origins.items() if name in app.origins}
        self.now_ms, self.echo_logs = now_ms, echo_logs
        self.hosts: dict[str, Host] = {}
        self.aws: LocalAws | None = None
        self.store_delay_ms, self.aws_region = store_delay_ms, aws_region
        self.store_proxy: StoreProxy | None = None

    # -- live settings
    def set_live(self, target: str, key: str, value: str | None) -> None:
        """Change a live setting (e.g. A/B ratios as JSON) in the target's local store; None deletes it."""
        if target == "lambda-edge":
            ssm = self.aws.client("ssm")
            if value is None:
                ssm.delete_parameter(Name=key)
            else:
                ssm.put_parameter(Name=key, Value=value, Type="String", Overwrite=True)
            return
        self._admin(target, "PUT" if value is not None else "DELETE", f"/live?key={quote(key)}", value)

    def set_store(self, target: str, *, down: bool | None = None, delay_ms: int | None = None) -> None:
        """Make a local store slow or unreachable: Vercel's Edge Config stand-in, or on Lambda@Edge the StoreProxy
        in front of Secrets Manager and SSM (needs store_delay_ms)."""
        if target == "lambda-edge":
            if self.store_proxy is None:
                raise LocalRunError("the Lambda@Edge stores have no proxy: create the LocalRunner with store_delay_ms")
            if down is not None:
                self.store_proxy.down = down
            if delay_ms is not None:
                self.store_proxy.delay_ms = delay_ms
            return
        q = "&".join(f for f in (f"down={int(down)}" if down is not None else "", f"delayMs={delay_ms}" if delay_ms is not None else "") if f)
        self._admin(target, "POST", f"/store?{q}", None)

    def _admin(self, target: str, method: str, path: str, body: str | None) -> None:
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
    def start(self, target: str, port: int = 0, *, store_down: bool = False) -> Host:
        """Start one target's host. store_down: its live-settings store is unreachable from the start."""
        if not self.build.for_target(target):
            raise LocalRunError(f"the build has no {target} bundle (is targets.{target} declared?)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEPORT_SECRET_")}
        names = sorted({s for a in self.build.for_target(target) for s in a.secret_names})
        if target == "lambda-edge":
            if self.aws is None:
                self.aws = LocalAws().start()
            mod = profile("lambda-edge")
            for s in names:
                if self.secrets.get(s):  # an empty value stands for "not stored"
                    self.aws.put_secret(mod.secret_id(self.app, self.build.stack, s), self.secrets[s],
                                        mod.secret_regions(self.app)[1:])
            for key, value in self.build.local.get("lambda-edge", {}).get("live", {}).items():
                self.set_live("lambda-edge", key, value)
            env.update(self._aws_env())
            if store_down:
                env["AWS_ENDPOINT_URL_SSM"] = f"http://127.0.0.1:{_closed_port()}"
        else:
            env.update({env_name(s): self.secrets[s] for s in names})
        cmd = [node_binary(), "--disable-warning=NodeVersionSupportWarning", str(functions_dir() / "local" / "host.mjs"),
               "--manifest", str(self.build.manifest_path), "--target", target, "--origins", json.dumps(self.origin_map),
               "--port", str(port)]
        if self.now_ms is not None:
            cmd += ["--now-ms", str(self.now_ms)]
        env.update({"CLOUDFLARE_CF_FETCH_ENABLED": "false", "WRANGLER_SEND_METRICS": "false"})
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, cwd=functions_dir())
        host = Host(target, "", proc)
        threading.Thread(target=_pump, args=(proc.stderr, host.stderr_tail, self.echo_logs), daemon=True).start()
        lines: queue.Queue[str | None] = queue.Queue()

        def read_stdout():
            for line in proc.stdout:
                lines.put(line)
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
        if store_down and target == "vercel" and self.build.local.get("vercel", {}).get("edgeConfig"):
            self.set_store("vercel", down=True)
        return host

    def _aws_env(self) -> dict[str, str]:
        """The Lambda@Edge host's AWS environment: moto, or the StoreProxy in front of it; its Region."""
        env = self.aws.env()
        if self.store_delay_ms is not None:
            if self.store_proxy is None:
                self.store_proxy = StoreProxy(self.aws.endpoint, self.store_delay_ms).start()
            env.update({"AWS_ENDPOINT_URL_SECRETS_MANAGER": self.store_proxy.url, "AWS_ENDPOINT_URL_SSM": self.store_proxy.url})
        if self.aws_region:
            env["AWS_REGION"] = self.aws_region
        return env

    def start_all(self, ports: dict[str, int] | None = None) -> dict[str, Host]:
        for t in self.app.targets.names():
            if self.build.for_target(t):
                self.start(t, (ports or {}).get(t, 0))
        return self.hosts

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(STOP_GRACE)
        # The group may hold children (workerd) that outlived their parent.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        for h in self.hosts.values():
            self._kill(h.process)
        self.hosts.clear()
        if self.store_proxy is not None:
            self.store_proxy.stop()
            self.store_proxy = None
        if self.aws is not None:
            self.aws.stop()
            self.aws = None

    def __enter__(self) -> "LocalRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

