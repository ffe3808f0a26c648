"""A slow, observable stand-in for the network between a Lambda@Edge replica and its AWS stores.

A loopback HTTP proxy in front of moto: each request waits (a delay per request, optionally per Region) and
is then forwarded, and every request is recorded with the service and Region it was signed for. Tests and
benchmarks use it to put an ocean between the function and us-east-1, to make the stores hang, and to see how
many reads reached the store and in which Region.

The Region comes from the SigV4 credential scope of the Authorization header
(``Credential=<key>/<date>/<region>/<service>/aws4_request``; AWS General Reference, "Signature Version 4
signing process", credential scope): with ``AWS_ENDPOINT_URL_*`` every Region goes to the same local
endpoint, and the signature is what still names the Region (moto routes on it too).
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SCOPE_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "content-length"}
POLL_S = 0.02


@dataclass
class StoreCall:
    """One request that reached the proxy."""

    service: str  # from the credential scope: "secretsmanager", "ssm"
    region: str
    action: str  # X-Amz-Target, e.g. "secretsmanager.GetSecretValue", "AmazonSSM.GetParameter"
    started: float  # time.monotonic()
    finished: float | None = None  # answered, or the client gave up
    outcome: str = "pending"  # "answered" | "aborted" (the client closed first) | "dropped" (down, or proxy stopped)


def signed_for(authorization: str) -> tuple[str, str]:
    """(region, service) of a SigV4 Authorization header; ("", "") when it is not one."""
    m = SCOPE_RE.search(authorization or "")
    return (m.group(1), m.group(2)) if m else ("", "")


class StoreProxy:
    """Forwards to `upstream` after `delay_ms` (or `region_delay_ms[region]`); `down` drops requests unanswered."""

    def __init__(self, upstream: str, delay_ms: int = 0, region_delay_ms: dict[str, int] | None = None):
        self.upstream = urlsplit(upstream)
        self.delay_ms = delay_ms
        self.region_delay_ms = dict(region_delay_ms or {})
        self.down = False
        self.calls: list[StoreCall] = []
        self.url = ""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- what tests read
    def reads(self, action: str) -> list[StoreCall]:
        """Recorded calls whose X-Amz-Target ends with `action` (e.g. "GetSecretValue")."""
        with self._lock:
            return [c for c in self.calls if c.action.endswith(f".{action}")]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- lifecycle
    def start(self) -> "StoreProxy":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes requests that are being held
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- per request
    def _record(self, call: StoreCall) -> None:
        with self._lock:
            self.calls.append(call)

    def _delay_s(self, region: str) -> float:
        return self.region_delay_ms.get(region, self.delay_ms) / 1000

    def hold(self, conn: socket.socket, call: StoreCall) -> bool:
        """Wait out the delay; False when the client closed the connection meanwhile (or the proxy stops)."""
        deadline = call.started + self._delay_s(call.region)
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.is_set() or _closed_by_peer(conn, min(left, POLL_S)):
                return False
        return True

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            return res.status, res.getheaders(), res.read()
        finally:
            conn.close()

    def finish(self, call: StoreCall, outcome: str) -> None:
        with self._lock:
            call.finished, call.outcome = time.monotonic(), outcome


def _closed_by_peer(conn: socket.socket, wait_s: float) -> bool:
    """Whether the client closed its end, waiting up to `wait_s` to find out."""
    readable, _, _ = select.select([conn], [], [], wait_s)
    if not readable:
        return False
    try:
        closed = conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
    if not closed:
        time.sleep(wait_s)  # a pipelined request waits its turn; do not spin on it
    return closed


def _handler(proxy: StoreProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the AWS SDK keeps connections alive

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            region, service = signed_for(self.headers.get("authorization", ""))
            call = StoreCall(service, region, self.headers.get("x-amz-target", ""), time.monotonic())
            proxy._record(call)
            if proxy.down or not proxy.hold(self.connection, call):
                proxy.finish(call, "dropped" if proxy.down or proxy._stopping.is_set() else "aborted")
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            status, out_headers, out = proxy.forward(self.command, self.path, headers, body)
            self.send_response(status)
            for k, v in out_headers:
                if k.lower() not in HOP_BY_HOP | {"date", "server"}:
                    self.send_header(k, v)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            proxy.finish(call, "answered")

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, *args) -> None:  # quiet: tests read `calls`
            pass

    return Handler
