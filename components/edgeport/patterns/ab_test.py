"""ab-test: sticky, weighted A/B assignment whose ratios can change live, without a deploy.

The declaration, its rules, the runtime config the edge step (functions/src/patterns/ab.ts) reads, the value the
live store is seeded with, and the conformance placeholders. docs/configuration.md describes the fields.
"""

from __future__ import annotations

import json

import re
from typing import Any, Literal

from pydantic import Field

from ..errors import PlaceholderError
from ..spec import routes
from ..spec.types import Model
from .base import PatternBase, PatternKind, Placeholders, Reads, Requirement, yes


class Variant(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    weight: float = Field(ge=0, le=100)
    path: str | None = Field(default=None, description="path template for this variant; {path} is the request path")
    origin: str | None = Field(default=None, description="name of the origin serving this variant")


class AbTest(PatternBase):
    """Sticky, weighted A/B assignment with live-adjustable ratios."""

    type: Literal["ab-test"]
    variants: list[Variant] = Field(min_length=2)
    cookie: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    cookie_max_age: int = Field(default=30 * 86400, ge=60)
    live: bool = True
    live_ttl: int = Field(default=60, ge=1, le=3600)
    live_timeout_ms: int = Field(default=200, ge=10, le=2000)


def ab_cookie(p: AbTest) -> str:
    return p.cookie or f"edgeport-ab-{p.stable_id}"


def ab_header(p: AbTest) -> str:
    return f"x-edgeport-ab-{p.stable_id}"


def ab_defaults(p: AbTest) -> dict[str, float]:
    """The declared ratios, as the live store holds them: {"A": 50, "B": 50}."""
    return {v.name: int(v.weight) if float(v.weight).is_integer() else v.weight for v in p.variants}


def _check(p: AbTest, path: str, problems, app) -> None:
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


def _runtime(p: AbTest, live_key: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "carriedBy": ab_header(p),  # selects it in Lambda@Edge's origin-response (core/config.ts)
        "variants": [{k: v for k, v in {"name": x.name, "weight": x.weight, "path": x.path, "origin": x.origin}.items()
                      if v is not None} for x in p.variants],
        "cookie": ab_cookie(p),
        "cookieMaxAge": p.cookie_max_age,
        "header": ab_header(p),
    }
    if p.live and live_key:
        out["live"] = {"key": live_key, "ttl": p.live_ttl, "timeoutMs": p.live_timeout_ms}
    return out


def rewrite_path(template: str, path: str) -> str:
    """What an A/B variant's `path` does to the request path (docs/configuration.md)."""
    return re.sub(r"/{2,}", "/", template.replace("{path}", path)) if "{path}" in template else template


def _lookup(ctx: Any, name: str, scope: dict[str, Any]) -> Any:
    p: AbTest = ctx.pattern
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



_ANSWERING: dict[int, tuple[Any, dict[Any, Any]]] = {}  # id(app) -> (app, target -> patterns); the last few apps


def _answering_in_origin_request(app, target: str) -> list:
    """The patterns on `target` that answer in origin-request (asked for every A/B pattern, on every listing of
    triggers: worked out once per app, so a stack of hundreds of patterns stays linear)."""
    from . import kind_of

    held = _ANSWERING.get(id(app))
    if held is None or held[0] is not app:
        if len(_ANSWERING) > 8:
            _ANSWERING.clear()
        held = _ANSWERING[id(app)] = (app, {})
    if target not in held[1]:
        held[1][target] = [o for o in app.patterns
                           if "origin-request" in kind_of(o).answers_in and target in app.pattern_targets(o)]
    return held[1][target]


def _shares_paths_with_an_answerer(app, p, target: str) -> bool:
    held = _ANSWERING.get(id(app))
    memo = held[1].setdefault(("shares", target), {}) if held and held[0] is app else {}
    if p.name not in memo:
        memo[p.name] = any(any(routes.contains(a, b) or routes.contains(b, a) for a in p.routes for b in o.routes)
                           for o in _answering_in_origin_request(app, target))
    return memo[p.name]


class Kind(PatternKind):
    type = "ab-test"
    model = AbTest
    order = 30  # after auth: only authenticated requests are bucketed
    component = "AbTest"
    summary = "Sticky, weighted A/B assignment with live-adjustable ratios."
    hosts = {
        "cloudflare": yes("Worker; live ratios in Workers KV"),
        "lambda-edge": yes(
            "viewer-request assigns the variant, origin-request rewrites the path or switches the origin for variants "
            "that say so, origin-response sets the cookie on every answer from the origin whatever its status (cached "
            "with it for hits); live ratios in an SSM parameter (us-east-1)",
            "viewer-request", "origin-response"),
        "vercel": yes("Routing Middleware; live ratios in Edge Config"),
    }
    live_tag = "ab"
    placeholders = Placeholders(
        names=(r"cookie", r"variant_header", r"variants", r"cookie_max_age", r"variant\[[^\]]+\]\.(name|path|origin)"),
        for_each=frozenset({"routes", "variants"}),
        requires={
            "path-variant": Requirement(lambda p: any(v.path for v in p.variants), "has no variant with a path"),
            "origin-variant": Requirement(lambda p: any(v.origin for v in p.variants), "has no variant with an origin"),
        })


    def overlap_conflict(self, a, b):
        # Experiments that only label requests (a cookie and a header each) compose; two that both move the request
        # (a variant path or origin) would rewrite it twice.
        if any(v.path or v.origin for v in a.variants) and any(v.path or v.origin for v in b.variants):
            return "both have variants that rewrite the path or switch the origin"
        return None
    def validate(self, p, path, problems, app):
        _check(p, path, problems, app)

    def events(self, p, app, target):
        """An A/B test also runs in origin-request when a variant rewrites the path or picks an origin (done there, on
        the path the viewer asked for; viewer-request cannot switch origins), and when it shares paths with a pattern
        answering there (a page generated in origin-request gets no origin-response, so origin-request sets the
        variant cookie)."""
        events = self.capability(target).events
        if not events:
            return events
        answered = app is not None and _shares_paths_with_an_answerer(app, p, target)
        if answered or any(v.origin or v.path for v in p.variants):
            events = (*events, "origin-request")
        return events

    def runtime(self, p, app, live_key):
        return _runtime(p, live_key)


    def origin_headers(self, p):
        return {ab_header(p)}

    def reads(self, p):
        return Reads(cookies=frozenset({ab_cookie(p)}))

    def live_default(self, p):
        return ab_defaults(p) if p.live else None

    def live_problem(self, p, value):
        # The rules of parseLiveWeights (functions/src/patterns/ab.ts): anything else and the declared ratios apply.
        names = [v.name for v in p.variants]
        if not isinstance(value, dict):
            return f"expected a JSON object of variant -> weight, e.g. {json.dumps(ab_defaults(p))}"
        for k, w in value.items():
            if k not in names:
                return f"{k!r} is not a variant of {p.name} (variants: {', '.join(names)})"
            if isinstance(w, bool) or not isinstance(w, (int, float)) or w != w or w in (float("inf"),) or w < 0:
                return f"the weight of {k} must be a finite number >= 0, got {json.dumps(w)}"
        if sum(value.values()) <= 0:
            return "at least one weight must be above 0"
        return None

    def items(self, ctx, kind):
        if kind == "variants":
            return [(v.name, {"value": v.name, "name": v.name, "origin": v.origin or "default"}) for v in ctx.pattern.variants]
        return None

    def lookup(self, ctx, name, scope):
        return _lookup(ctx, name, scope)


KIND = Kind()
