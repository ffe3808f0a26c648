"""A loopback origin that answers with what it received (JSON) and records every request.

Paths can be scripted (status, body, headers, delay, or a dropped connection) for
tests and conformance scenarios; unscripted paths echo.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Script:
    """What the origin does for one path."""

    status: int = 200
    body: str | bytes | None = None  # None: echo the request as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    fail: bool = False  # drop the connection without an answer


class EchoOrigin:
    """Threaded HTTP server on 127.0.0.1; `requests` holds what reached it."""

    def __init__(self, port: int = 0, name: str = "echo"):
        self.name = name
        self.requests: list[dict] = []
        self.scripts: dict[str, Script] = {}
        self._lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                u = urlsplit(self.path)
                seen = {"origin": origin.name, "method": self.command, "path": u.path, "query": u.query,
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode("utf-8", "replace")}
                with origin._lock:
                    origin.requests.append(seen)
                    script = origin.scripts.get(u.path)
                if script and script.delay:
                    time.sleep(script.delay)
                if script and script.fail:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if script and script.body is not None:
                    out = script.body.encode() if isinstance(script.body, str) else script.body
                    ctype = "text/html; charset=utf-8"
                else:
                    out = json.dumps(seen, indent=2).encode()
                    ctype = "application/json"
                self.send_response(script.status if script else 200)
                headers = {"content-type": ctype, **(script.headers if script else {})}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(out)))
                self.send_header("x-edgeport-origin", origin.name)
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(out)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the edge gave up on this request (a fragment past its deadline): expected

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"origin-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "EchoOrigin":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def script(self, path: str, **kw) -> None:
        with self._lock:
            self.scripts[path] = Script(**kw)
