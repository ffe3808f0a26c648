"""Origins that fail on cue, and a client that tells a cut body from a whole one (tests/test_faults.py).

FaultOrigin is an EchoOrigin (edgeport.local.echo: `script(path, status=, body=, delay=, fail=)` answers a path with
a status, a body, late, or drops the connection before any answer) that can also answer a path with its head and
the start of its body and then reset the connection: a connection lost mid-body.
"""

from __future__ import annotations

import http.client
import socket
import struct
import time
from urllib.parse import urlsplit

from edgeport.local.echo import EchoOrigin

PARTIAL = b"<p>the first part of a page that never ends"
DECLARED_LENGTH = 100_000  # what the cut answer's Content-Length promises


class FaultOrigin(EchoOrigin):
    """`reset(path, after=s)`: wait `after` seconds, send a 200 head (Content-Length 100000) and PARTIAL, then reset
    the connection (SO_LINGER 0: an RST, not a clean end)."""

    def __init__(self, name: str):
        super().__init__(name=name)
        self.resets: dict[str, float] = {}  # path -> seconds to wait before answering
        origin, base = self, self.server.RequestHandlerClass

        class Handler(base):  # type: ignore[misc, valid-type]
            def _handle(self):
                path = urlsplit(self.path).path
                with origin._lock:
                    after = origin.resets.get(path)
                if after is None:
                    return base._handle(self)
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                with origin._lock:
                    origin.requests.append({"origin": origin.name, "method": self.command, "path": path, "query": "",
                                            "headers": {k.lower(): v for k, v in self.headers.items()}, "body": ""})
                time.sleep(after)
                self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n"
                                 b"content-length: %d\r\n\r\n" % DECLARED_LENGTH + PARTIAL)
                self.wfile.flush()
                time.sleep(0.3)  # the head and the first bytes are on their way
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            do_GET = do_POST = do_HEAD = _handle

        self.server.RequestHandlerClass = Handler

    def reset(self, path: str, after: float = 0.0) -> None:
        with self._lock:
            self.resets[path] = after

    def heal(self) -> None:
        """Forget every script and reset: every path echoes again."""
        with self._lock:
            self.scripts.clear()
            self.resets.clear()


def get(base: str, path: str, headers: dict | None = None, timeout: float = 60):
    """GET base+path: (status, headers, body, complete). complete is False when the body ended before its declared end
    (a Content-Length or chunked body cut short) or the connection was reset while it was read."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        res = conn.getresponse()
        hdrs = {k.lower(): v for k, v in res.getheaders()}
        try:
            return res.status, hdrs, res.read(), True
        except http.client.IncompleteRead as e:
            return res.status, hdrs, e.partial, False
        except (ConnectionError, OSError):
            return res.status, hdrs, b"", False
    finally:
        conn.close()
