"""The client side of a scenario: raw HTTP requests (any Host, any request target) and WebSocket clients."""

from __future__ import annotations

import http.client
import json
import time
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ..local.echo import EchoOrigin
from .checks import Exchange

COUNTRY_HEADER = "x-edgeport-country"  # the local hosts turn it into the platform's own geo signal
# Every request carries a step id, and the edge forwards client headers to the origin (and to ESI
# fragments). A request an origin records late - an abandoned fragment whose handler thread ran only
# after the next step began - carries an older id and is not counted against that step.
# Not x-edgeport-*: the edge drops every client-sent header of that prefix on entry (core/http.ts entryHeaders), so
# a tag named so never reached the origins and a late request from an earlier scenario counted in the next one.
STEP_HEADER = "x-conformance-step"
HTTP_TIMEOUT = 30.0


class StepFailed(Exception):
    """The step could not be carried out (no response, refused connection): reported as a mismatch."""

    def __init__(self, what: str, expected: str, actual: str):
        super().__init__(f"{what}: expected {expected}, got {actual}")
        self.what, self.expected, self.actual = what, expected, actual


def request_headers(req: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(str(k), str(v)) for k, v in (req.get("headers") or {}).items()]
    cookies = req.get("cookies") or {}
    if cookies:
        jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
        existing = next((i for i, (k, _) in enumerate(headers) if k.lower() == "cookie"), None)
        if existing is None:
            headers.append(("Cookie", jar))
        else:
            headers[existing] = (headers[existing][0], f"{headers[existing][1]}; {jar}")
    if req.get("country") is not None:
        headers.append((COUNTRY_HEADER, str(req["country"])))
    return headers


def http_exchange(base_url: str, req: dict[str, Any], origins: list[EchoOrigin], step_id: str = "") -> Exchange:
    """Send one request exactly as written (the request target is not normalised) and read the answer.

    The first body chunk is kept apart: with chunked transfer encoding it is what the edge
    wrote first, which tells a streamed page from one sent at once without timing thresholds.
    """
    u = urlsplit(base_url)
    method = str(req.get("method") or "GET").upper()
    target = str(req["path"])
    headers = request_headers(req)
    if step_id:
        headers.append((STEP_HEADER, step_id))
    body = req.get("body")
    data = body.encode() if isinstance(body, str) else None
    ex = Exchange(method=method, target=target, request_headers=headers)
    for o in origins:
        o.clear()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=HTTP_TIMEOUT)
    try:
        t0 = time.monotonic()
        try:
            conn.putrequest(method, target, skip_host=any(k.lower() == "host" for k, _ in headers), skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if data is not None:
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data)
            res = conn.getresponse()
            ex.status = res.status
            ex.headers = [(k.lower(), v) for k, v in res.getheaders()]
            ex.first_chunk = b"" if method == "HEAD" else res.read1(65536)
            ex.ttfb_ms = (time.monotonic() - t0) * 1000
            ex.body = ex.first_chunk + res.read()
            ex.total_ms = (time.monotonic() - t0) * 1000
        except (OSError, http.client.HTTPException) as e:
            raise StepFailed("response", "an HTTP response", f"{type(e).__name__}: {e}") from None
    finally:
        conn.close()
    ex.origin_requests = [r for o in origins for r in list(o.requests)
                          if r["headers"].get(STEP_HEADER) in (None, step_id or None)]
    return ex


# ---------------------------------------------------------------- WebSockets


def ws_url(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://", 1).rstrip("/") + path


def ws_connect(base_url: str, path: str, headers: dict[str, str], exits: ExitStack) -> tuple[int, ClientConnection | None, str]:
    """(status, connection or None, refusal body). A refused upgrade is a status, not an error.
    The connection is entered on `exits`, which closes it when the scenario ends."""
    try:
        ws = exits.enter_context(connect(ws_url(base_url, path), additional_headers=headers, open_timeout=10, close_timeout=2,
                                         max_size=None))
        return 101, ws, ""
    except InvalidStatus as e:
        return e.response.status_code, None, (e.response.body or b"").decode("utf-8", "replace")
    except (InvalidHandshake, OSError, TimeoutError) as e:
        raise StepFailed("WebSocket upgrade", "an answer to the upgrade", f"{type(e).__name__}: {e}") from None


def _parse(msg: str | bytes) -> Any:
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else msg
    try:
        return json.loads(text)
    except ValueError:
        return {"raw": text}  # a non-JSON message can still be matched as {raw: ...}


class Inbox:
    """Messages a WebSocket client received, kept so later steps can still match earlier ones."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.pending: list[Any] = []
        self.seen: list[Any] = []
        self.closed_code: int | None = None
        self.closed = False

    def _next(self, deadline: float) -> Any | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            m = _parse(self.ws.recv(timeout=remaining))
        except TimeoutError:
            return None
        except ConnectionClosed as e:
            self.closed = True
            self.closed_code = e.rcvd.code if e.rcvd else None
            return None
        self.seen.append(m)
        del self.seen[:-20]
        return m

    def wait_for(self, match, within_s: float) -> Any | None:
        """The first message (pending first, in order) that satisfies `match`, consuming up to it."""
        for i, m in enumerate(self.pending):
            if match(m):
                del self.pending[: i + 1]
                return m
        self.pending.clear()
        deadline = time.monotonic() + within_s
        while not self.closed:
            m = self._next(deadline)
            if m is None:
                return None
            if match(m):
                return m
        return None

    def wait_closed(self, within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        while not self.closed:
            if self._next(deadline) is None and not self.closed:
                return False
        return True

    def observe(self, match, within_s: float) -> Any | None:
        """Watch for `within_s` without consuming: a matching message (already pending or new), else None."""
        hit = next((m for m in self.pending if match(m)), None)
        if hit is not None:
            return hit
        deadline = time.monotonic() + within_s
        while not self.closed:
            m = self._next(deadline)
            if m is None:
                return None
            self.pending.append(m)
            if match(m):
                return m
        return None
