"""Differential fuzzing of edgeport's JWT verifier against PyJWT (#15 item 2).

Hypothesis generates tokens in named classes (valid, tampered, time claims around the leeway, swapped algorithms,
re-encoded base64url, duplicate JSON keys, wrong claim types, oversized, ...) for three jwt-auth patterns (HS256,
RS256, ES256), declared like any stack's patterns and turned into runtime configs by edgeport itself. Every token
goes through PyJWT (`jwt.decode` with the pattern's key, algorithms, audience, issuer, leeway and required claims)
and through verifyJwt (functions/src/patterns/jwt.ts) in workerd, Vercel's edge-runtime and Node
(tests/jwt_vectors/fuzz.mjs: each runtime started once, tokens in batches). Node runs the verifier as Lambda@Edge
builds it, with synchronous node:crypto (functions/platforms/lambda-edge/crypto.ts) in place of WebCrypto, so the
runtimes agreeing also means the two crypto modules agree.

The verdicts (accept / reject) must agree, except in the classes listed in KNOWN_DIFFERENCES (edgeport differs on
purpose; docs/jwt.md, "Where edgeport differs from PyJWT") and PENDING_FIXES (edgeport is wrong; a strict xfail below
names the fix). A token's class is how it was generated, never how it was judged; every listed class must produce at
least one disagreement, so the lists cannot outlive the behaviour they excuse.

The clock: both verifiers run at NOW. edgeport takes the time from its platform (`platform.now()`, passed by the
driver). PyJWT has no clock parameter: it reads `datetime.now(tz=timezone.utc)` in jwt.api_jwt, so that name is
replaced by a datetime whose now() is NOW for the duration of the PyJWT calls. NOW is years away from the real
clock, and a canary (a token valid only at NOW) proves the replacement took effect before any verdict is used.

`pytest -s` prints the cases and disagreements per class; the same summary is written to jwt-fuzz/summary.json in
pytest's temporary directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import subprocess
import time
import unicodedata
from collections import Counter
from datetime import datetime
from urllib.parse import quote

import jwt as pyjwt
import jwt.api_jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, Phase, Verbosity, given, settings, strategies as st

from conftest import ROOT
from edgeport.patterns.jwt_auth import public_jwk
from edgeport.spec import parse_app
from edgeport.spec.runtime import pattern_config

RUNTIMES = ["workerd", "edge-runtime", "node"]
NOW = 2_000_000_000  # 2033-05-18T03:33:20Z: the fixed clock of both verifiers, far from the real one
PER_CLASS = 420  # Hypothesis examples per class: 26 classes, 10,920 tokens
BATCH = 2500  # tokens per batch handed to a runtime

ISS, AUD = "https://issuer.fuzz.test/", "api"
HS_SECRET = "fuzz-hmac-secret-" + "0123456789abcdef" * 2
OTHER_SECRET = "another-hmac-secret-" + "fedcba9876543210" * 2


# Keys from fixed seeds and deterministic ECDSA (RFC 6979): every token, signatures included, is the same on every
# run, so a failure can be replayed and the printed digest of all tokens compares two runs.
def _prime(rnd: random.Random, bits: int) -> int:
    small = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]
    while True:
        n = rnd.getrandbits(bits) | (3 << (bits - 2)) | 1  # top two bits set: p * q has all 2 * bits
        if any(n % p == 0 for p in small) or n % 65537 == 1:
            continue
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for _ in range(40):  # Miller-Rabin
            x = pow(rnd.randrange(2, n - 1), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            return n


def _rsa_key(seed: str) -> rsa.RSAPrivateKey:
    rnd = random.Random(seed)
    p, q = _prime(rnd, 1024), _prime(rnd, 1024)
    d = pow(65537, -1, (p - 1) * (q - 1))
    return rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
                                 rsa.RSAPublicNumbers(65537, p * q)).private_key()


def _ec_key(seed: str) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # of P-256
    return ec.derive_private_key(int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (order - 1) + 1,
                                 ec.SECP256R1())


RSA_KEY, OTHER_RSA = _rsa_key("edgeport jwt fuzz: rs"), _rsa_key("edgeport jwt fuzz: attacker rs")
EC_KEY, OTHER_EC = _ec_key("edgeport jwt fuzz: es"), _ec_key("edgeport jwt fuzz: attacker es")

_COMMON = {"issuer": ISS, "audience": AUD, "requiredClaims": ["sub"], "forward": {"claims": {"x-user-id": "sub"}}}
APP = {
    "name": "jwtfuzz",
    "origins": {"default": "https://origin.example.com"},
    "targets": {"cloudflare": {"accountId": "0" * 32, "zoneId": "1" * 32, "hostname": "t.example.com"},
                "lambda-edge": {}, "vercel": {}},
    "patterns": [
        {"name": "hs", "type": "jwt-auth", "routes": ["/hs/*"], "algorithms": ["HS256"], "secret": "hs_key", **_COMMON},
        {"name": "rs", "type": "jwt-auth", "routes": ["/rs/*"], "algorithms": ["RS256"],
         "jwks": {"keys": [{**public_jwk(RSA_KEY, "RS256"), "kid": "r1"}]}, **_COMMON},
        {"name": "es", "type": "jwt-auth", "routes": ["/es/*"], "algorithms": ["ES256"],
         "jwks": {"keys": [{**public_jwk(EC_KEY, "ES256"), "kid": "e1"}]}, **_COMMON},
        # Only for test_a_required_claim_named_like_an_object_member_must_be_present, not fuzzed.
        {"name": "odd", "type": "jwt-auth", "routes": ["/odd/*"], "algorithms": ["HS256"], "secret": "hs_key",
         **{**_COMMON, "requiredClaims": ["sub", "constructor"]}},
    ],
}
CFGS = ["hs", "rs", "es"]
ALG = {"hs": "HS256", "rs": "RS256", "es": "ES256"}
KID = {"rs": "r1", "es": "e1"}

# Classes where edgeport and PyJWT may disagree, and why (docs/jwt.md, "Where edgeport differs from PyJWT").
KNOWN_DIFFERENCES = {
    "time-fractional": "PyJWT truncates exp/nbf/iat with int() before comparing; edgeport compares the NumericDate "
                       "as given (RFC 7519 §2 allows non-integer values), so they part within one second of a bound",
    "time-as-string": "PyJWT coerces exp/nbf/iat with int(), accepting \"2000000100\", \" 2000000100 \", "
                      "\"2_000_000_100\" or full-width digits; a NumericDate is a JSON number (RFC 7519 §2)",
    "time-as-bool": "PyJWT's int(True) is 1 and int(False) 0, so a boolean nbf/iat passes as the year 1970",
    "time-out-of-range": "an integer literal beyond the double range is an exact Python int to PyJWT but Infinity in "
                         "JavaScript, which edgeport refuses as not a finite number",
    "b64-padding": "PyJWT accepts '=' padding on a segment; edgeport accepts only unpadded base64url (RFC 7515 §2), "
                   "so every token has exactly one spelling",
    "kid-not-string": "PyJWT refuses a non-string kid on every token; edgeport looks keys up by kid only for "
                      "RS256/ES256 (where it refuses a non-string kid too) and ignores kid on HMAC tokens",
    "crit-b64": "PyJWT implements RFC 7797 (b64 listed in crit) and accepts b64: true; edgeport refuses any crit "
                "or b64 header (RFC 7797 §7: unencoded payloads are not for JWTs)",
    "jti-not-string": "PyJWT refuses a non-string jti; edgeport does not use jti (no replay cache) and passes it on "
                      "in the claims header as the issuer wrote it",
    "json-encoding": "PyJWT's json.loads(bytes) detects UTF-16/UTF-32 and lets UTF-8-encoded surrogates through; "
                     "edgeport decodes header and payload as strict UTF-8 (RFC 7515 §2, RFC 8259 §8.1)",
    "json-nonstandard": "Python's json accepts NaN, Infinity and -Infinity; they are not JSON (RFC 8259 §6) and "
                        "JSON.parse refuses them",
    "deep-nesting": "Python's json stops at its recursion limit (about 1,000 levels) and PyJWT refuses the token; "
                    "JSON.parse has no such limit within maxTokenBytes",
    "oversized": "edgeport refuses tokens longer than maxTokenBytes (7,168 by default) before any crypto: they "
                 "would not fit every target's request-header limits; PyJWT has no size limit",
}
# Classes where edgeport is wrong today (a strict xfail below names the fix; remove the entry with the fix).
# sub-not-string was one: verifyJwt now refuses a sub that is not a string, as PyJWT does.
PENDING_FIXES: dict[str, str] = {}

# What a class is made to be, checked against both verifiers (so the generator cannot drift into making, say,
# tampered tokens that nobody would accept anyway for another reason - or valid ones that nobody accepts).
EXPECTED = {"valid": True, "header-ignored-params": True, "near-size-limit": True, "duplicate-keys": None,
            "tampered": False, "alg-swap": False, "b64-alphabet": False, "b64-trailing-bits": False,
            "structure": False, "not-an-object": False, "time-other-type": False, "aud-iss-types": False}

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Strategies are built once: building one (and Hypothesis validating it) per draw would cost more than the draw.
BOOL = st.booleans()
_INTS: dict[tuple[int, int], st.SearchStrategy] = {}


def num(draw, bounds: tuple[int, int]) -> int:
    """An integer in [lo, hi], drawn by Hypothesis (its bias towards the ends included)."""
    if bounds not in _INTS:
        _INTS[bounds] = st.integers(*bounds)
    return draw(_INTS[bounds])


def pick(draw, options):
    """One of `options` (a sequence), drawn by Hypothesis like sampled_from."""
    return options[num(draw, (0, len(options) - 1))]


# ---------------------------------------------------------------- building tokens


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Raw:
    """A JSON value written exactly as `text` (NaN, 1e400, a 400-digit integer, 2.0000001e9)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text!r})"


STYLES = ["compact", "spaced", "crlf"]


def dumps(obj, style: str = "compact", ascii_only: bool = True) -> bytes:
    """JSON text of `obj` in one of a few spellings (compact, with spaces, with CR LF as in RFC 7515 A.1)."""
    raws: list[str] = []

    def walk(o):
        if isinstance(o, Raw):
            raws.append(o.text)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o

    kw = {"compact": {"separators": (",", ":")}, "spaced": {}, "crlf": {"indent": 1}}[style]
    text = json.dumps(walk(obj), ensure_ascii=ascii_only, **kw)
    if style == "crlf":
        text = text.replace("\n", "\r\n")
    for i, r in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{i}\x00"), r)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: only its \u escape is UTF-8
        return dumps(obj, style, True)


def seg(obj, style="compact", ascii_only=True) -> str:
    return b64(obj if isinstance(obj, bytes) else dumps(obj, style, ascii_only))


def es_raw(key, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign(cfg: str, signing_input: str, *, other: bool = False) -> str:
    """The signature segment for `signing_input` under the pattern's algorithm (with another key of the same kind)."""
    data = signing_input.encode()
    if cfg == "hs":
        return b64(hmac.new((OTHER_SECRET if other else HS_SECRET).encode(), data, hashlib.sha256).digest())
    if cfg == "rs":
        return b64((OTHER_RSA if other else RSA_KEY).sign(data, padding.PKCS1v15(), hashes.SHA256()))
    return b64(es_raw(OTHER_EC if other else EC_KEY, data))


def jws(cfg: str, header, claims, style="compact", ascii_only=True) -> str:
    si = f"{seg(header, style, ascii_only)}.{seg(claims, style, ascii_only)}"
    return f"{si}.{sign(cfg, si)}"


def resigned(cfg: str, h: str, p: str) -> str:
    return f"{h}.{p}.{sign(cfg, f'{h}.{p}')}"


def case(cls: str, cfg: str, token: str, note: str) -> dict:
    return {"cls": cls, "cfg": cfg, "token": token, "note": note}


# ---------------------------------------------------------------- strategies

LEEWAY = 30  # the patterns' (default) leeway; checked against the runtime config in the fixture
MAX_TOKEN = 7168  # the default maxTokenBytes; checked likewise

TEXT, SHORT = st.text(max_size=12), st.text(max_size=3)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
# Values of claims nobody checks: any JSON, one level of nesting (enough for the parsers; cheaper than recursive()).
SCALARS = st.none() | BOOL | st.integers(-(2**60), 2**60) | FLOATS | TEXT
json_values = SCALARS | st.lists(SCALARS, max_size=3) | st.dictionaries(SHORT, SCALARS, max_size=2)
EXTRA_NAMES = ["scope", "role", "tenant", "email", "groups", "name", "http://example.com/is_root", "", "ä",
               "__proto__", "constructor", "toString", "toJSON", "hasOwnProperty", "valueOf"]
EXTRAS = st.dictionaries(st.sampled_from(EXTRA_NAMES), json_values, max_size=2)
AUDS = [AUD, [AUD], [AUD, "other"], ["other", AUD], ["x", "y", AUD]]
NOT_STRING = (st.integers(-(2**53), 2**53) | FLOATS | BOOL | st.none() | st.dictionaries(SHORT, SHORT, max_size=2)
              | st.lists(SHORT, max_size=2))


@st.composite
def pattern(draw):
    return pick(draw, CFGS)


@st.composite
def header_for(draw, cfg: str) -> dict:
    shape = num(draw, (0, 7))  # kid?, typ?, alg last?
    h = {"alg": ALG[cfg]}
    if shape & 1:  # a kid: ignored for HMAC; for RS256/ES256 the configured one (without, the one key is used)
        h["kid"] = draw(TEXT) if cfg == "hs" else KID[cfg]
    if shape & 2:
        h["typ"] = "JWT"
    if shape & 4:
        h["alg"] = h.pop("alg")
    return h


@st.composite
def valid_claims(draw) -> dict:
    shape = num(draw, (0, 15))  # nbf?, iat?, jti?, reversed?
    c = {"sub": draw(TEXT), "iss": ISS, "aud": pick(draw, AUDS), "exp": NOW + num(draw, (1 - LEEWAY, 10**7))}
    if shape & 1:
        c["nbf"] = NOW + num(draw, (-(10**7), LEEWAY))
    if shape & 2:
        c["iat"] = NOW + num(draw, (-(10**7), LEEWAY))
    if shape & 4:
        c["jti"] = draw(TEXT)
    c.update(draw(EXTRAS))
    return dict(reversed(c.items())) if shape & 8 else c


@st.composite
def valid_token(draw, cfg: str | None = None) -> tuple[str, str]:
    cfg = cfg or draw(pattern())
    style, ascii_only = pick(draw, STYLES), draw(BOOL)
    return cfg, jws(cfg, draw(header_for(cfg)), draw(valid_claims()), style, ascii_only)


@st.composite
def valid(draw):
    cfg, tok = draw(valid_token())
    return case("valid", cfg, tok, "")


def _other_char(draw, c: str) -> str:
    new = pick(draw, B64)
    return new if new != c else B64[(B64.index(c) + 1) % 64]


@st.composite
def tampered(draw):
    cfg, tok = draw(valid_token())
    parts = tok.split(".")
    kind = pick(draw, ["char", "last-char-data-bit", "other-payload", "truncated-signature",
                                 "wrong-key", "attacker-jwk"])
    if kind in ("char", "last-char-data-bit"):
        i = num(draw, (0, 2))
        s = parts[i]
        if kind == "char":  # every character but the last carries 6 bits of data
            j = num(draw, (0, len(s) - 2))
            parts[i] = s[:j] + _other_char(draw, s[j]) + s[j + 1:]
        else:  # the top bit of the last character is always data, whatever the length
            parts[i] = s[:-1] + B64[B64.index(s[-1]) ^ 0b100000]
        return case("tampered", cfg, ".".join(parts), f"{kind} in segment {i}")
    if kind == "other-payload":
        other = seg(draw(valid_claims()))
        parts[1] = other if other != parts[1] else seg({**json.loads(base64.urlsafe_b64decode(other + "==")), "x": 1})
        return case("tampered", cfg, ".".join(parts), kind)
    if kind == "truncated-signature":
        n = num(draw, (1, 8))
        return case("tampered", cfg, ".".join(parts[:2] + [parts[2][:-n]]), f"{kind} by {n}")
    if kind == "wrong-key":
        return case("tampered", cfg, f"{parts[0]}.{parts[1]}.{sign(cfg, parts[0] + '.' + parts[1], other=True)}", kind)
    # key material in the header, and the token signed with it: neither verifier trusts it
    cfg = "es" if cfg == "hs" else cfg
    attacker = OTHER_RSA if cfg == "rs" else OTHER_EC
    h = {"alg": ALG[cfg], "jwk": {**public_jwk(attacker, ALG[cfg]), "kid": KID[cfg]}, "kid": KID[cfg]}
    si = f"{seg(h)}.{seg(draw(valid_claims()))}"
    return case("tampered", cfg, f"{si}.{sign(cfg, si, other=True)}", kind)


def _spell(v: int, how: str):
    """The integer v as JSON text: 2000000030, 2000000030.0 or 2.00000003e9."""
    if how == "int":
        return v
    if how == "float":
        return Raw(f"{v}.0")
    digits = str(abs(v))
    mant = digits[0] + "." + (digits[1:].rstrip("0") or "0")
    return Raw(f"{'-' if v < 0 else ''}{mant}e{len(digits) - 1}")


TIME = ["exp", "nbf", "iat"]
# The bound each time claim is judged at: exp is expired at or below NOW - leeway, nbf and iat are refused above
# NOW + leeway. NOW itself sits inside both.
BOUND = {"exp": NOW - LEEWAY, "nbf": NOW + LEEWAY, "iat": NOW + LEEWAY}


@st.composite
def time_boundary(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    names = pick(draw, [["exp"], ["nbf"], ["iat"], TIME, []])
    notes = []
    for name in names:
        anchor = pick(draw, [BOUND[name], NOW])
        v = anchor + num(draw, (-3, 3))
        how = pick(draw, ["int", "float", "exponent"])
        claims[name] = _spell(v, how)
        notes.append(f"{name}={v} ({how})")
    if not names:
        del claims["exp"]
        notes.append("exp missing")
    return case("time-boundary", cfg, jws(cfg, draw(header_for(cfg)), claims), ", ".join(notes))


@st.composite
def time_fractional(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    name = pick(draw, TIME)
    v = BOUND[name] + num(draw, (-2, 2)) + pick(draw, [1, -1]) * num(draw, (1, 999)) / 1000
    claims[name] = v
    return case("time-fractional", cfg, jws(cfg, draw(header_for(cfg)), claims), f"{name}={v!r}")


def _fullwidth(s: str) -> str:
    return "".join(unicodedata.lookup(f"FULLWIDTH DIGIT {unicodedata.name(c).split()[-1]}") if c.isdigit() else c
                   for c in s)


@st.composite
def time_as_string(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    name = pick(draw, TIME)
    ok = claims.get(name, NOW + 100 if name == "exp" else NOW - 100)
    v = pick(draw, [ok, BOUND[name] + (1 if name == "exp" else 0), NOW - 10**6 if name == "exp" else NOW + 10**6])
    spelling = pick(draw, ["plain", "spaces", "underscores", "fullwidth", "float", "exponent", "words", "empty"])
    text = {"plain": str(v), "spaces": f" {v} ", "underscores": f"{v:_}", "fullwidth": _fullwidth(str(v)),
            "float": f"{v}.0", "exponent": f"{v / 1e9}e9", "words": "tomorrow", "empty": ""}[spelling]
    claims[name] = text
    return case("time-as-string", cfg, jws(cfg, draw(header_for(cfg)), claims), f"{name}={text!r}")


@st.composite
def time_as_bool(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    name = pick(draw, TIME)
    claims[name] = draw(BOOL)
    return case("time-as-bool", cfg, jws(cfg, draw(header_for(cfg)), claims), f"{name}={claims[name]}")


@st.composite
def time_other_type(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    name = pick(draw, TIME)
    v = claims.get(name, NOW)
    claims[name] = pick(draw, [None, [], [v], {}, {"t": v}, [v, v]])
    return case("time-other-type", cfg, jws(cfg, draw(header_for(cfg)), claims), f"{name}={claims[name]!r}")


@st.composite
def time_out_of_range(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    name = pick(draw, TIME)
    sign_ = "" if name == "exp" else pick(draw, ["", "-"])
    text = pick(draw, [f"{sign_}1{'0' * num(draw, (309, 400))}", f"{sign_}1e400", f"{sign_}1.7e308"])
    claims[name] = Raw(text)
    return case("time-out-of-range", cfg, jws(cfg, draw(header_for(cfg)), claims), f"{name}={text[:12]}… ({len(text)} chars)")


NOT_ACCEPTED = ["none", "None", "NONE", "nOnE", "HS384", "HS512", "RS384", "RS512", "PS256", "ES384", "ES512",
                "EdDSA", "hs256", "Hs256", "HS256 ", " RS256", "es256", ""]


def _pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _der(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@st.composite
def alg_swap(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    kind = pick(draw, ["other-alg", "alg-missing", "alg-type", "confusion", "cross-pattern"])
    h = dict(draw(header_for(cfg)))
    if kind == "other-alg":
        alg = pick(draw, NOT_ACCEPTED)
        h["alg"] = alg
        si = f"{seg(h)}.{seg(claims)}"
        how = pick(draw, ["empty", "original", "mac"])
        if how == "empty":
            sig = ""
        elif how == "mac" and alg.upper().strip() in ("HS256", "HS384", "HS512"):
            digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg.upper().strip()]
            sig = b64(hmac.new(HS_SECRET.encode(), si.encode(), digest).digest())
        else:
            sig = sign(cfg, si)
        return case("alg-swap", cfg, f"{si}.{sig}", f"alg {alg!r}, signature {how}")
    if kind == "alg-missing":
        del h["alg"]
        return case("alg-swap", cfg, jws(cfg, h, claims), "alg missing")
    if kind == "alg-type":
        h["alg"] = pick(draw, [None, 256, True, [ALG[cfg]], {ALG[cfg]: 1}])
        return case("alg-swap", cfg, jws(cfg, h, claims), f"alg {h['alg']!r}")
    if kind == "confusion":
        # HS256 MACed with what the verifier knows as a public key; for the HMAC pattern, RS256/ES256 properly
        # signed with a key pair the attacker made.
        if cfg == "hs":
            alg = pick(draw, ["RS256", "ES256"])
            h = {"alg": alg}
            si = f"{seg(h)}.{seg(claims)}"
            sig = b64(OTHER_RSA.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256()) if alg == "RS256"
                      else es_raw(OTHER_EC, si.encode()))
            return case("alg-swap", cfg, f"{si}.{sig}", f"{alg} with the attacker's key")
        key = RSA_KEY if cfg == "rs" else EC_KEY
        jwk = {**public_jwk(key, ALG[cfg]), "kid": KID[cfg]}
        form = pick(draw, ["pem", "der", "jwk-json", "jwk-json-compact"])
        material = {"pem": _pem(key), "der": _der(key), "jwk-json": json.dumps(jwk).encode(),
                    "jwk-json-compact": json.dumps(jwk, separators=(",", ":")).encode()}[form]
        h = {"alg": "HS256", **({"kid": KID[cfg]} if draw(BOOL) else {})}
        si = f"{seg(h)}.{seg(claims)}"
        return case("alg-swap", cfg, f"{si}.{b64(hmac.new(material, si.encode(), hashlib.sha256).digest())}",
                    f"HS256 MACed with the public key ({form})")
    # a token that is valid for another pattern
    src = pick(draw, [c for c in CFGS if c != cfg])
    return case("alg-swap", cfg, jws(src, draw(header_for(src)), claims), f"valid {src} token")


@st.composite
def b64_padding(draw):
    cfg, tok = draw(valid_token())
    parts = tok.split(".")
    i = num(draw, (0, 2))
    s = parts[i]
    right = "=" * (-len(s) % 4)  # what base64 with padding would have
    add = right if right and draw(BOOL) else pick(draw, ["=", "==", "===", "===="])
    parts[i] = s + add
    tok = ".".join(parts) if i == 2 else resigned(cfg, parts[0], parts[1])
    return case("b64-padding", cfg, tok, f"segment {i} + {add!r} (needs {right!r})")


@st.composite
def b64_alphabet(draw):
    cfg, tok = draw(valid_token())
    parts = tok.split(".")
    i = num(draw, (0, 2))
    s = parts[i]
    kind = pick(draw, ["standard-alphabet", "insert", "around-token"])
    if kind == "standard-alphabet" and ("-" in s or "_" in s):
        parts[i] = s.replace("-", "+").replace("_", "/")
        note = f"segment {i} in the +/ alphabet"
    elif kind == "around-token":
        ch = pick(draw, [" ", "\t", "\n", "\r\n", "\u00a0", "\u200b"])
        where = pick(draw, ["before", "after"])
        return case("b64-alphabet", cfg, ch + tok if where == "before" else tok + ch, f"{ch!r} {where}")
    else:
        ch = pick(draw, list("+/= \t\n!#%*~") + ["%3D", "\u00e9", "\u0410"])
        j = num(draw, (0, len(s)))
        parts[i] = s[:j] + ch + s[j:]
        note = f"{ch!r} inserted in segment {i} at {j}"
    tok = ".".join(parts) if i == 2 else resigned(cfg, parts[0], parts[1])
    return case("b64-alphabet", cfg, tok, note)


@st.composite
def b64_trailing_bits(draw):
    cfg, tok = draw(valid_token())
    parts = tok.split(".")
    choices = [i for i in range(3) if len(parts[i]) % 4 in (2, 3)]  # 4 or 2 unused bits in the last character
    i = pick(draw, choices)
    s = parts[i]
    unused = 4 if len(s) % 4 == 2 else 2
    bits = num(draw, (1, 2**unused - 1))
    parts[i] = s[:-1] + B64[B64.index(s[-1]) ^ bits]  # canonical: the unused bits were 0, now some are 1
    tok = ".".join(parts) if i == 2 else resigned(cfg, parts[0], parts[1])
    return case("b64-trailing-bits", cfg, tok, f"segment {i}, unused bits {bits:0{unused}b}")


def _with_duplicate(obj: dict, key: str, first, style: str) -> bytes:
    """JSON text of obj with `key` written twice: `first`, then obj's own value (JSON.parse and Python both keep
    the last)."""
    text = dumps(obj, style).decode()
    lead = dumps({key: first}, style).decode().rstrip().rstrip("}").rstrip()
    return (lead + ("," if len(obj) else "") + text.lstrip().lstrip("{")).encode()


@st.composite
def duplicate_keys(draw):
    cfg = draw(pattern())
    header, claims = draw(header_for(cfg)), draw(valid_claims())
    style = pick(draw, STYLES)
    where = pick(draw, ["header", "payload"])
    if where == "header":
        # (not kid: PyJWT is handed the key and never looks kid up, so a wrong kid is no test of either parser)
        key = pick(draw, ["alg", "alg", "typ", "cty"])
        bad = {"alg": pick(draw, ["none", "HS512", ALG[cfg]]), "typ": "JWT", "cty": "x"}[key]
        if draw(BOOL):  # the last value is the odd one
            header[key], bad = bad, header.get(key, "JWT")
        h, p = b64(_with_duplicate(header, key, bad, style)), seg(claims, style)
    else:
        key = pick(draw, ["exp", "nbf", "sub", "aud", "iss", "jti", "scope"])
        bad = {"exp": NOW - 1000, "nbf": NOW + 1000, "sub": "mallory", "aud": "someone-else", "iss": "https://evil/",
               "jti": "j2", "scope": "admin"}[key]
        if draw(BOOL):
            claims[key], bad = bad, claims.get(key, "x")
        h, p = seg(header, style), b64(_with_duplicate(claims, key, bad, style))
    return case("duplicate-keys", cfg, resigned(cfg, h, p), f"{where} {key} twice")


@st.composite
def sub_not_string(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    claims["sub"] = draw(NOT_STRING)
    return case("sub-not-string", cfg, jws(cfg, draw(header_for(cfg)), claims), f"sub={claims['sub']!r}")


@st.composite
def jti_not_string(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    claims["jti"] = draw(NOT_STRING)
    return case("jti-not-string", cfg, jws(cfg, draw(header_for(cfg)), claims), f"jti={claims['jti']!r}")


@st.composite
def aud_iss_types(draw):
    cfg = draw(pattern())
    claims = draw(valid_claims())
    name = pick(draw, ["aud", "iss"])
    if name == "aud":
        v = pick(draw, [1, None, True, {AUD: True}, [AUD, 1], [AUD, None], [], "", [[AUD]], AUD + " ",
                                  AUD.upper(), "other", ["other"], "missing"])
    else:
        v = pick(draw, [1, None, True, [ISS], {"iss": ISS}, ISS.rstrip("/"), ISS + "x", ISS.upper(), "",
                                  " " + ISS, "missing"])
    if v == "missing":
        del claims[name]
    else:
        claims[name] = v
    return case("aud-iss-types", cfg, jws(cfg, draw(header_for(cfg)), claims), f"{name}={v!r}")


def _sized(cfg: str, header: dict, claims: dict, target: int) -> str:
    """A token of `cfg` `target` characters long, or up to two shorter (lengths base64url cannot take)."""
    pad = 0
    for _ in range(30):
        tok = jws(cfg, header, {**claims, "pad": "x" * pad})
        d = target - len(tok)
        if 0 <= d <= 2:
            return tok
        pad = max(0, pad + (d * 3 // 4 if abs(d) > 3 else 1 if d > 0 else -1))
    raise AssertionError(f"no token of {target} characters")


@st.composite
def oversized(draw):
    cfg = draw(pattern())
    target = MAX_TOKEN + pick(draw, [1, 2, 3, 4, 8, 100, 1000, 4000, 20000])
    tok = _sized(cfg, draw(header_for(cfg)), draw(valid_claims()), target + 2)
    assert len(tok) > MAX_TOKEN, (len(tok), target)
    return case("oversized", cfg, tok, f"{len(tok)} characters")


@st.composite
def near_size_limit(draw):
    cfg = draw(pattern())
    target = MAX_TOKEN - pick(draw, [0, 0, 1, 2, 3, 10, 100, 1000])
    tok = _sized(cfg, draw(header_for(cfg)), draw(valid_claims()), target)
    assert MAX_TOKEN - 1100 <= len(tok) <= MAX_TOKEN, (len(tok), target)
    return case("near-size-limit", cfg, tok, f"{len(tok)} characters")


@st.composite
def kid_not_string(draw):
    cfg = draw(pattern())
    header = dict(draw(header_for(cfg)))
    header["kid"] = pick(draw, [1, 0, None, True, False, [KID.get(cfg, "k")], {"kid": KID.get(cfg, "k")}])
    return case("kid-not-string", cfg, jws(cfg, header, draw(valid_claims())), f"kid={header['kid']!r}")


CRIT_B64 = [{"b64": True}, {"b64": False}, {"crit": ["b64"], "b64": True}, {"crit": ["b64"], "b64": False},
            {"crit": ["b64"]}, {"crit": ["exp"]}, {"crit": ["exp"], "exp": NOW + 100}, {"crit": []}, {"crit": "b64"},
            {"crit": ["b64", "b64"], "b64": True}, {"crit": [1]}, {"crit": None}]


@st.composite
def crit_b64(draw):
    cfg = draw(pattern())
    extra = pick(draw, CRIT_B64)
    header = {**draw(header_for(cfg)), **extra}
    return case("crit-b64", cfg, jws(cfg, header, draw(valid_claims())), json.dumps(extra))


@st.composite
def header_ignored_params(draw):
    cfg = draw(pattern())
    header = dict(draw(header_for(cfg)))
    attacker = public_jwk(OTHER_EC, "ES256")
    params = {"jku": "https://evil.example/jwks.json", "x5u": "https://evil.example/cert.pem", "jwk": attacker,
              "x5c": ["MIIB"], "x5t": "abc", "cty": "JWT", "typ": pick(draw, ["JWT", "at+jwt", "jwt", ""]),
              "zip": "DEF", "enc": "A128GCM", "custom": draw(json_values)}
    chosen = num(draw, (1, 2 ** len(params) - 1))  # a non-empty subset
    for bit, name in enumerate(sorted(params)):
        if chosen >> bit & 1:
            header[name] = params[name]
    return case("header-ignored-params", cfg, jws(cfg, header, draw(valid_claims())), ",".join(header))


@st.composite
def json_encoding(draw):
    cfg = draw(pattern())
    header, claims = draw(header_for(cfg)), draw(valid_claims())
    where = pick(draw, ["header", "payload"])
    obj = header if where == "header" else claims
    kind = pick(draw, ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-bom", "encoded-surrogate",
                                 "lone-continuation-byte", "overlong", "truncated-sequence", "latin-1"])
    text = dumps(obj, ascii_only=False).decode()
    if kind.startswith("utf-1") or kind == "utf-32":
        raw = text.encode(kind)
    elif kind == "utf-8-bom":
        raw = b"\xef\xbb\xbf" + text.encode()
    else:  # a string value holding bytes that are not UTF-8
        bad = {"encoded-surrogate": b"\xed\xa0\x80", "lone-continuation-byte": b"\x80", "overlong": b"\xc0\xaf",
               "truncated-sequence": b"\xe2\x82", "latin-1": "é".encode("latin-1")}[kind]
        raw = dumps({**obj, "note": "\x00MARK\x00"}, ascii_only=False).replace(b"\\u0000MARK\\u0000", bad)
    h, p = (b64(raw), seg(claims)) if where == "header" else (seg(header), b64(raw))
    return case("json-encoding", cfg, resigned(cfg, h, p), f"{where} {kind}")


@st.composite
def json_nonstandard(draw):
    cfg = draw(pattern())
    header, claims = draw(header_for(cfg)), draw(valid_claims())
    kind = pick(draw, ["NaN", "Infinity", "-Infinity", "trailing-comma", "single-quotes", "comment",
                                 "unquoted-key", "hex-number", "leading-zero", "plus-sign", "control-char"])
    name = pick(draw, ["scope", "exp", "iat", "nbf"])
    if kind in ("NaN", "Infinity", "-Infinity"):
        claims[name] = Raw(kind)
        raw = dumps(claims)
    else:
        text = dumps(claims).decode()
        raw = {"trailing-comma": text[:-1] + ",}", "single-quotes": text.replace('"iss"', "'iss'"),
               "comment": text[:-1] + "/* c */}", "unquoted-key": text.replace('"iss"', "iss"),
               "hex-number": text[:-1] + ',"n":0x10}', "leading-zero": text[:-1] + ',"n":007}',
               "plus-sign": text[:-1] + ',"n":+1}', "control-char": text[:-1] + ',"n":"a\tb"}'}[kind].encode()
    note = f"{kind} in {name}" if kind in ("NaN", "Infinity", "-Infinity") else kind
    return case("json-nonstandard", cfg, resigned(cfg, seg(header), b64(raw)), note)


@st.composite
def deep_nesting(draw):
    cfg = draw(pattern())
    depth = num(draw, (1, 2200))
    claims = draw(valid_claims())
    claims["scope"] = Raw("[" * depth + "]" * depth)
    tok = jws(cfg, draw(header_for(cfg)), claims)
    assert len(tok) <= MAX_TOKEN, len(tok)
    return case("deep-nesting", cfg, tok, f"depth {depth}")


@st.composite
def structure(draw):
    cfg, tok = draw(valid_token())
    h, p, s = tok.split(".")
    kind = pick(draw, ["one", "two", "four", "five", "trailing-dot", "leading-dot", "empty-header",
                                 "empty-payload", "empty-signature", "empty", "bearer-inside", "jws-json",
                                 "jws-json-flattened", "double-dot"])
    out = {"one": h, "two": f"{h}.{p}", "four": f"{tok}.{s}", "five": f"{tok}.{p}.{s}", "trailing-dot": f"{tok}.",
           "leading-dot": f".{tok}", "empty-header": f".{p}.{s}", "empty-payload": resigned(cfg, h, ""),
           "empty-signature": f"{h}.{p}.", "empty": "", "bearer-inside": f"Bearer {tok}",
           "jws-json": json.dumps({"payload": p, "signatures": [{"protected": h, "signature": s}]}),
           "jws-json-flattened": json.dumps({"payload": p, "protected": h, "signature": s}),
           "double-dot": f"{h}..{p}.{s}"}[kind]
    return case("structure", cfg, out, kind)


@st.composite
def not_an_object(draw):
    cfg = draw(pattern())
    header, claims = draw(header_for(cfg)), draw(valid_claims())
    value = pick(draw, [[claims], [], "x", 1, None, True, Raw('"{}"')])
    if draw(BOOL):
        return case("not-an-object", cfg, jws(cfg, header, value), f"payload {value!r}")
    return case("not-an-object", cfg, jws(cfg, [header] if value == [claims] else value, claims), f"header {value!r}")


CLASSES = {
    "valid": valid, "tampered": tampered, "time-boundary": time_boundary, "time-fractional": time_fractional,
    "time-as-string": time_as_string, "time-as-bool": time_as_bool, "time-other-type": time_other_type,
    "time-out-of-range": time_out_of_range, "alg-swap": alg_swap, "b64-padding": b64_padding,
    "b64-alphabet": b64_alphabet, "b64-trailing-bits": b64_trailing_bits, "duplicate-keys": duplicate_keys,
    "sub-not-string": sub_not_string, "jti-not-string": jti_not_string, "aud-iss-types": aud_iss_types,
    "oversized": oversized, "near-size-limit": near_size_limit, "kid-not-string": kid_not_string,
    "crit-b64": crit_b64, "header-ignored-params": header_ignored_params, "json-encoding": json_encoding,
    "json-nonstandard": json_nonstandard, "deep-nesting": deep_nesting, "structure": structure,
    "not-an-object": not_an_object,
}


def generate(strategy, n: int) -> list[dict]:
    """n examples of `strategy`, the same ones on every run: derandomized, no database, generation only (no
    shrinking or targeting, nothing that depends on how long an example took).

    Hypothesis also mixes in now and then literals it finds in the project's own modules that happen to be
    imported (its "local constants"): the examples would then depend on which other test files ran first in the
    same process (pytest-xdist) and on unrelated edits under components/. That pool is emptied while generating,
    so the examples depend on this file and Hypothesis' version alone."""
    from hypothesis.internal.conjecture import providers

    out: list[dict] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(strategy())
    def collect(c):
        out.append(c)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(providers, "_get_local_constants", lambda: providers.Constants())
        providers.CONSTANTS_CACHE.cache.clear()
        try:
            collect()
        finally:
            providers.CONSTANTS_CACHE.cache.clear()
    return out


# ---------------------------------------------------------------- PyJWT on the fixed clock


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.fromtimestamp(NOW, tz)


def pyjwt_verdicts(cases: list[dict], patterns: dict) -> list[str]:
    """PyJWT's answer per case: "+" (claims returned) or "-<exception>"."""
    keys = {"hs": HS_SECRET.encode(), "rs": RSA_KEY.public_key(), "es": EC_KEY.public_key()}
    kw = {name: {"key": keys[name], "algorithms": list(p.algorithms), "audience": p.audience, "issuer": p.issuer,
                 "leeway": p.leeway,
                 "options": {"require": (["exp"] if p.require_exp else []) + list(p.required_claims)}}
          for name, p in patterns.items()}
    out = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jwt.api_jwt, "datetime", _FrozenDatetime)
        # Canary: valid only at NOW (nbf one second inside the leeway, exp one second above its bound), refused at
        # NOW + leeway + 1 by the exp rule: if the clock were not replaced, the real clock (years earlier) would
        # refuse the first one.
        canary = {"sub": "c", "iss": ISS, "aud": AUD, "nbf": NOW + LEEWAY - 1, "exp": NOW - LEEWAY + 1}
        assert pyjwt.decode(pyjwt.encode(canary, HS_SECRET, "HS256"), **kw["hs"])["sub"] == "c"
        with pytest.raises(pyjwt.ExpiredSignatureError):
            pyjwt.decode(pyjwt.encode({**canary, "exp": NOW - LEEWAY}, HS_SECRET, "HS256"), **kw["hs"])
        for c in cases:
            try:
                pyjwt.decode(c["token"], **kw[c["cfg"]])
                out.append("+")
            except Exception as e:  # PyJWTError, or anything else it lets escape: a refusal either way
                out.append(f"-{type(e).__name__}")
    return out


def _python_json_depth_limited() -> bool:
    try:
        json.loads("[" * 2200 + "]" * 2200)
        return False
    except RecursionError:
        return True


# ---------------------------------------------------------------- the run


SUBS_STRING = ["alice", "", "ünïcødé user", "a b/c?d&e=f", "123", "null", "[object Object]"]
SUBS_OTHER = [123, 0, -1, 1.5, 1e21, 2**60, True, False, None, {"id": "alice"}, {}, ["alice"], []]


def _step_token(sub="__absent__", **extra) -> str:
    claims = {"iss": ISS, "aud": AUD, "exp": NOW + 300, **extra}
    if sub != "__absent__":
        claims["sub"] = sub
    return jws("hs", {"alg": "HS256"}, claims)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    app = parse_app(APP)
    patterns = {p.name: p for p in app.patterns}
    configs = {name: pattern_config(p, app) for name, p in patterns.items()}
    for name in CFGS:
        assert configs[name]["leeway"] == LEEWAY and configs[name]["maxTokenBytes"] == MAX_TOKEN, configs[name]

    t0 = time.monotonic()
    cases = [c for name, strategy in CLASSES.items() for c in generate(strategy, PER_CLASS)]
    t_gen = time.monotonic() - t0

    t0 = time.monotonic()
    py = pyjwt_verdicts(cases, {n: patterns[n] for n in CFGS})
    t_py = time.monotonic() - t0

    order = list(configs)
    steps = [("string", s, "hs", _step_token(s)) for s in SUBS_STRING]
    steps += [("other", s, "hs", _step_token(s)) for s in SUBS_OTHER]
    steps += [("absent", None, "hs", _step_token())]
    steps += [("odd-required", None, "odd", _step_token("alice"))]
    work = tmp_path_factory.mktemp("jwt-fuzz")
    (work / "input.json").write_text(json.dumps({
        "nowMs": NOW * 1000, "secret": HS_SECRET, "configs": [configs[n] for n in order], "batch": BATCH,
        "tokens": [[order.index(c["cfg"]), c["token"]] for c in cases],
        "steps": [[order.index(cfg), tok] for _, _, cfg, tok in steps]}))
    t0 = time.monotonic()
    p = subprocess.run(["node", str(ROOT / "tests" / "jwt_vectors" / "fuzz.mjs"), str(work / "input.json")],
                       capture_output=True, text=True, timeout=600, cwd=ROOT / "functions")
    t_js = time.monotonic() - t0
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    return {"cases": cases, "pyjwt": py, "edge": {rt: out[rt]["tokens"] for rt in RUNTIMES},
            "steps": steps, "step_results": {rt: out[rt]["steps"] for rt in RUNTIMES}, "work": work,
            "times": {"generate": t_gen, "pyjwt": t_py, "node driver": t_js,
                      **{f"verify in {rt}": out[rt]["ms"] / 1000 for rt in RUNTIMES}}}


def _accepts(verdict: str) -> bool:
    return verdict == "+"


def _summary(run) -> dict:
    cases, py, edge = run["cases"], run["pyjwt"], run["edge"]
    per: dict[str, dict] = {}
    for i, c in enumerate(cases):
        row = per.setdefault(c["cls"], {"cases": 0, "pyjwt accepts": 0, "edgeport accepts": 0,
                                        "disagreements": {rt: 0 for rt in RUNTIMES}})
        row["cases"] += 1
        row["pyjwt accepts"] += _accepts(py[i])
        row["edgeport accepts"] += _accepts(edge["node"][i])
        for rt in RUNTIMES:
            row["disagreements"][rt] += _accepts(py[i]) != _accepts(edge[rt][i])
    digest = hashlib.sha256(json.dumps([(c["cls"], c["cfg"], c["token"]) for c in cases]).encode()).hexdigest()
    return {"total": len(cases), "now": NOW, "classes": per, "seconds": {k: round(v, 2) for k, v in run["times"].items()},
            "tokens digest": digest[:16]}


# ---------------------------------------------------------------- tests


def test_enough_tokens_in_every_class(run):
    counts = Counter(c["cls"] for c in run["cases"])
    assert sum(counts.values()) >= 10_000
    assert set(counts) == set(CLASSES)
    assert min(counts.values()) >= PER_CLASS // 2, counts


def test_the_runtimes_agree_and_nothing_throws(run):
    """The same answer, reason included, from workerd, edge-runtime and Node; never a 503 for a token."""
    edge = run["edge"]
    differ = [(c["cls"], c["note"], [edge[rt][i] for rt in RUNTIMES]) for i, c in enumerate(run["cases"])
              if len({edge[rt][i] for rt in RUNTIMES}) > 1]
    assert differ == [], differ[:10]
    threw = [(c["cls"], c["note"], edge["node"][i]) for i, c in enumerate(run["cases"]) if edge["node"][i].startswith("!")]
    assert threw == [], threw[:10]


def test_each_class_is_what_it_was_generated_to_be(run):
    """Classes made to be accepted (or refused) are, by both verifiers: the generator does what it says."""
    wrong = []
    for i, c in enumerate(run["cases"]):
        want = EXPECTED.get(c["cls"])
        for who, verdict in (("pyjwt", run["pyjwt"][i]), ("edgeport", run["edge"]["node"][i])):
            if want is not None and _accepts(verdict) != want:
                wrong.append((c["cls"], c["cfg"], c["note"], who, verdict, c["token"][:120]))
    assert wrong == [], f"{len(wrong)} cases: {wrong[:10]}"


def test_every_disagreement_is_a_listed_difference(run):
    summary = _summary(run)
    path = run["work"] / "summary.json"
    path.write_text(json.dumps(summary, indent=1))
    print(f"\njwt fuzz: {summary['total']} tokens at now={NOW}, digest {summary['tokens digest']}; seconds "
          f"{summary['seconds']}; {path}")
    print(f"{'class':24} {'cases':>6} {'pyjwt+':>7} {'edge+':>6}  disagreements (workerd / edge-runtime / node)")
    for cls, row in summary["classes"].items():
        d = row["disagreements"]
        mark = " (known)" if cls in KNOWN_DIFFERENCES else " (pending fix)" if cls in PENDING_FIXES else ""
        print(f"{cls:24} {row['cases']:6} {row['pyjwt accepts']:7} {row['edgeport accepts']:6}  "
              f"{d['workerd']} / {d['edge-runtime']} / {d['node']}{mark}")
    listed = KNOWN_DIFFERENCES.keys() | PENDING_FIXES.keys()
    unexplained = [(c["cls"], c["cfg"], c["note"], f"pyjwt {run['pyjwt'][i]}", {rt: run["edge"][rt][i] for rt in RUNTIMES})
                   for i, c in enumerate(run["cases"]) if c["cls"] not in listed
                   and any(_accepts(run["pyjwt"][i]) != _accepts(run["edge"][rt][i]) for rt in RUNTIMES)]
    assert unexplained == [], f"{len(unexplained)} disagreements outside the listed classes: {unexplained[:10]}"


def test_every_listed_difference_occurs(run):
    """A listed class that no longer produces a disagreement is stale: drop it (and its docs/jwt.md entry)."""
    summary = _summary(run)["classes"]
    assert set(KNOWN_DIFFERENCES) | set(PENDING_FIXES) <= set(CLASSES)
    absent = [cls for cls in [*KNOWN_DIFFERENCES, *PENDING_FIXES] if min(summary[cls]["disagreements"].values()) == 0]
    if "deep-nesting" in absent and not _python_json_depth_limited():
        absent.remove("deep-nesting")  # this Python's json parses 2,200 levels: nothing left to differ on
    assert absent == []


def test_the_differences_are_documented():
    doc = (ROOT / "docs" / "jwt.md").read_text()
    section = doc.split("## Where edgeport differs from PyJWT", 1)[1].split("\n## ", 1)[0]
    assert [cls for cls in [*KNOWN_DIFFERENCES, *PENDING_FIXES] if f"`{cls}`" not in section] == []


# ---------------------------------------------------------------- claim types forwarded (sub)
# RFC 7519 §4.1.2: sub is a StringOrURI, i.e. a JSON string. The hs pattern forwards sub as x-user-id
# (forward.claims), percent-encoded. A string sub must reach the origin exactly; anything else must be refused (401):
# forwarded as String(v) a number, 1e21 and a boolean become text that a string sub could also be ("123", "1e+21",
# "true"), so two different subjects would reach the origin as one identity; and null, an object or an array would
# let the request through with no x-user-id at all, although requiredClaims lists sub.


def _steps(run, kind: str, runtime: str):
    return [(sub, res) for (k, sub, _, _), res in zip(run["steps"], run["step_results"][runtime]) if k == kind]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_string_sub_reaches_the_origin_exactly(run, runtime):
    got = _steps(run, "string", runtime)
    assert len(got) == len(SUBS_STRING)
    for sub, (status, headers) in got:
        assert status == 200 and headers["x-user-id"] == quote(sub, safe="-_.!~*'()"), (sub, status, headers)
    [(_, (status, _h))] = _steps(run, "absent", runtime)
    assert status == 401  # requiredClaims: [sub]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_sub_that_is_not_a_string_is_refused(run, runtime):
    got = _steps(run, "other", runtime)
    assert len(got) == len(SUBS_OTHER)
    assert [(sub, res) for sub, res in got if res[0] != 401] == []


def test_sub_handling_is_the_same_in_every_runtime(run):
    """Whatever the verdict on a sub, every target gives the same one (what they do today is printed with -s)."""
    results = run["step_results"]
    assert results["workerd"] == results["edge-runtime"] == results["node"]
    print("\nsub today (every runtime):")
    for (kind, sub, _, _), (status, headers) in zip(run["steps"], results["node"]):
        user = None if headers is None else headers.get("x-user-id", "(no x-user-id)")
        print(f"  {kind:12} sub={sub!r:22} -> {status} x-user-id={user!r}")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_required_claim_named_like_an_object_member_must_be_present(run, runtime):
    [(_, (status, _h))] = _steps(run, "odd-required", runtime)
    assert status == 401  # the odd pattern requires "constructor"; the token has no such claim
