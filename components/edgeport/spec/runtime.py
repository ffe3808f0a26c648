"""Pattern declarations -> the runtime config the edge code reads (functions/src/core/config.ts).

Pattern logic lives here once; targets only add where secrets come from and, on
Lambda@Edge, which trigger a bundle serves.
"""

from __future__ import annotations

from typing import Any

import math

import pycountry

from . import capabilities, geo, routes
from .models import AbTest, App, EsiCompose, GeoRoute, JwtAuth, PatternBase, RealtimeRoom

RUNTIME_VERSION = 1

# Default chain order when several patterns cover one request: route first (it picks
# the origin), then authenticate, then bucket, then compose the page.
TYPE_ORDER = {"geo-route": 10, "jwt-auth": 20, "ab-test": 30, "esi-compose": 40, "realtime-room": 50}


def chain_order(app: App) -> list[PatternBase]:
    return sorted(app.patterns, key=lambda p: (TYPE_ORDER[p.type], app.patterns.index(p)))


def _jwt(p: JwtAuth, app: App) -> dict[str, Any]:
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


def origin_headers(p: PatternBase) -> set[str]:
    """The request headers a pattern sets for the origin."""
    if isinstance(p, JwtAuth):
        return set(p.forward.claims) | ({p.forward.claims_header} if p.forward.claims_header else set())
    if isinstance(p, AbTest):
        return {ab_header(p)}
    if isinstance(p, GeoRoute):
        return {GEO_HEADER}
    return set()


def entry_rules(app: App, target: str) -> dict[str, list[str]]:
    """RuntimeConfig.entry for a bundle that sees requests first: drop every identity header of the target's
    jwt-auth patterns, and (in the engine) every x-edgeport-* header."""
    strip: set[str] = set()
    for p in app.patterns:
        if isinstance(p, JwtAuth) and target in app.pattern_targets(p):
            strip |= identity_headers(p)
    return {"strip": sorted(strip), "keep": []}


def guards_every_request(app: App, target: str) -> bool:
    """Whether the edge must run on every request of the target, not only on the declared routes.

    With a jwt-auth pattern it must: origins route spellings onto a protected handler that no platform route
    syntax can list (Express folds case, Werkzeug decodes %61 and merges slashes; docs/jwt.md, Paths), and the
    identity headers the edge forwards must be stripped from requests to every path, not only protected ones."""
    return any(isinstance(p, JwtAuth) and target in app.pattern_targets(p) for p in app.patterns)


def ab_cookie(p: AbTest) -> str:
    return p.cookie or f"edgeport-ab-{p.stable_id}"


def ab_header(p: AbTest) -> str:
    return f"x-edgeport-ab-{p.stable_id}"


def ab_defaults(p: AbTest) -> dict[str, float]:
    """The declared ratios, as the live store holds them: {"A": 50, "B": 50}."""
    return {v.name: int(v.weight) if float(v.weight).is_integer() else v.weight for v in p.variants}


def _ab(p: AbTest, app: App, live_key: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "variants": [{k: v for k, v in {"name": x.name, "weight": x.weight, "path": x.path, "origin": x.origin}.items()
                      if v is not None} for x in p.variants],
        "cookie": ab_cookie(p),
        "cookieMaxAge": p.cookie_max_age,
        "header": ab_header(p),
    }
    if p.live and live_key:
        out["live"] = {"key": live_key, "ttl": p.live_ttl, "timeoutMs": p.live_timeout_ms}
    return out


GEO_HEADER = "x-edgeport-geo"  # tells the origin which country the route was chosen for
ISO_CODES = " " + " ".join(sorted(c.alpha_2 for c in pycountry.countries)) + " "


def geo_fallback(p: GeoRoute) -> str:
    """Where unknown countries go: the declared fallback, else the strictest region -
    the origin serving EU countries (GDPR), else the default."""
    if p.fallback:
        return p.fallback
    for rule in p.rules:
        if geo.expand(rule.countries) & geo.EU27:
            return rule.origin
    return p.default


def _geo(p: GeoRoute, app: App, live_key: str | None) -> dict[str, Any]:
    countries: dict[str, str] = {}
    for rule in p.rules:
        for c in sorted(geo.expand(rule.countries)):
            countries[c] = rule.origin
    return {"countries": countries, "default": p.default, "fallback": geo_fallback(p), "header": GEO_HEADER}


def _esi(p: EsiCompose, app: App, live_key: str | None) -> dict[str, Any]:
    return {"shell": p.shell, "shellCacheTtl": p.shell_cache_ttl,
            "fragments": [{"slot": f.slot, "path": f.path, "origin": f.origin, "timeoutMs": f.timeout_ms, "fallback": f.fallback}
                          for f in p.fragments]}


def room_burst(p: RealtimeRoom) -> int:
    return p.burst or max(1, math.ceil(2 * p.messages_per_second))


def _room(p: RealtimeRoom, app: App, live_key: str | None) -> dict[str, Any]:
    return {"key": p.stable_id, "maxMessageBytes": p.max_message_bytes, "maxConnections": p.max_connections,
            "messagesPerSecond": p.messages_per_second, "burst": room_burst(p), "allowedOrigins": list(p.allowed_origins)}


_BUILDERS = {
    "jwt-auth": lambda p, app, live_key: _jwt(p, app),
    "ab-test": _ab,
    "geo-route": _geo,
    "esi-compose": _esi,
    "realtime-room": _room,
}


def pattern_config(p: PatternBase, app: App, live_key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": p.type, "routes": [routes.matcher(r) for r in p.routes]}
    if isinstance(p, JwtAuth):
        out["guard"] = True  # its routes cover every spelling an origin could route onto them (core/config.ts)
    if isinstance(p, AbTest):
        out["carriedBy"] = ab_header(p)  # selects it in Lambda@Edge's origin-response (core/config.ts)
    if p.exclude:
        out["exclude"] = [routes.matcher(r) for r in p.exclude]
    return {**out, **_BUILDERS[p.type](p, app, live_key)}


def patterns_for(app: App, target: str, event: str | None = None) -> list[PatternBase]:
    """The patterns a bundle for `target` (and Lambda@Edge `event`) runs, in chain order."""
    out = []
    for p in chain_order(app):
        if target not in app.pattern_targets(p):
            continue
        if event is not None and event not in capabilities.lambda_events_for(p, app):
            continue
        out.append(p)
    return out


def live_patterns(app: App, target: str) -> list[AbTest]:
    """A/B tests on `target` whose ratios are read from the live store."""
    return [p for p in app.patterns if isinstance(p, AbTest) and p.live and target in app.pattern_targets(p)]


def runtime_config(app: App, stack: str, target: str, *, event: str | None = None,
                   secrets: dict[str, dict[str, str]] | None = None, live_keys: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    live_keys = live_keys or {}
    pats = patterns_for(app, target, event)
    used = {p.secret for p in pats if isinstance(p, JwtAuth) and p.secret}
    cfg: dict[str, Any] = {
        "version": RUNTIME_VERSION,
        "app": app.name,
        "stack": stack,
        "target": target,
        "patterns": [pattern_config(p, app, live_keys.get(p.name)) for p in pats],
        "secrets": {k: v for k, v in (secrets or {}).items() if k in used},
        "origins": dict(app.origins),
        "entry": entry_rules(app, target),
    }
    if any(isinstance(p, GeoRoute) for p in pats):
        cfg["countries"] = ISO_CODES  # once per bundle, whatever the number of geo patterns
    if event is not None:
        cfg["event"] = event
    cfg.update(extra or {})
    return cfg
