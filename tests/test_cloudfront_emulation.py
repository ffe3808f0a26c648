"""The CloudFront emulation decodes what viewers send as CloudFront does (issue #16).

CloudFront accepts raw UTF-8 (and ISO-8859-1) bytes in the request target and in header values and hands them to
Lambda@Edge functions as decoded UTF-8 strings (CloudFront Developer Guide, "Restrictions on edge functions",
"URI, query string, and headers encoding"). Node's HTTP server answers 400 to such a request target and reads
header bytes as latin1; the emulation (functions/local/http.mjs RawTargetFramer, lambda-edge.mjs viewerText)
undoes both, so a non-ASCII header reaches the handler as the string a function would see in production.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import unquote, urlsplit

import jwt as pyjwt
import pytest

from edgeport.build import build_app
from edgeport.local.echo import EchoOrigin
from edgeport.local.runner import LocalRunner
from edgeport.spec import parse_app

KEY = "k" * 32
TOKEN = pyjwt.encode({"sub": "alice", "exp": int(time.time()) + 3600}, KEY, algorithm="HS256")

# jwt-auth is a guard: viewer-request runs on every behaviour, the default one included, so every request -
# "/" too, which no pattern covers - passes through the Lambda@Edge handler (docs/targets.md, routes).
APP = {
    "name": "cfemu", "origins": {"default": "https://origin.example.com"}, "targets": {"lambda-edge": {}},
    "patterns": [{"name": "auth", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "k"}],
}


@pytest.fixture(scope="module")
def origin():
    o = EchoOrigin(name="default").start()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def cloudfront(tmp_path_factory, origin):
    app = parse_app(APP)
    build = build_app(app, "test", tmp_path_factory.mktemp("cfemu"))
    with LocalRunner(app, build, {"k": KEY}, {"default": origin.url}) as runner:
        yield runner.start("lambda-edge").url


@pytest.fixture
def fresh(origin):
    origin.clear()
    return origin


def raw_exchange(base: str, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes as they are (http.client would refuse non-ASCII); read one response on a closed connection."""
    u = urlsplit(base)
    with socket.create_connection((u.hostname, u.port), timeout=15) as s:
        s.sendall(head + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def get(base: str, target: bytes, headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, bytes]:
    host = urlsplit(base).netloc.encode()
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: " + host, b"Connection: close", *(k + b": " + v for k, v in headers)]
    return raw_exchange(base, b"\r\n".join(lines) + b"\r\n\r\n")


def test_raw_utf8_request_target_is_accepted(cloudfront, fresh):
    # Node alone answers this with 400 before any trigger runs.
    status, _ = get(cloudfront, "/café/日本?city=Zürich".encode())
    assert status == 200
    seen = fresh.requests[-1]
    assert unquote(seen["path"]) == "/café/日本"
    assert unquote(seen["query"]) == "city=Zürich"


def test_an_ascii_request_keeps_its_exact_target(cloudfront, fresh):
    status, _ = get(cloudfront, b"/plain/path?a=1&b=%20")
    assert status == 200
    assert (fresh.requests[-1]["path"], fresh.requests[-1]["query"]) == ("/plain/path", "a=1&b=%20")


def test_a_viewer_cannot_smuggle_the_raw_target_header(cloudfront, fresh):
    status, _ = get(cloudfront, b"/plain", [(b"X-Edgeport-Raw-Target", b"L2FwaS9zZWNyZXQ=")])  # base64 "/api/secret"
    assert status == 200
    assert fresh.requests[-1]["path"] == "/plain"
    assert "x-edgeport-raw-target" not in fresh.requests[-1]["headers"]


NON_ASCII = [
    pytest.param(b"x-city", "Zürich", id="city"),
    pytest.param(b"user-agent", "Mozilla/5.0 (Linux; Android 14; 小米 14 Build/UKQ1) Mobile", id="cjk-user-agent"),
]


# Issue #16 item 1 reported a 503 here. On this branch's base the adapter already carries values above U+00FF
# around the Web Headers refusal (functions/platforms/lambda-edge/adapter.ts byteString, commit 7a8e0c2), so this passes
# with the decoding emulation; it guards the adapter fix (wt-le16a) against a regression.
@pytest.mark.parametrize("name, value", NON_ASCII)
@pytest.mark.parametrize("path", [b"/", b"/api/x"])
def test_a_non_ascii_header_reaches_the_origin(cloudfront, fresh, name, value, path):
    token = [] if path == b"/" else [(b"Authorization", b"Bearer " + TOKEN.encode())]
    status, body = get(cloudfront, path, [(name, value.encode()), *token])
    assert status == 200, body[:300]
    # The echo origin reads header bytes as latin1: the UTF-8 bytes the viewer sent, unchanged.
    assert fresh.requests[-1]["headers"][name.decode()] == value.encode().decode("latin1")
