"""Rules across fields and against outside data; every problem is collected with its key path."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ..errors import Problems
from . import capabilities, geo, secret_refs as secrets
from .models import AbTest, App, EsiCompose, GeoRoute, JwtAuth, RealtimeRoom

ROOT = "edgeport:app"
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


def _check_jwk(key, i: int, path: str, problems: Problems) -> None:
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


def _fits(key, alg: str) -> bool:
    if alg == "RS256":
        return key.kty == "RSA" and key.alg in (None, "RS256")
    if alg == "ES256":
        return key.kty == "EC" and key.crv == "P-256" and key.alg in (None, "ES256")
    return False


def _check_jwt(p: JwtAuth, path: str, problems: Problems) -> None:
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
        if not secrets.NAME_RE.match(p.secret) or p.secret in secrets.RESERVED:
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
            fitting = [k for k in p.jwks.keys if _fits(k, alg)]
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


def _check_weights(p: AbTest, path: str, problems: Problems, app: App) -> None:
    total = sum(v.weight for v in p.variants)
    if abs(total - 100) > 1e-9:
        detail = " + ".join(f"{v.name} {v.weight:g}" for v in p.variants)
        problems.add(f"{path}.variants", f"weights sum to {total:g} ({detail}), not 100",
                     "adjust the weights so they add up to 100")
    names = [v.name for v in p.variants]
    if len(set(names)) != len(names):
        problems.add(f"{path}.variants", "two variants share a name", "name every variant differently")
    for i, v in enumerate(p.variants):
        if v.path is not None and (not v.path.startswith("/") or v.path.count("{path}") > 1 or "//" in v.path.replace("{path}", "x")):
            problems.add(f"{path}.variants[{i}].path", f"{v.path!r} is not a path template",
                         "use a path starting with '/', optionally with one {path} for the request path (e.g. /b{path})")
        if v.origin is not None and v.origin not in app.origins:
            problems.add(f"{path}.variants[{i}].origin", f"unknown origin {v.origin!r}",
                         f"declare it under origins (known: {', '.join(app.origins)})")


def _check_geo(p: GeoRoute, path: str, problems: Problems, app: App) -> None:
    seen: dict[str, int] = {}
    for i, rule in enumerate(p.rules):
        rp = f"{path}.rules[{i}]"
        if rule.origin not in app.origins:
            problems.add(f"{rp}.origin", f"unknown origin {rule.origin!r}", f"declare it under origins (known: {', '.join(app.origins)})")
        for j, code in enumerate(rule.countries):
            if code in geo.GROUPS:
                members = geo.GROUPS[code]
            elif geo.is_country(code):
                members = {code}
            else:
                problems.add(f"{rp}.countries[{j}]", f"{code!r} is not an ISO 3166-1 country code or group", geo.country_hint(code))
                continue
            for c in sorted(members):
                if c in seen and seen[c] != i:
                    problems.add(f"{rp}.countries[{j}]", f"{c} is already routed by rules[{seen[c]}]",
                                 "each country may appear in one rule only")
                    break
                seen[c] = i
    for key in ("default", "fallback"):
        v = getattr(p, key)
        if v is not None and v not in app.origins:
            problems.add(f"{path}.{key}", f"unknown origin {v!r}", f"declare it under origins (known: {', '.join(app.origins)})")


def _check_esi(p: EsiCompose, path: str, problems: Problems, app: App) -> None:
    slots = [f.slot for f in p.fragments]
    if len(set(slots)) != len(slots):
        problems.add(f"{path}.fragments", "two fragments fill the same slot", "give each fragment its own slot")
    for i, f in enumerate(p.fragments):
        if f.origin not in app.origins:
            problems.add(f"{path}.fragments[{i}].origin", f"unknown origin {f.origin!r}",
                         f"declare it under origins (known: {', '.join(app.origins)})")
        if not f.path.startswith("/"):
            problems.add(f"{path}.fragments[{i}].path", "must be a path starting with '/'")
    if not p.shell.startswith("/"):
        problems.add(f"{path}.shell", "must be a path starting with '/'", "e.g. /shell.html")


def validate_app(app: App) -> Problems:
    problems = Problems()
    if "default" not in app.origins:
        problems.add(f"{ROOT}.origins", "has no 'default' origin", "add `default: https://your-origin.example.com`")
    declared = app.targets.names()
    if not declared:
        problems.add(f"{ROOT}.targets", "declares no target", "add at least one of cloudflare, lambda-edge, vercel")
    le = app.targets.lambda_edge
    if le and le.existing_distribution_id and le.distribution:
        problems.add(f"{ROOT}.targets.lambda-edge", "sets both existingDistributionId and distribution",
                     "keep existingDistributionId to attach to your distribution, or distribution to let edgeport create one")
    if le and le.distribution and le.distribution.aliases and not le.distribution.certificate_arn:
        problems.add(f"{ROOT}.targets.lambda-edge.distribution.aliases", "aliases need a certificate",
                     "set certificateArn to an ACM certificate in us-east-1 that covers the aliases")
    vc = app.targets.vercel
    if vc and vc.project_id and vc.project_name:
        problems.add(f"{ROOT}.targets.vercel", "sets both projectId and projectName",
                     "keep projectId to use an existing project, or projectName to let edgeport create one")

    names: dict[str, int] = {}
    current = {p.name for p in app.patterns}
    for i, p in enumerate(app.patterns):
        for j, old in enumerate(p.previous_names):
            if old in current:
                problems.add(f"{ROOT}.patterns[{i}].previousNames[{j}]", f"{old!r} is the name of a pattern in this stack",
                             "list only names this pattern no longer uses")
        path = f"{ROOT}.patterns[{i}]"
        if p.name in names:
            problems.add(f"{path}.name", f"duplicate pattern name {p.name!r} (also patterns[{names[p.name]}])",
                         "give every pattern a unique name")
        names.setdefault(p.name, i)
        if len(set(p.routes)) != len(p.routes):
            problems.add(f"{path}.routes", "lists a route twice", "list each route once")
        explicit = p.targets is not None
        for t in app.pattern_targets(p):
            tp = f"{path}.targets" if explicit else path
            if t not in declared:
                problems.add(tp, f"targets {t}, but the stack has no targets.{t} section",
                             f"add targets.{t} or remove {t} from this pattern's targets")
                continue
            cap = capabilities.capability(p.type, t)
            if not cap.supported:
                can = capabilities.hosts(p.type)
                problems.add(tp, f"{p.type} cannot run on {t}: {cap.how}",
                             f"targets that can host it: {', '.join(can)}; set `targets: [{', '.join(t2 for t2 in can if t2 in declared) or can[0]}]` on this pattern")
        if isinstance(p, JwtAuth):
            _check_jwt(p, path, problems)
        elif isinstance(p, AbTest):
            _check_weights(p, path, problems, app)
        elif isinstance(p, GeoRoute):
            _check_geo(p, path, problems, app)
        elif isinstance(p, EsiCompose):
            _check_esi(p, path, problems, app)
        elif isinstance(p, RealtimeRoom):
            for j, r in enumerate(p.routes):
                if not r.endswith("/*"):
                    problems.add(f"{path}.routes[{j}]", f"room route {r!r} must end in '/*'",
                                 "the room id is the path segment after the prefix, e.g. /rooms/* serves /rooms/<id>")
    return problems


@dataclass(frozen=True)
class SecretValueProblem:
    """Why a secret's value cannot serve a pattern, and how many random bytes would."""

    pattern: str
    message: str  # e.g. "is 5 bytes; HS256 needs at least 32 random bytes (RFC 7518 §3.2)"
    need: int  # bytes of `secrets.token_urlsafe(need)` that fix it in either encoding


def secret_value_problems(name: str, value: str, app: App) -> list[SecretValueProblem]:
    """Problems with a secret's value for every jwt-auth pattern using it: too short for its HMAC algorithms,
    or not decodable when the pattern sets secretEncoding: base64url. The value itself never appears."""
    out = []
    for p in app.patterns:
        if isinstance(p, JwtAuth) and p.secret == name:
            hs = [a for a in p.algorithms if a in HMAC_MIN_BYTES]
            need = max((HMAC_MIN_BYTES[a] for a in hs), default=HMAC_MIN_BYTES["HS256"])
            raw = b64url_strict(value) if p.secret_encoding == "base64url" else value.encode()
            if raw is None:
                out.append(SecretValueProblem(p.name, f"is not valid base64url (pattern {p.name} sets secretEncoding: "
                                              "base64url; only A-Z a-z 0-9 - _, no padding)", need))
            elif len(raw) < need:
                out.append(SecretValueProblem(p.name, f"is {len(raw)} bytes; {', '.join(hs)} needs at least {need} "
                                              "random bytes (RFC 7518 §3.2)", need))
    return out


def token_command(need: int) -> str:
    """A command printing a random value of `need` bytes (valid in utf8 and base64url encoding alike)."""
    return f"python -c 'import secrets; print(secrets.token_urlsafe({need}))'"


def check_secret_value(name: str, value: str, app: App) -> list[str]:
    """Problems with a secret's deployed value (too short for the HMAC algorithms that use it), as messages."""
    return [f"secret {name} {p.message} - generate one with `{token_command(p.need)}`" for p in secret_value_problems(name, value, app)]
