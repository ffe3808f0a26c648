"""jwt-auth: verify bearer JWTs at the edge, fail closed, forward the verified claims to the origin.

Everything about the pattern on the Python side: its declaration, the rules checked at validate time (keys,
algorithms, secrets), the runtime config the edge step (functions/src/patterns/jwt.ts) reads, the request-header
budget every target checks, development tokens and the conformance placeholders. docs/jwt.md is the reference.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets as _random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import EdgeportError, PlaceholderError
from ..spec import roca, routes as declared, secret_refs
from ..spec.types import HeaderName, Model
from .base import PatternBase, PatternKind, Placeholders, Reads, Requirement, SecretValueProblem, yes

if TYPE_CHECKING:
    from ..errors import Problems
    from ..spec.models import App
    from ..targets.base import HeaderLimit


# ---------------------------------------------------------------- declaration

class Jwk(BaseModel):
    """A public JSON Web Key (RFC 7517). Unknown JWK parameters (x5t, ...) are kept and ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kty: str
    kid: str | None = None
    alg: str | None = None
    use: str | None = None
    key_ops: list[str] | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


class Jwks(Model):
    keys: list[Jwk] = Field(min_length=1)


class TokenSource(Model):
    header: HeaderName = "authorization"
    scheme: str = Field(default="Bearer", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    cookie: str | None = Field(default=None, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


class Forward(Model):
    claims_header: HeaderName | None = "x-edgeport-claims"
    claims: dict[HeaderName, str] = Field(default_factory=dict, description="header -> claim name")
    token: bool = True


Alg = Literal["HS256", "HS384", "HS512", "RS256", "ES256"]


class JwtAuth(PatternBase):
    """Verify bearer JWTs at the edge (fails closed) and forward the verified claims to the origin."""

    type: Literal["jwt-auth"]
    algorithms: list[Alg] = Field(min_length=1)
    secret: str | None = Field(default=None, description="name of the HMAC secret (HS* algorithms)")
    secret_encoding: Literal["utf8", "base64url"] = "utf8"
    jwks: Jwks | None = None
    issuer: str | None = None
    audience: str | list[str] | None = None
    leeway: int = Field(default=30, ge=0, le=300)
    require_exp: bool = True
    max_age: int | None = Field(default=None, ge=1)
    required_claims: list[str] = []
    typ: str | None = None
    token: TokenSource = TokenSource()
    forward: Forward = Forward()
    strip_headers: list[HeaderName] = []
    realm: str | None = Field(default=None, pattern=r'^[^"\\]{1,64}$')
    # 7 KiB, not 8: with the default forwarding the request to the origin carries the token twice (Authorization
    # and the claims header), and CloudFront's 20,480 B of request line + headers then leaves room for 4 KiB of
    # ordinary headers and a few claim headers only below ~8,000 B (header_issues below).
    max_token_bytes: int = Field(default=7168, ge=512, le=16384)


# ---------------------------------------------------------------- validation

PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


def _b64url_bytes(s: str | None) -> bytes | None:
    if s is None:
        return None
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        return None


# The edge decodes a base64url secret strictly (functions/src/core/b64.ts): RFC 4648 §5 alphabet, no
# padding, canonical. A value it cannot decode makes every request 503, so the same rule applies here.
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_strict(s: str) -> bytes | None:
    if not _B64URL.match(s) or len(s) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != s:
        return None  # non-zero unused bits: a second spelling of the same bytes
    return raw


def _check_jwk(key, i: int, path: str, problems: "Problems") -> None:
    kp = f"{path}.keys[{i}]"
    if key.kty == "oct":
        problems.add(f"{kp}.kty", "symmetric (oct) keys cannot be listed in jwks",
                     "put an HMAC key in a secret and reference it with `secret:`")
        return
    extra = key.model_extra or {}
    private = [m for m in PRIVATE_JWK_MEMBERS if m in extra]
    if private:
        problems.add(kp, f"contains private key material ({', '.join(private)})", "publish only the public key: remove "
                     + ", ".join(private) + " (rotate the key if this file was ever shared)")
        return
    if key.kty not in ("RSA", "EC"):
        problems.add(f"{kp}.kty", f"unsupported key type {key.kty!r}", "use RSA (RS256) or EC P-256 (ES256) keys")
        return
    if key.use not in (None, "sig"):
        problems.add(f"{kp}.use", f"use is {key.use!r}", "a verification key must have use 'sig' (or no use)")
    if key.key_ops is not None and "verify" not in key.key_ops:
        problems.add(f"{kp}.key_ops", "key_ops does not include 'verify'", "add 'verify' or drop key_ops")
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if key.kty == "RSA":
        if key.alg not in (None, "RS256"):
            problems.add(f"{kp}.alg", f"alg {key.alg!r} does not fit an RSA key here", "use RS256")
        n, e = _b64url_bytes(key.n), _b64url_bytes(key.e)
        if not n or not e:
            problems.add(kp, "RSA key needs base64url members n and e")
            return
        bits = int.from_bytes(n, "big").bit_length()
        if bits < 2048:
            problems.add(f"{kp}.n", f"RSA key is {bits} bits", "use a key of at least 2048 bits (RFC 7518 §3.3)")
        if roca.has_roca_fingerprint(int.from_bytes(n, "big")):
            problems.add(f"{kp}.n", "RSA key has the ROCA fingerprint (CVE-2017-15361): it was generated by Infineon's "
                         "RSALib (a smartcard, TPM or token with unpatched firmware), and its private key can be computed "
                         "from this public key",
                         "regenerate the key pair on an unaffected device/library and publish the new public key; "
                         "treat tokens signed with this key as forgeable until it is removed")
        try:
            rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
        except ValueError as err:
            problems.add(kp, f"not a valid RSA public key: {err}")
    else:
        if key.crv != "P-256":
            problems.add(f"{kp}.crv", f"curve {key.crv!r} is not supported", "ES256 needs a P-256 key (crv: P-256)")
            return
        if key.alg not in (None, "ES256"):
            problems.add(f"{kp}.alg", f"alg {key.alg!r} does not fit a P-256 key", "use ES256")
        x, y = _b64url_bytes(key.x), _b64url_bytes(key.y)
        if not x or not y or len(x) != 32 or len(y) != 32:
            problems.add(kp, "P-256 key needs 32-byte base64url members x and y")
            return
        try:
            ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
        except ValueError:
            problems.add(kp, "x, y is not a point on P-256", "copy the public key again from your identity provider's JWKS")


def _key_fits(key, alg: str) -> bool:
    if alg == "RS256":
        return key.kty == "RSA" and key.alg in (None, "RS256")
    if alg == "ES256":
        return key.kty == "EC" and key.crv == "P-256" and key.alg in (None, "ES256")
    return False


def _check_jwt(p: JwtAuth, path: str, problems: "Problems") -> None:
    if len(set(p.algorithms)) != len(p.algorithms):
        problems.add(f"{path}.algorithms", "lists an algorithm twice", "list each algorithm once")
    hs = [a for a in p.algorithms if a.startswith("HS")]
    asym = [a for a in p.algorithms if not a.startswith("HS")]
    if hs and not p.secret:
        problems.add(path, f"{', '.join(hs)} needs an HMAC key", "add `secret: <name>` and set its value "
                     "(pulumi config set --secret <name> ...)")
    if p.secret and not hs:
        problems.add(f"{path}.secret", "a secret is set but no HS* algorithm is accepted",
                     "add HS256 to algorithms, or remove the secret")
    if p.secret is not None:
        if not secret_refs.NAME_RE.match(p.secret) or p.secret in secret_refs.RESERVED:
            problems.add(f"{path}.secret", f"{p.secret!r} is not a valid secret name",
                         "use lower-case letters, digits and '_', starting with a letter (e.g. jwt_hmac); 'app' is reserved")
    if asym and not p.jwks:
        problems.add(path, f"{', '.join(asym)} needs public keys", "add `jwks: {keys: [...]}` with your issuer's public keys")
    if p.jwks:
        jp = f"{path}.jwks"
        if not asym:
            problems.add(jp, "jwks is set but no RS256/ES256 algorithm is accepted", "add RS256 or ES256 to algorithms")
        for i, k in enumerate(p.jwks.keys):
            _check_jwk(k, i, jp, problems)
        kids = [k.kid for k in p.jwks.keys if k.kid is not None]
        if len(kids) != len(set(kids)):
            problems.add(f"{jp}.keys", "two keys share a kid", "give every key a distinct kid")
        for alg in asym:
            fitting = [k for k in p.jwks.keys if _key_fits(k, alg)]
            if not fitting:
                problems.add(jp, f"no key can verify {alg}",
                             "add an RSA key for RS256 or an EC P-256 key for ES256, or drop the algorithm")
            elif len(fitting) > 1 and any(k.kid is None for k in fitting):
                problems.add(jp, f"several keys can verify {alg} but not all have a kid",
                             "give each key a kid; tokens then pick their key by kid")
    if isinstance(p.audience, list) and not p.audience:
        problems.add(f"{path}.audience", "is an empty list", "list at least one audience or remove the key")
    forwarded = set(p.forward.claims) | ({p.forward.claims_header} if p.forward.claims_header else set())
    if p.token.header in forwarded:
        problems.add(f"{path}.forward", f"would overwrite the token header {p.token.header!r}", "choose another header name")


# ---------------------------------------------------------------- runtime config

def _runtime(p: JwtAuth, app: "App") -> dict[str, Any]:
    out: dict[str, Any] = {
        "algorithms": list(p.algorithms),
        "leeway": p.leeway,
        "requireExp": p.require_exp,
        "requiredClaims": list(p.required_claims),
        "token": {"header": p.token.header, "scheme": p.token.scheme, **({"cookie": p.token.cookie} if p.token.cookie else {})},
        "forward": {
            **({"claimsHeader": p.forward.claims_header} if p.forward.claims_header else {}),
            "claims": dict(p.forward.claims),
            "token": p.forward.token,
        },
        "realm": p.realm or app.name,
        "maxTokenBytes": p.max_token_bytes,
    }
    if p.secret:
        out["hmac"] = {"secret": p.secret, "encoding": p.secret_encoding}
    if p.jwks:
        # Only public members travel to the edge.
        keep = ("kty", "kid", "alg", "use", "key_ops", "crv", "x", "y", "n", "e")
        out["jwks"] = {"keys": [{k: getattr(key, k) for k in keep if getattr(key, k) is not None} for key in p.jwks.keys]}
    if p.issuer is not None:
        out["issuer"] = p.issuer
    if p.audience is not None:
        out["audience"] = [p.audience] if isinstance(p.audience, str) else list(p.audience)
    if p.max_age is not None:
        out["maxAge"] = p.max_age
    if p.typ is not None:
        out["typ"] = p.typ
    return out


def identity_headers(p: JwtAuth) -> set[str]:
    """Headers whose value at the origin must come from the edge alone: the verified claims it forwards and
    `stripHeaders`. Every request loses them on entry (RuntimeConfig.entry), in any spelling."""
    return set(p.strip_headers) | set(p.forward.claims) | ({p.forward.claims_header} if p.forward.claims_header else set())


# ---------------------------------------------------------------- request-header budget

# Headers a request carries besides the ones jwt-auth sizes: the request line (~100 B), Host, User-Agent (~250 B),
# Accept, Accept-Language, Accept-Encoding, Referer, sec-ch-ua / sec-fetch-* (~300 B), what the platform adds on
# the way (Via, X-Amz-Cf-Id, X-Forwarded-For, CloudFront-Viewer-*, cf-*, x-vercel-*: ~300-600 B) and cookies.
# A browser request comes to 1.5-3 KB with a few cookies; 4 KiB covers that with room to spare, and is what a
# stack cannot give to tokens.
HEADER_HEADROOM = 4096
# A forward.claims header carries one claim, URI-encoded: ids, names and e-mail addresses (at most 254 characters,
# RFC 5321 §4.5.3.1.3) fit in 256 B. A larger claim belongs in the claims header, which is already counted in full.
CLAIM_VALUE_BYTES = 256
LINE_OVERHEAD = 4  # ": " between name and value, CRLF after it (HTTP/1.1 wire size, which the limits count)


@dataclass(frozen=True)
class JwtHeaders:
    """Worst-case sizes (bytes on the wire) of the headers a jwt-auth pattern reads and writes."""

    token: int  # the token header as the client sends it (the cookie, when it comes in a cookie, is about as long)
    claims_header: int  # forward.claimsHeader: base64url(JSON claims), about the token's payload segment: counted as the token
    claim_headers: int  # forward.claims, one header each
    forwards_token: bool

    @property
    def incoming(self) -> int:
        return self.token

    @property
    def outgoing(self) -> int:
        """What the request to the origin carries: the token if kept, the claims header, the single-claim headers."""
        return (self.token if self.forwards_token else 0) + self.claims_header + self.claim_headers

    @property
    def worst(self) -> int:
        return max(self.incoming, self.outgoing)

    @property
    def largest(self) -> int:
        return max(self.token, self.claims_header)


def jwt_headers(p, token_bytes: int | None = None) -> JwtHeaders:
    """Sizes for a jwt-auth pattern with tokens of `token_bytes` (default: its maxTokenBytes, the largest it accepts)."""
    n = p.max_token_bytes if token_bytes is None else token_bytes
    token = len(p.token.header) + len(p.token.scheme) + 1 + n + LINE_OVERHEAD
    claims = len(p.forward.claims_header) + n + LINE_OVERHEAD if p.forward.claims_header else 0
    singles = sum(len(h) + CLAIM_VALUE_BYTES + LINE_OVERHEAD for h in p.forward.claims)
    # forward.token: false removes the token header only; a token that came in token.cookie stays in the Cookie header.
    return JwtHeaders(token, claims, singles, p.forward.token or p.token.cookie is not None)


def _fits(p, limit: "HeaderLimit", token_bytes: int | None = None) -> bool:
    h = jwt_headers(p, token_bytes)
    return h.worst + HEADER_HEADROOM <= limit.total and (limit.per_header is None or h.largest <= limit.per_header)


def largest_token_that_fits(p, limit: "HeaderLimit") -> int:
    """The largest maxTokenBytes this pattern's forwarding lets through `limit` (0 if none)."""
    lo, hi = 0, 1 << 20
    while lo < hi:  # sizes grow with the token: the last size that fits
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if _fits(p, limit, mid) else (lo, mid - 1)
    return lo


def _without(p, **forward):
    return p.model_copy(update={"forward": p.forward.model_copy(update=forward)})


def header_issues(p: JwtAuth, i: int, target: str, limit: "HeaderLimit") -> list:
    """An issue when the pattern's largest accepted token would not fit the platform's request headers: a token
    the edge verifies would then be refused by the platform (502 on CloudFront) instead."""
    from ..errors import SpecIssue

    h = jwt_headers(p)
    parts = []
    over_total = h.worst + HEADER_HEADROOM > limit.total
    over_one = limit.per_header is not None and h.largest > limit.per_header
    if not (over_total or over_one):
        return []
    if over_total:
        if h.outgoing >= h.incoming:
            detail = [f"the token {h.token:,} B"] if h.forwards_token else []
            if h.claims_header:
                detail.append(f"{p.forward.claims_header} {h.claims_header:,} B")
            if h.claim_headers:
                detail.append(f"{len(p.forward.claims)} claim header(s) {h.claim_headers:,} B")
            what = "the request to the origin carries " + " + ".join(detail)
        else:
            what = f"the token header is {h.token:,} B"
        parts.append(f"{what}, plus {HEADER_HEADROOM:,} B for ordinary headers = {h.worst + HEADER_HEADROOM:,} B; "
                     f"{target} allows {limit.total:,} B of {limit.counts}")
    if over_one:
        parts.append(f"one header would be {h.largest:,} B; {target} allows {limit.per_header:,} B per header")
    # Only fixes that are enough on their own.
    fits = largest_token_that_fits(p, limit)
    fixes = []
    if fits >= 512:  # the smallest maxTokenBytes the model accepts
        fixes.append(f"lower maxTokenBytes to {fits:,} or less")
    if p.forward.token and _fits(_without(p, token=False), limit):
        fixes.append("set forward.token: false (the origin still gets the verified claims)")
    if p.forward.claims_header and _fits(_without(p, claims_header=None), limit):
        fixes.append("set forward.claimsHeader: null (forward single claims with forward.claims instead)")
    if not fixes:
        fixes.append("forward less (fewer forward.claims, forward.token: false, forward.claimsHeader: null) and lower maxTokenBytes")
    return [SpecIssue(
        f"edgeport:app.patterns[{i}].maxTokenBytes",
        f"tokens up to {p.max_token_bytes:,} B pass verification but not {target}'s request-header limit: "
        + "; ".join(parts) + f" ({limit.source})",
        "; ".join(fixes))]


# ---------------------------------------------------------------- secret values

def _secret_problems(p: JwtAuth, name: str, value: str) -> list[SecretValueProblem]:
    """The secret's value is too short for the pattern's HMAC algorithms, or not decodable when the pattern sets
    secretEncoding: base64url. The value itself never appears."""
    if p.secret != name:
        return []
    hs = [a for a in p.algorithms if a in HMAC_MIN_BYTES]
    need = max((HMAC_MIN_BYTES[a] for a in hs), default=HMAC_MIN_BYTES["HS256"])
    raw = b64url_strict(value) if p.secret_encoding == "base64url" else value.encode()
    if raw is None:
        return [SecretValueProblem(p.name, f"is not valid base64url (pattern {p.name} sets secretEncoding: "
                                   "base64url; only A-Z a-z 0-9 - _, no padding)", need)]
    if len(raw) < need:
        return [SecretValueProblem(p.name, f"is {len(raw)} bytes; {', '.join(hs)} needs at least {need} "
                                   "random bytes (RFC 7518 §3.2)", need)]
    return []


# ---------------------------------------------------------------- development tokens (edgeport token, conformance)

_HASH = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _sign(pattern: JwtAuth, secret: str, header_b64: str, claims: dict[str, Any]) -> str:
    """The one place a token is signed (mint and the conformance variants): HMAC over header.payload with the
    pattern's secret, decoded the way the edge decodes it (secret_encoding)."""
    alg = json.loads(_unb64(header_b64))["alg"]
    key = _unb64(secret) if pattern.secret_encoding == "base64url" else secret.encode()
    signing_input = f"{header_b64}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), _HASH[alg]).digest())}"


def dev_claims(pattern: JwtAuth, *, sub: str = "dev-user", ttl: int = 3600, extra: dict[str, Any] | None = None,
               now: int | None = None) -> dict[str, Any]:
    """Claims a development token needs to pass the pattern's checks (issuer, audience, required claims)."""
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + ttl}
    if pattern.issuer is not None:
        claims["iss"] = pattern.issuer
    if pattern.audience is not None:
        claims["aud"] = pattern.audience if isinstance(pattern.audience, str) else pattern.audience[0]
    for c in pattern.required_claims:
        claims.setdefault(c, "dev")
    claims.update(extra or {})
    return claims


def mint(pattern: JwtAuth, secret: str, *, sub: str = "dev-user", ttl: int = 3600, extra: dict[str, Any] | None = None,
         now: int | None = None) -> str:
    alg = next((a for a in pattern.algorithms if a in _HASH), None)
    if alg is None:
        raise EdgeportError(f"pattern {pattern.name} accepts no HMAC algorithm; mint with --alg RS256 or ES256 (a "
                            "local key pair `edgeport dev` trusts) or with your identity provider")
    claims = dev_claims(pattern, sub=sub, ttl=ttl, extra=extra, now=now)
    return _sign(pattern, secret, _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()), claims)


# ---------------------------------------------------------------- local key pairs (RS256 / ES256 tokens for dev)

ASYMMETRIC = ("RS256", "ES256")


def local_kid(alg: str) -> str:
    return f"edgeport-local-{alg}"


def new_private_key(alg: str):
    """A fresh key pair for local tokens: RSA 2048 for RS256, P-256 for ES256 (RFC 7518 §3.3, §3.4)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    return rsa.generate_private_key(65537, 2048) if alg == "RS256" else ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, alg: str) -> dict[str, Any]:
    """The public half as a JWK (RFC 7517/7518 §6) with the local kid, restricted to signatures with `alg`."""
    pub = private_key.public_key().public_numbers()
    out: dict[str, Any] = {"kid": local_kid(alg), "alg": alg, "use": "sig"}
    if alg == "RS256":
        return {**out, "kty": "RSA", "n": _b64(pub.n.to_bytes((pub.n.bit_length() + 7) // 8, "big")),
                "e": _b64(pub.e.to_bytes((pub.e.bit_length() + 7) // 8, "big"))}
    return {**out, "kty": "EC", "crv": "P-256", "x": _b64(pub.x.to_bytes(32, "big")), "y": _b64(pub.y.to_bytes(32, "big"))}


def mint_asymmetric(pattern: JwtAuth, private_key, alg: str, **claims: Any) -> str:
    """A token signed with a local private key, kid set so the edge picks the local public key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    if alg not in pattern.algorithms:
        raise EdgeportError(f"pattern {pattern.name} does not accept {alg} (it accepts {', '.join(pattern.algorithms)})")
    header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": local_kid(alg)}).encode())
    signing_input = f"{header}.{_b64(json.dumps(dev_claims(pattern, **claims)).encode())}"
    if alg == "RS256":
        sig = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:  # JWS ES256 is r || s, 32 bytes each (RFC 7518 §3.4), not DER
        r, s_ = decode_dss_signature(private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
    return f"{signing_input}.{_b64(sig)}"


def with_local_keys(pattern: JwtAuth, jwks: list[dict[str, Any]]) -> JwtAuth:
    """The pattern also trusting `jwks` (local public keys; used for local runs only, never for a deploy)."""
    keys = [k for k in (pattern.jwks.keys if pattern.jwks else []) if k.kid not in {j["kid"] for j in jwks}]
    return pattern.model_copy(update={"jwks": Jwks(keys=[*keys, *(Jwk(**j) for j in jwks)])})


# ---------------------------------------------------------------- conformance

def _resign(p: JwtAuth, key: str, token: str, drop: tuple[str, ...]) -> str:
    """The same token without some claims, signed again with `key` (mint always sets exp)."""
    h, payload, _ = token.split(".")
    return _sign(p, key, h, {k: v for k, v in json.loads(_unb64(payload)).items() if k not in drop})


def spellings(path: str) -> list[tuple[str, str]]:
    """(label, raw path) for spellings of `path` that common origin frameworks route onto `path` itself:
    Express folds case and ignores a trailing slash; Werkzeug merges slashes and decodes %61; every URL
    parser resolves dot segments (docs/jwt.md, Paths)."""
    first = path[1:2]
    out = [("upper case", path.upper()), ("title case", "/" + path[1:].title()), ("trailing slash", path + "/"),
           ("trailing dot", path + "."), ("leading //", "/" + path), ("doubled slashes", path.replace("/", "//")),
           ("dot segment", "/." + path), ("parent segment", "/x/.." + path), ("%2e%2e segment", "/x/%2e%2e" + path)]
    if first.isalpha():
        out.append(("escaped letter", f"/%{ord(first):02x}{path[2:]}"))
        out.append(("escaped upper letter", f"/%{ord(first.upper()):02X}{path[2:]}"))
    return out


REFUSED = [("encoded slash", "%2F{x}"), ("encoded backslash", "%5c{x}"), ("path parameter", ";jsessionid=1"),
           ("encoded NUL", "%00"), ("double encoding", "%252f{x}"), ("overlong UTF-8 slash", "%c0%af{x}"),
           ("invalid UTF-8", "%ff"), ("stray percent", "%zz")]


SUBJECT = "conformance-user"  # the `sub` of conformance tokens


def _lookup(ctx: Any, name: str, scope: dict[str, Any]) -> Any:
    p: JwtAuth = ctx.pattern
    if name == "sub":
        return SUBJECT
    if name == "realm":
        return p.realm or ctx.app.name
    if name == "claims_header":
        if not p.forward.claims_header:
            raise PlaceholderError(f"pattern {p.name} forwards no claims header")
        return p.forward.claims_header
    if name == "token_header":
        return p.token.header
    if name == "issuer":
        return p.issuer or ""
    if name == "audience":
        return p.audience if isinstance(p.audience, str) else (p.audience or [""])[0]
    if name == "token" or name.startswith("token:"):
        return _conformance_token(ctx, name[6:] if name.startswith("token:") else "")
    raise PlaceholderError(f"unknown placeholder {{{name}}} for jwt-auth")

def _conformance_token(ctx: Any, mods: str) -> str:
    """A token for ctx.pattern. mods: comma-separated kinds (expired, not-yet-valid, alg-none, forged,
    wrong-audience, wrong-issuer, no-exp) and claim=value overrides."""
    p: JwtAuth = ctx.pattern
    if not p.secret:
        raise PlaceholderError(f"pattern {p.name} accepts no HMAC algorithm: tokens cannot be minted locally")
    secret = ctx.secrets[p.secret]
    now = int(time.time())
    ttl, extra, kind = 600, {}, set()
    for mod in filter(None, (m.strip() for m in mods.split(","))):
        if "=" in mod:
            k, v = mod.split("=", 1)
            extra[k] = v
        elif mod in ("expired", "not-yet-valid", "alg-none", "forged", "wrong-audience", "wrong-issuer", "no-exp"):
            kind.add(mod)
        else:
            raise PlaceholderError(f"{{token:{mods}}}: unknown token kind {mod!r} (expired, not-yet-valid, alg-none, "
                                   f"forged, wrong-audience, wrong-issuer, no-exp, or claim=value)")
    if "expired" in kind:
        ttl = -(p.leeway + 120)  # past the allowed clock skew
    if "not-yet-valid" in kind:
        extra["nbf"] = now + p.leeway + 600
    if "wrong-audience" in kind:
        extra["aud"] = "conformance-wrong-audience"
    if "wrong-issuer" in kind:
        extra["iss"] = "https://wrong-issuer.conformance.invalid/"
    key = _random.token_urlsafe(48) if "forged" in kind else secret
    tok = mint(p, key, sub=SUBJECT, ttl=ttl, extra=extra, now=now)
    if "no-exp" in kind:
        tok = _resign(p, key, tok, drop=("exp",))
    if "alg-none" in kind:
        # Same claims, "alg": "none" and no signature: the classic downgrade.
        _, payload, _ = tok.split(".")
        tok = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}."
    return tok


def _items(ctx: Any, kind: str) -> list[tuple[str, dict[str, Any]]] | None:
    p: JwtAuth = ctx.pattern
    if kind == "route-spellings":
        return [(f"{r} {label}", {"value": raw, "route": r}) for r in p.routes for label, raw in spellings(declared.sample(r))]
    if kind == "refused-spellings":
        base = declared.sample(p.routes[0]).rstrip("/")
        return [(label, {"value": base + suffix.replace("{x}", "x")}) for label, suffix in REFUSED]
    if kind == "forwarded-claims":
        out = []
        registered = {"iss": p.issuer, "aud": p.audience if isinstance(p.audience, str) else (p.audience or [None])[0]}
        for header, claim in p.forward.claims.items():
            if claim in ("exp", "nbf", "iat"):
                continue  # numeric and time-bound: their forwarding is not a fixed value to compare
            value = registered.get(claim) or f"conformance-{claim}"
            out.append((header, {"value": header, "header": header, "header_underscore": header.replace("-", "_"),
                                 "claim": claim, "claim_value": value,
                                 "token": f"{claim}={value}" if claim not in registered or registered[claim] is None else ""}))
        return out
    return None


# ---------------------------------------------------------------- the kind


class Kind(PatternKind):
    type = "jwt-auth"
    model = JwtAuth
    order = 20  # after the route is chosen (geo), before bucketing and composing
    component = "JwtAuth"
    component_secrets = {"hmac_secret": ("secret", "HMAC key for HS* algorithms (pass a Pulumi secret).")}
    summary = "Verify bearer JWTs at the edge (fails closed) and forward the verified claims to the origin."
    hosts = {
        "cloudflare": yes("Worker on the zone routes; HMAC key as a secret_text binding, public keys in the JSON config binding"),
        "lambda-edge": yes("viewer-request trigger; HMAC key fetched from Secrets Manager (us-east-1) at cold start and "
                           "cached, public keys baked in", "viewer-request"),
        "vercel": yes("Routing Middleware; HMAC key as a sensitive environment variable; next() with the verified claims"),
    }
    # Its routes cover every spelling an origin could route onto them, and it sees every request of a target: origins
    # route spellings onto a protected handler that no platform route syntax can list (Express folds case, Werkzeug
    # decodes %61 and merges slashes; docs/jwt.md, Paths), and the identity headers the edge forwards must be
    # stripped from requests to every path, not only protected ones.
    guard = True
    secret_fields = ("secret",)
    placeholders = Placeholders(
        names=(r"token(:.*)?", r"sub", r"realm", r"claims_header", r"token_header", r"issuer", r"audience"),
        for_each=frozenset({"routes", "forwarded-claims", "route-spellings", "refused-spellings"}),
        requires={
            "hmac": Requirement(lambda p: bool(p.secret), "accepts no HMAC algorithm, so no token can be minted locally"),
            "issuer": Requirement(lambda p: p.issuer is not None, "declares no issuer"),
            "audience": Requirement(lambda p: p.audience is not None, "declares no audience"),
            "claims-header": Requirement(lambda p: bool(p.forward.claims_header), "forwards no claims header"),
            "forward-token": Requirement(lambda p: p.forward.token, "does not forward the token"),
            "require-exp": Requirement(lambda p: p.require_exp, "accepts tokens without exp (requireExp: false)"),
        })


    def overlap_conflict(self, a, b):
        # Each guard reads its own token and forwards its own claims over the identity headers: on a shared path
        # which identity reaches the origin would depend on declaration order. Refused rather than guessed.
        return "each verifies a token and forwards its claims, so which identity reaches the origin would depend on order"
    def validate(self, p, path, problems, app):
        _check_jwt(p, path, problems)

    def runtime(self, p, app, live_key):
        return _runtime(p, app)

    def identity_headers(self, p):
        return identity_headers(p)

    def origin_headers(self, p):
        return set(p.forward.claims) | ({p.forward.claims_header} if p.forward.claims_header else set())

    def reads(self, p):
        # CloudFront forwards Authorization only through a cache policy (an origin request policy cannot list it),
        # so it is named here whatever token.header says; a token cookie too.
        return Reads(headers=frozenset({"Authorization"}), cookies=frozenset({p.token.cookie} if p.token.cookie else ()))

    def header_issues(self, p, index, target, limit):
        return header_issues(p, index, target, limit)

    def secret_problems(self, p, name, value):
        return _secret_problems(p, name, value)

    def mints(self, p):
        return bool(p.secret)

    def local_signing_algs(self, p):
        return [a for a in p.algorithms if a in ASYMMETRIC]

    def trust_local_keys(self, p, jwks):
        return with_local_keys(p, jwks)

    def dev_token(self, p, secret, **claims):
        return mint(p, secret, **claims)

    def items(self, ctx, kind):
        return _items(ctx, kind)

    def lookup(self, ctx, name, scope):
        return _lookup(ctx, name, scope)


KIND = Kind()
