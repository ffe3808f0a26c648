"""Pattern declarations -> the runtime config the edge code reads (functions/src/core/config.ts).

Pattern logic lives here once; targets only add where secrets come from and, on
Lambda@Edge, which trigger a bundle serves.
"""

from __future__ import annotations

from typing import Any

from . import capabilities
from .models import App, JwtAuth, PatternBase

RUNTIME_VERSION = 1

# Default chain order when several patterns cover one request: route first (it picks
# the origin), then authenticate, then bucket, then compose the page.
TYPE_ORDER = {"geo-route": 10, "jwt-auth": 20, "ab-test": 30, "esi-compose": 40, "realtime-room": 50}


def route_matcher(route: str) -> dict[str, str]:
    return {"prefix": route[:-1]} if route.endswith("*") else {"exact": route}


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
        # Headers the edge sets are always removed from what the client sent.
        "stripHeaders": sorted(
            set(p.strip_headers) | set(p.forward.claims) | ({p.forward.claims_header} if p.forward.claims_header else set())
        ),
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


_BUILDERS = {"jwt-auth": _jwt}


def pattern_config(p: PatternBase, app: App) -> dict[str, Any]:
    build = _BUILDERS.get(p.type)
    if build is None:
        raise NotImplementedError(p.type)
    return {"name": p.name, "type": p.type, "routes": [route_matcher(r) for r in p.routes], **build(p, app)}


def patterns_for(app: App, target: str, event: str | None = None) -> list[PatternBase]:
    """The patterns a bundle for `target` (and Lambda@Edge `event`) runs, in chain order."""
    out = []
    for p in chain_order(app):
        if target not in app.pattern_targets(p):
            continue
        if event is not None and event not in capabilities.lambda_events(p.type):
            continue
        out.append(p)
    return out


def runtime_config(app: App, stack: str, target: str, *, event: str | None = None,
                   secrets: dict[str, dict[str, str]] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    pats = patterns_for(app, target, event)
    used = {p.secret for p in pats if isinstance(p, JwtAuth) and p.secret}
    cfg: dict[str, Any] = {
        "version": RUNTIME_VERSION,
        "app": app.name,
        "stack": stack,
        "target": target,
        "patterns": [pattern_config(p, app) for p in pats],
        "secrets": {k: v for k, v in (secrets or {}).items() if k in used},
        "origins": dict(app.origins),
    }
    if event is not None:
        cfg["event"] = event
    cfg.update(extra or {})
    return cfg
