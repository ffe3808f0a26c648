"""jwt-auth in the real runtimes, on the built bundles: workerd (Miniflare), Vercel's
edge-runtime and Node behind the CloudFront emulation. Tokens are minted by PyJWT
(and by hand where PyJWT refuses to build an attack)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import time
from urllib.parse import urlsplit

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import request
from edgeport.build import build_app
from edgeport.local.echo import EchoOrigin
from edgeport.local.runner import LocalRunner
from edgeport.spec import parse_app

TARGETS = ["cloudflare", "vercel", "lambda-edge"]
ISS, AUD = "https://issuer.test/", "api"
HS_KEY = secrets.token_urlsafe(48)
# RFC 7515 Appendix A.1: key, token and its expiry (2011-03-22T18:43:00Z)
A1_K = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
A1_TOKEN = ("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9le"
            "GFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
A1_NOW_MS = 1300819300 * 1000

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key, kid: str) -> dict:
    d = json.loads(pyjwt.algorithms.get_default_algorithms()["RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"]
                   .to_jwk(key.public_key()))
    return {**d, "kid": kid}


APP = {
    "name": "jwttest",
    "origins": {"default": "https://origin.example.com"},
    "targets": {"cloudflare": {"accountId": "0" * 32, "zoneId": "1" * 32, "hostname": "t.example.com"},
                "lambda-edge": {}, "vercel": {}},
    "patterns": [
        {"name": "hs", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "hs_key",
         "issuer": ISS, "audience": AUD, "requiredClaims": ["sub"], "forward": {"claims": {"x-user-id": "sub"}}},
        {"name": "pk", "type": "jwt-auth", "routes": ["/partner/*"], "algorithms": ["RS256", "ES256"],
         "jwks": {"keys": [public_jwk(RSA_KEY, "r1"), public_jwk(EC_KEY, "e1")]}, "audience": ["partners"]},
        {"name": "ck", "type": "jwt-auth", "routes": ["/cookie/*"], "algorithms": ["HS256"], "secret": "hs_key",
         "issuer": ISS, "audience": AUD, "token": {"cookie": "session"}, "forward": {"token": False, "claims": {"x-user-id": "sub"}}},
        {"name": "rfc", "type": "jwt-auth", "routes": ["/rfc/*"], "algorithms": ["HS256"], "secret": "rfc_key",
         "secretEncoding": "base64url", "issuer": "joe"},
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    app = parse_app(APP)
    return app, build_app(app, "test", tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def origin():
    o = EchoOrigin(name="origin").start()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def edge(built, origin):
    app, build = built
    with LocalRunner(app, build, {"hs_key": HS_KEY, "rfc_key": A1_K}, {"default": origin.url}) as runner:
        runner.start_all()
        yield {t: h.url for t, h in runner.hosts.items()}


@pytest.fixture(scope="module")
def edge_at_a1_time(built, origin):
    app, build = built
    with LocalRunner(app, build, {"hs_key": HS_KEY, "rfc_key": A1_K}, {"default": origin.url}, now_ms=A1_NOW_MS) as runner:
        runner.start_all()
        yield {t: h.url for t, h in runner.hosts.items()}


def hs_token(**over) -> str:
    now = int(time.time())
    claims = {"sub": "alice", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, **over}
    claims = {k: v for k, v in claims.items() if v is not None}
    return pyjwt.encode(claims, HS_KEY, algorithm="HS256")


def forged(header: dict, payload: dict, key: bytes | None, alg=hashlib.sha256) -> str:
    si = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    sig = hmac.new(key, si.encode(), alg).digest() if key is not None else b""
    return f"{si}.{b64(sig)}"


def call(url: str, path: str, token: str | None = None, headers: dict | None = None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return request(url + path, headers=h)


def assert_rejected(reply, origin, *, missing=False):
    assert reply.status == 401, (reply.status, reply.text)
    challenge = reply.headers["www-authenticate"]
    assert challenge.startswith("Bearer realm=")
    assert ("error=" in challenge) is (not missing)
    assert reply.headers.get("cache-control") == "no-store"
    assert origin.requests == [], "a rejected request reached the origin"


@pytest.fixture
def fresh_origin(origin):
    origin.clear()
    return origin


# ---------------------------------------------------------------- accepted


@pytest.mark.parametrize("target", TARGETS)
def test_a_claim_that_cannot_travel_safely_refuses_the_token(edge, fresh_origin, target):
    # A lone UTF-16 surrogate has no UTF-8 form: replacing it would let two identities look alike at the origin.
    r = call(edge[target], "/api/x", hs_token(sub="alice\ud800"))
    assert_rejected(r, fresh_origin)
    assert "claim sub is not valid Unicode" in r.headers["www-authenticate"]


def raw_get(url: str, path: str, headers: list[tuple[str, str]]):
    """A GET with repeated header fields (http.client's dict-based request() would merge them)."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
    try:
        conn.putrequest("GET", path)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders()
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


@pytest.mark.parametrize("target", TARGETS)
def test_a_token_in_a_cookie_crumb_is_found_and_kept_from_the_origin(edge, fresh_origin, target):
    # HTTP/2 sends cookies as separate fields ("crumbs"); the token may sit in any of them.
    status, body = raw_get(edge[target], "/cookie/x", [("Cookie", "theme=dark"), ("Cookie", f"session={hs_token()}")])
    assert status == 200, body
    (seen,) = fresh_origin.requests
    assert seen["headers"]["x-user-id"] == "alice"
    assert "session=" not in seen["headers"].get("cookie", "") and "theme=dark" in seen["headers"]["cookie"], \
        "forward.token: false keeps the token at the edge, cookie included"


@pytest.mark.parametrize("target", TARGETS)
def test_valid_token_reaches_origin_with_claims(edge, fresh_origin, target):
    r = call(edge[target], "/api/orders?x=1", hs_token(), {"x-user-id": "mallory", "x-edgeport-claims": "forged"})
    assert r.status == 200, r.text
    (seen,) = fresh_origin.requests
    assert seen["path"] == "/api/orders" and seen["query"] == "x=1"
    assert seen["headers"]["x-user-id"] == "alice"  # the client's value was stripped
    claims = json.loads(base64.urlsafe_b64decode(seen["headers"]["x-edgeport-claims"] + "=="))
    assert claims["sub"] == "alice" and claims["aud"] == AUD


# Not cloudflare: its local host answers 431 above 16 KiB of headers (Node's default --max-http-header-size in
# Miniflare's loopback, on the way in and on the Worker's fetch to the origin), below Cloudflare's own 32 KB.
@pytest.mark.parametrize("target", ["vercel", "lambda-edge"])
def test_largest_default_token_with_ordinary_headers_reaches_origin(edge, fresh_origin, target):
    # The default maxTokenBytes with the default forwarding (token kept, claims header, one claim header) and
    # ~4 KiB of other headers: what `check_limits` promises fits. The CloudFront emulation enforces the 20,480 B
    # of request line + headers that a viewer-request result may have (a 502 otherwise).
    from edgeport.patterns.jwt_auth import HEADER_HEADROOM

    limit = parse_app(APP).patterns[0].max_token_bytes
    pad = limit
    while len(tok := hs_token(pad="x" * pad)) > limit:
        pad -= max(1, (len(tok) - limit) * 3 // 4)
    assert limit - 8 <= len(tok) <= limit
    ordinary = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
                "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "accept-language": "en-US,en;q=0.9"}
    used = sum(len(k) + len(v) + 4 for k, v in ordinary.items()) + 200  # + request line, host and what the local host adds
    ordinary["cookie"] = "session=" + "s" * (HEADER_HEADROOM - used - len("cookie") - 4 - len("session="))
    r = call(edge[target], "/api/orders", tok, ordinary)
    assert r.status == 200, r.text[:300]
    assert fresh_origin.requests[0]["headers"]["x-user-id"] == "alice"


@pytest.mark.parametrize("target", TARGETS)
def test_unprotected_path_passes_without_spoofed_identity(edge, fresh_origin, target):
    # Identity headers the edge forwards are dropped from every request, also where no pattern runs.
    r = call(edge[target], "/public/page", headers={"x-user-id": "mallory", "x_user_id": "mallory", "X-Edgeport-Claims": "e30"})
    assert r.status == 200
    seen = fresh_origin.requests[0]["headers"]
    assert not {"x-user-id", "x_user_id", "x-edgeport-claims"} & set(seen), seen


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("alg, key, kid", [("RS256", RSA_KEY, "r1"), ("ES256", EC_KEY, "e1")])
def test_public_key_tokens(edge, fresh_origin, target, alg, key, kid):
    now = int(time.time())
    tok = pyjwt.encode({"sub": "p", "aud": "partners", "exp": now + 60}, key, algorithm=alg, headers={"kid": kid})
    assert call(edge[target], "/partner/x", tok).status == 200


# ---------------------------------------------------------------- rejected


def _cases():
    now = int(time.time())
    rsa_pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    good = hs_token()
    h, p, s = good.split(".")
    flipped = s[:-1] + ("A" if s[-1] != "A" else "B")
    return {
        "expired": ("/api/x", hs_token(exp=now - 120)),
        "not yet valid": ("/api/x", hs_token(nbf=now + 600)),
        "issued in the future": ("/api/x", hs_token(iat=now + 600)),
        "wrong issuer": ("/api/x", hs_token(iss="https://issuer.test.evil/")),
        "issuer prefix": ("/api/x", hs_token(iss="https://issuer.test")),
        "wrong audience": ("/api/x", hs_token(aud="other")),
        "audience missing": ("/api/x", hs_token(aud=None)),
        "exp missing": ("/api/x", hs_token(exp=None)),
        "exp not a number": ("/api/x", forged({"alg": "HS256"}, {"sub": "a", "iss": ISS, "aud": AUD, "exp": str(now + 60)}, HS_KEY.encode())),
        "required claim missing": ("/api/x", hs_token(sub=None)),
        "alg none": ("/api/x", forged({"alg": "none", "typ": "JWT"}, {"sub": "a", "iss": ISS, "aud": AUD, "exp": now + 60}, None)),
        "alg NONE with signature": ("/api/x", forged({"alg": "NONE"}, {"sub": "a", "iss": ISS, "aud": AUD, "exp": now + 60}, HS_KEY.encode())),
        "HS256 signed with the RSA public key": ("/partner/x", forged({"alg": "HS256", "kid": "r1"}, {"sub": "a", "aud": "partners", "exp": now + 60}, rsa_pem)),
        "HS256 with the RSA public key on an HMAC route": ("/api/x", forged({"alg": "HS256"}, {"sub": "a", "iss": ISS, "aud": AUD, "exp": now + 60}, rsa_pem)),
        "wrong secret": ("/api/x", forged({"alg": "HS256"}, {"sub": "a", "iss": ISS, "aud": AUD, "exp": now + 60}, b"x" * 48)),
        "tampered payload": ("/api/x", f"{h}.{b64(json.dumps({'sub': 'root', 'iss': ISS, 'aud': AUD, 'exp': now + 60}).encode())}.{s}"),
        "bad signature": ("/api/x", f"{h}.{p}.{flipped}"),
        "truncated signature": ("/api/x", f"{h}.{p}.{s[:20]}"),
        "two segments": ("/api/x", f"{h}.{p}"),
        "four segments": ("/api/x", f"{good}.{s}"),
        "empty signature": ("/api/x", f"{h}.{p}."),
        "padding characters": ("/api/x", f"{h}.{p}.{s}="),
        "standard base64 alphabet": ("/api/x", good.replace("-", "+").replace("_", "/") if ("-" in good or "_" in good) else good + "+"),
        "header not JSON": ("/api/x", f"{b64(b'not json')}.{p}.{s}"),
        "header a JSON array": ("/api/x", f"{b64(b'[1]')}.{p}.{s}"),
        "crit header": ("/api/x", forged({"alg": "HS256", "crit": ["exp"]}, {"sub": "a", "iss": ISS, "aud": AUD, "exp": now + 60}, HS_KEY.encode())),
        "embedded jwk is ignored": ("/partner/x", pyjwt.encode({"sub": "a", "aud": "partners", "exp": now + 60}, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                                                               headers={"jwk": public_jwk(ec.generate_private_key(ec.SECP256R1()), "x")})),
        "unknown kid": ("/partner/x", pyjwt.encode({"sub": "a", "aud": "partners", "exp": now + 60}, EC_KEY, algorithm="ES256", headers={"kid": "nope"})),
        "ES256 token naming the RSA kid": ("/partner/x", pyjwt.encode({"sub": "a", "aud": "partners", "exp": now + 60}, EC_KEY, algorithm="ES256", headers={"kid": "r1"})),
        "ES256 DER signature": ("/partner/x", _der_es256(now)),
        "oversized token": ("/api/x", hs_token(pad="x" * 9000)),
        "RFC 7515 A.1 at the real clock (expired in 2011)": ("/rfc/x", A1_TOKEN),
    }


def _der_es256(now: int) -> str:
    from cryptography.hazmat.primitives import hashes

    si = f"{b64(json.dumps({'alg': 'ES256', 'kid': 'e1'}).encode())}.{b64(json.dumps({'sub': 'a', 'aud': 'partners', 'exp': now + 60}).encode())}"
    return f"{si}.{b64(EC_KEY.sign(si.encode(), ec.ECDSA(hashes.SHA256())))}"


CASES = _cases()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", list(CASES))
def test_rejected_tokens(edge, fresh_origin, target, case):
    path, tok = CASES[case]
    assert_rejected(call(edge[target], path, tok), fresh_origin)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("value", ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer  "])
def test_malformed_authorization_header(edge, fresh_origin, target, value):
    r = request(edge[target] + "/api/x", headers={"Authorization": value})
    assert_rejected(r, fresh_origin)


@pytest.mark.parametrize("target", TARGETS)
def test_exact_route_does_not_protect_siblings(edge, fresh_origin, target):
    # /api/* is a prefix route: /api itself and /apiary are not covered
    assert call(edge[target], "/apiary").status == 200


@pytest.mark.parametrize("target", TARGETS)
def test_dot_segments_cannot_dodge_a_route(edge, fresh_origin, target):
    # The path is resolved before routes are matched, as the origin would resolve it.
    assert_rejected(request(edge[target] + "/public/../api/x"), fresh_origin, missing=True)
    assert_rejected(request(edge[target] + "/public/%2e%2e/api/x"), fresh_origin, missing=True)


@pytest.mark.parametrize("target", TARGETS)
def test_rfc7515_a1_at_a_fixed_clock(edge_at_a1_time, fresh_origin, target):
    r = call(edge_at_a1_time[target], "/rfc/x", A1_TOKEN)
    assert r.status == 200, r.text
    non_canonical = A1_TOKEN[:-1] + "l"  # decodes to the same 32 bytes, unused bits set
    fresh_origin.clear()
    assert_rejected(call(edge_at_a1_time[target], "/rfc/x", non_canonical), fresh_origin)


# ---------------------------------------------------------------- fail closed


@pytest.mark.parametrize("target", TARGETS)
def test_unavailable_secret_fails_closed_with_503(built, target):
    app, build = built
    o = EchoOrigin(name="o").start()
    try:
        with LocalRunner(app, build, {"hs_key": "", "rfc_key": ""}, {"default": o.url}) as runner:
            url = runner.start(target).url
            r = call(url, "/api/x", hs_token())
            assert r.status == 503, r.text
            assert r.headers.get("cache-control") == "no-store"
            assert o.requests == []
    finally:
        o.stop()
