"""A small JSON-over-HTTPS client for the Cloudflare and Vercel APIs, with bounded timeouts and retries.

Plain urllib on purpose: two REST APIs, a handful of calls each, and no dependency to pin for it.

Retries: a request is repeated only when no answer came (connection refused or reset, timeout) or the API said
"later" - 429, 502, 503, 504. Cloudflare documents 429 for its global rate limit of 1,200 requests per five
minutes per user (developers.cloudflare.com/fundamentals/api/reference/limits/), Vercel documents 429 with
X-RateLimit-Reset (vercel.com/docs/rest-api/reference/welcome#rate-limits). A Retry-After header is honoured up to
MAX_WAIT seconds. Any other answer is final. At most `retries` repeats and `deadline` seconds in all, so a
command never hangs on a platform.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Mapping

from .. import __version__
from . import OpsError

RETRY_STATUS = (429, 502, 503, 504)
MAX_WAIT = 5.0  # seconds: the longest Retry-After honoured


class ApiError(OpsError):
    def __init__(self, message: str, status: int | None = None, body: Any = None, hint: str = ""):
        super().__init__(message, hint)
        self.status = status  # None: no answer at all
        self.body = body


class JsonApi:
    def __init__(self, base: str, token: str, *, name: str, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.5, deadline: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 headers: Mapping[str, str] | None = None):
        self.base = base.rstrip("/")
        self.name = name  # e.g. "the Cloudflare API", for messages
        self._token = token
        self.timeout, self.retries, self.backoff, self.deadline = timeout, retries, backoff, deadline
        self.sleep = sleep
        self.extra_headers = dict(headers or {})
        self.attempts = 0  # requests sent, retries included (tests and --json read it)

    def __repr__(self) -> str:  # never the token
        return f"JsonApi({self.base!r})"

    def request(self, method: str, path: str, *, query: Mapping[str, str] | None = None, json_body: Any = None,
                data: bytes | None = None, content_type: str | None = None, raw: bool = False) -> Any:
        """Send one request (retrying as above) and return the parsed JSON answer, or the bytes with raw=True.
        A 4xx/5xx answer raises ApiError carrying the status and the parsed body."""
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   "User-Agent": f"edgeport/{__version__}", **self.extra_headers}
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        started, waited = time.monotonic(), 0.0
        for attempt in range(self.retries + 1):
            self.attempts += 1
            wait = self.backoff * 2 ** attempt
            try:
                req = urllib.request.Request(url, data=data, method=method, headers=headers)
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    body = res.read()
                return body if raw else _json(body)
            except urllib.error.HTTPError as e:
                body = _json(e.read())
                if e.code not in RETRY_STATUS or attempt == self.retries:
                    raise ApiError(f"{method} {path}: HTTP {e.code} from {self.name}" + (f": {detail}" if (detail := _detail(body)) else ""),
                                   e.code, body) from None
                wait = _retry_after(e.headers.get("Retry-After"), wait)
            except (urllib.error.URLError, OSError, socket.timeout, http.client.HTTPException) as e:
                if attempt == self.retries:
                    reason = getattr(e, "reason", e)
                    raise ApiError(f"{method} {path}: no answer from {self.name} at {self.base} after "
                                   f"{attempt + 1} attempt(s): {reason}", None,
                                   hint="check the network; the API may be down") from None
            # (waits counted on their own too, so an injected sleep keeps the bound)
            if max(time.monotonic() - started, waited) + wait > self.deadline:
                raise ApiError(f"{method} {path}: {self.name} still not answering after {self.deadline:g} s", None)
            self.sleep(wait)
            waited += wait
        raise AssertionError("unreachable")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _detail(body: Any) -> str:
    """The API's own error text: Cloudflare's {"errors": [{"code", "message"}]}, Vercel's {"error": {"code", "message"}}."""
    if not isinstance(body, dict):
        return ""
    errs = body.get("errors")
    if isinstance(errs, list) and errs:
        return "; ".join(f"{e.get('message')} (code {e.get('code')})" for e in errs if isinstance(e, dict))
    err = body.get("error")
    if isinstance(err, dict):
        return f"{err.get('message')} ({err.get('code')})"
    return ""


def _retry_after(value: str | None, default: float) -> float:
    try:
        return min(max(float(value), 0.0), MAX_WAIT) if value is not None else default
    except ValueError:  # an HTTP date: not worth parsing for a capped wait
        return default
