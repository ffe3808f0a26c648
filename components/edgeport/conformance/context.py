"""What placeholders stand for in one stack: values taken from a pattern's declaration.

Everything a scenario may not hard-code - routes, secrets, variant names, geo rules,
fragment slots, room limits - is derived here from the validated App, so the same
scenario file runs against any stack that declares a pattern of its type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets as _random
import time
from dataclasses import dataclass, field
from typing import Any

from ..devtoken import mint
from ..spec import geo
from ..spec import routes as declared
from ..spec.models import AbTest, App, EsiCompose, GeoRoute, JwtAuth, PatternBase, RealtimeRoom
from ..spec.runtime import ISO_CODES, ab_cookie, ab_header, geo_fallback, room_burst
from .placeholders import PlaceholderError

SUBJECT = "conformance-user"
# The composed page's shell. Each slot sits in a marked <div> so a check can see exactly
# what landed in it (including an empty fallback). The same body is served in every
# scenario of a run: Cloudflare keeps the shell in its edge cache (shellCacheTtl).
SHELL_HEAD = "<!doctype html><html><head><title>edgeport conformance</title></head><body><h1>conformance shell</h1>\n"
SHELL_TAIL = "<footer>end of shell</footer></body></html>\n"

# Placeholder names per pattern type (arithmetic suffixes stripped, inner placeholders as X);
# checked when a scenario file is loaded so that typos fail before anything starts.
_COMMON = [r"route(:\d+)?", r"prefix(:\d+)?", r"pattern", r"app", r"unique", r"request\.(path|query)", r"captured\.[\w-]+",
           r"each(\.[\w]+)?", r"target", r"unrouted"]
_BY_TYPE = {
    "jwt-auth": [r"token(:.*)?", r"sub", r"realm", r"claims_header", r"token_header", r"issuer", r"audience"],
    "ab-test": [r"cookie", r"variant_header", r"variants", r"cookie_max_age", r"variant\[[^\]]+\]\.(name|path|origin)"],
    "geo-route": [r"geo\.(default|fallback|header|unmapped_country)", r"geo\.sample\.(country|country_lower|origin)",
                  r"geo\.origin_for\[[^\]]*\]"],
    "esi-compose": [r"shell", r"shell_origin", r"shell_body", r"fragment\[[^\]]+\]\.(slot|path|origin|fallback|timeout_ms)",
                    r"first_fragment\.(slot|path|origin|fallback|timeout_ms)"],
    "realtime-room": [r"allowed_origin", r"disallowed_origin", r"max_message_bytes", r"max_connections", r"burst",
                      r"messages_per_second"],
}
KNOWN = {t: re.compile("^(" + "|".join(_COMMON + extra) + ")$") for t, extra in _BY_TYPE.items()}

# What `for_each` iterates over, per type, and what `requires` may ask for.
FOR_EACH = {"jwt-auth": {"routes", "forwarded-claims", "route-spellings", "refused-spellings"}, "ab-test": {"routes", "variants"},
            "geo-route": {"routes", "geo-countries"}, "esi-compose": {"routes", "fragments"},
            "realtime-room": {"routes"}}
REQUIRES = {"jwt-auth": {"hmac", "issuer", "audience", "claims-header", "forward-token", "require-exp", "unrouted-path"},
            "ab-test": {"path-variant", "origin-variant"}, "geo-route": set(), "esi-compose": set(),
            "realtime-room": {"allowed-origins"}}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _resign(p: JwtAuth, key: str, token: str, drop: tuple[str, ...]) -> str:
    """The same token without some claims, signed again with `key` (mint always sets exp)."""
    h, payload, _ = token.split(".")
    claims = {k: v for k, v in json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).items() if k not in drop}
    alg = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"]
    body = _b64(json.dumps(claims).encode())
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)) if p.secret_encoding == "base64url" else key.encode()
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return f"{h}.{body}.{_b64(hmac.new(raw, f'{h}.{body}'.encode(), digest).digest())}"


UNROUTED = "/edgeport-conformance-unrouted/page"


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


def rewrite_path(template: str, path: str) -> str:
    """What an A/B variant's `path` does to the request path (docs/configuration.md)."""
    return re.sub(r"/{2,}", "/", template.replace("{path}", path)) if "{path}" in template else template


@dataclass
class PatternContext:
    """Placeholder values for one pattern of one stack, on one target."""

    app: App
    pattern: PatternBase
    target: str
    secrets: dict[str, str]
    others: list[PatternBase] = field(default_factory=list)  # patterns sharing the target

    # ---------------------------------------------------------------- routes
    def route(self, index: int | None = None) -> str:
        routes = self.pattern.routes
        if index is not None:
            if index >= len(routes):
                raise PlaceholderError(f"pattern {self.pattern.name} has {len(routes)} route(s); {{route:{index}}} does not exist")
            return declared.sample(routes[index])
        # Prefer a route no other pattern on this target also covers: the scenario is about
        # this pattern alone (composition is a separate concern).
        for r in routes:
            p = declared.sample(r)
            if not any(declared.matches(o, p) for other in self.others for o in other.routes):
                return p
        return declared.sample(routes[0])

    def prefix(self, index: int | None = None) -> str:
        routes = self.pattern.routes
        if index is not None and index >= len(routes):
            raise PlaceholderError(f"pattern {self.pattern.name} has {len(routes)} route(s); {{prefix:{index}}} does not exist")
        r = routes[index or 0] if index is not None else next((x for x in routes if x.endswith("*")), routes[0])
        return r[:-1] if r.endswith("*") else r

    # ---------------------------------------------------------------- requirements and iteration
    def unmet(self, requirement: str) -> str | None:
        """None when the stack's pattern has what a scenario requires, else why not."""
        p = self.pattern
        checks = {
            "hmac": (isinstance(p, JwtAuth) and bool(p.secret), "accepts no HMAC algorithm, so no token can be minted locally"),
            "issuer": (getattr(p, "issuer", None) is not None, "declares no issuer"),
            "audience": (getattr(p, "audience", None) is not None, "declares no audience"),
            "claims-header": (isinstance(p, JwtAuth) and bool(p.forward.claims_header), "forwards no claims header"),
            "forward-token": (isinstance(p, JwtAuth) and p.forward.token, "does not forward the token"),
            "require-exp": (isinstance(p, JwtAuth) and p.require_exp, "accepts tokens without exp (requireExp: false)"),
            "path-variant": (isinstance(p, AbTest) and any(v.path for v in p.variants), "has no variant with a path"),
            "origin-variant": (isinstance(p, AbTest) and any(v.origin for v in p.variants), "has no variant with an origin"),
            "allowed-origins": (isinstance(p, RealtimeRoom) and bool(p.allowed_origins), "declares no allowedOrigins"),
            "unrouted-path": (not self.covers(UNROUTED), f"covers every path on {self.target} (there is no unrouted path)"),
        }
        ok, why = checks[requirement]
        return None if ok else f"pattern {p.name} {why}"

    def covers(self, path: str) -> bool:
        """Whether a pattern on this target covers the path (as declared: a sample, not the engine's matcher)."""
        pats = [self.pattern, *self.others] if self.target in self.app.pattern_targets(self.pattern) else self.others
        return any(declared.matches(r, path) for p in pats for r in p.routes)

    def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """(label, fields) for each instance of a `for_each` scenario."""
        p = self.pattern
        if kind == "routes":
            return [(r, {"value": declared.sample(r), "route": r}) for r in p.routes]
        if kind == "route-spellings":
            return [(f"{r} {label}", {"value": raw, "route": r}) for r in p.routes for label, raw in spellings(declared.sample(r))]
        if kind == "refused-spellings":
            base = declared.sample(p.routes[0]).rstrip("/")
            return [(label, {"value": base + suffix.replace("{x}", "x")}) for label, suffix in REFUSED]
        if kind == "variants":
            return [(v.name, {"value": v.name, "name": v.name, "origin": v.origin or "default"}) for v in p.variants]
        if kind == "geo-countries":
            out = []
            for rule in p.rules:
                for entry in rule.countries:
                    country = sorted(geo.expand([entry]))[0]
                    label = f"{entry}:{country}" if entry in geo.GROUPS else entry
                    out.append((label, {"value": country, "country": country, "entry": entry, "origin": rule.origin}))
            return out
        if kind == "fragments":
            return [(f.slot, {"value": f.slot, "slot": f.slot, "path": f.path, "origin": f.origin, "fallback": f.fallback,
                              "timeout_ms": f.timeout_ms}) for f in p.fragments]
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
        raise PlaceholderError(f"unknown for_each {kind!r}")

    # ---------------------------------------------------------------- lookup
    def lookup(self, name: str, scope: dict[str, Any]) -> Any:
        p = self.pattern
        m = re.fullmatch(r"(route|prefix)(?::(\d+))?", name)
        if m:
            idx = int(m[2]) if m[2] is not None else None
            return self.route(idx) if m[1] == "route" else self.prefix(idx)
        if name == "pattern":
            return p.name
        if name == "app":
            return self.app.name
        if name == "target":
            return self.target
        if name == "unrouted":
            return UNROUTED
        if name == "unique":
            return scope["unique"]
        if name.startswith("request."):
            key = name.split(".", 1)[1]
            if key not in scope.get("request", {}):
                raise PlaceholderError(f"{{{name}}} is only known once the request is resolved (use it in expectations)")
            return scope["request"][key]
        if name.startswith("captured."):
            key = name.split(".", 1)[1]
            if key not in scope.get("captured", {}):
                raise PlaceholderError(f"{{{name}}}: nothing was captured as {key!r} (a cookie expectation with capture: {key} "
                                       f"must come first and match)")
            return scope["captured"][key]
        if name == "each" or name.startswith("each."):
            each = scope.get("each")
            if each is None:
                raise PlaceholderError(f"{{{name}}} is used by a scenario without for_each")
            key = name.split(".", 1)[1] if "." in name else "value"
            if key not in each:
                raise PlaceholderError(f"{{{name}}}: for_each items have {', '.join(sorted(each))}")
            return each[key]
        handler = {JwtAuth: self._jwt, AbTest: self._ab, GeoRoute: self._geo, EsiCompose: self._esi,
                   RealtimeRoom: self._room}[type(p)]
        return handler(name, scope)

    # jwt-auth
    def _jwt(self, name: str, scope: dict[str, Any]) -> Any:
        p: JwtAuth = self.pattern  # type: ignore[assignment]
        if name == "sub":
            return SUBJECT
        if name == "realm":
            return p.realm or self.app.name
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
            return self.token(name[6:] if name.startswith("token:") else "")
        raise PlaceholderError(f"unknown placeholder {{{name}}} for jwt-auth")

    def token(self, mods: str) -> str:
        """A token for this pattern. mods: comma-separated kinds (expired, not-yet-valid, alg-none, forged,
        wrong-audience, wrong-issuer, no-exp) and claim=value overrides."""
        p: JwtAuth = self.pattern  # type: ignore[assignment]
        if not p.secret:
            raise PlaceholderError(f"pattern {p.name} accepts no HMAC algorithm: tokens cannot be minted locally")
        secret = self.secrets[p.secret]
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

    # ab-test
    def _ab(self, name: str, scope: dict[str, Any]) -> Any:
        p: AbTest = self.pattern  # type: ignore[assignment]
        if name == "cookie":
            return ab_cookie(p)
        if name == "variant_header":
            return ab_header(p)
        if name == "variants":
            return [v.name for v in p.variants]
        if name == "cookie_max_age":
            return p.cookie_max_age
        m = re.fullmatch(r"variant\[([^\]]+)\]\.(name|path|origin)", name)
        if m:
            v = next((x for x in p.variants if x.name == m[1]), None)
            if v is None:
                raise PlaceholderError(f"pattern {p.name} has no variant {m[1]!r} ({', '.join(x.name for x in p.variants)})")
            if m[2] == "name":
                return v.name
            if m[2] == "origin":
                return v.origin or "default"
            path = scope.get("request", {}).get("path")
            if path is None:
                raise PlaceholderError(f"{{{name}}} depends on the request path: use it in expectations")
            return rewrite_path(v.path, path) if v.path else path
        raise PlaceholderError(f"unknown placeholder {{{name}}} for ab-test")

    # geo-route
    def origin_for(self, raw: str | None) -> str:
        """The origin the geo rules pick for a country value (the documented semantics)."""
        p: GeoRoute = self.pattern  # type: ignore[assignment]
        code = (raw or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", code) or code in geo.UNKNOWN_CODES:
            return geo_fallback(p)
        for rule in p.rules:
            if code in geo.expand(rule.countries):
                return rule.origin
        return p.default if f" {code} " in ISO_CODES else geo_fallback(p)

    def _geo(self, name: str, scope: dict[str, Any]) -> Any:
        p: GeoRoute = self.pattern  # type: ignore[assignment]
        if name == "geo.default":
            return p.default
        if name == "geo.fallback":
            return geo_fallback(p)
        if name == "geo.header":
            return "x-edgeport-geo"
        if name == "geo.unmapped_country":
            mapped = set().union(*(geo.expand(r.countries) for r in p.rules))
            return next(c for c in ISO_CODES.split() if c not in mapped)
        if name.startswith("geo.sample."):
            # A ruled country whose origin differs from the fallback when there is one, so that
            # a request wrongly sent to the fallback shows.
            fb = geo_fallback(p)
            rule = next((r for r in reversed(p.rules) if r.origin != fb), p.rules[0])
            country = sorted(geo.expand(rule.countries))[0]
            return {"geo.sample.country": country, "geo.sample.country_lower": country.lower()}.get(name, rule.origin)
        m = re.fullmatch(r"geo\.origin_for\[([^\]]*)\]", name)
        if m:
            return self.origin_for(m[1])
        raise PlaceholderError(f"unknown placeholder {{{name}}} for geo-route")

    # esi-compose
    def shell_body(self) -> str:
        p: EsiCompose = self.pattern  # type: ignore[assignment]
        slots = "".join(f'<div data-slot="{f.slot}"><!--esi:{f.slot}--></div>\n' for f in p.fragments)
        return SHELL_HEAD + slots + SHELL_TAIL

    def _esi(self, name: str, scope: dict[str, Any]) -> Any:
        p: EsiCompose = self.pattern  # type: ignore[assignment]
        if name == "shell":
            return p.shell
        if name == "shell_origin":
            return "default"
        if name == "shell_body":
            return self.shell_body()
        m = re.fullmatch(r"(?:fragment\[([^\]]+)\]|first_fragment)\.(slot|path|origin|fallback|timeout_ms)", name)
        if m:
            f = p.fragments[0] if m[1] is None else next((x for x in p.fragments if x.slot == m[1]), None)
            if f is None:
                raise PlaceholderError(f"pattern {p.name} has no fragment slot {m[1]!r} ({', '.join(x.slot for x in p.fragments)})")
            return getattr(f, m[2])
        raise PlaceholderError(f"unknown placeholder {{{name}}} for esi-compose")

    # realtime-room
    def _room(self, name: str, scope: dict[str, Any]) -> Any:
        p: RealtimeRoom = self.pattern  # type: ignore[assignment]
        if name == "allowed_origin":
            return p.allowed_origins[0] if p.allowed_origins else "https://conformance.example"
        if name == "disallowed_origin":
            return "https://not-allowed.conformance.invalid"
        if name == "max_message_bytes":
            return p.max_message_bytes
        if name == "max_connections":
            return p.max_connections
        if name == "burst":
            return room_burst(p)
        if name == "messages_per_second":
            return p.messages_per_second
        raise PlaceholderError(f"unknown placeholder {{{name}}} for realtime-room")


def check_known(ptype: str, name: str) -> bool:
    from .placeholders import strip_arith

    return bool(KNOWN[ptype].match(strip_arith(name)))


