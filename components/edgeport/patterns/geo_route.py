"""geo-route: send each viewer country to a declared origin; unknown countries go to the strictest region.

The declaration, its rules (ISO 3166-1 codes and groups such as EU), the runtime config the edge step
(functions/src/patterns/geo.ts) reads, and the conformance placeholders. Country groups: spec/geo.py.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pycountry
from pydantic import Field

from ..errors import PlaceholderError
from ..spec import geo
from ..spec.types import Model
from .base import PatternBase, PatternKind, Placeholders, Reads, yes


class GeoRule(Model):
    countries: list[str] = Field(min_length=1)
    origin: str


class GeoRoute(PatternBase):
    """Route each viewer country to a declared origin; unknown countries go to the strictest region."""

    type: Literal["geo-route"]
    rules: list[GeoRule] = Field(min_length=1)
    default: str = "default"
    fallback: str | None = Field(default=None, description="origin for unknown/missing/XX/T1 countries")


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


def _check(p: GeoRoute, path: str, problems, app) -> None:
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


def _runtime(p: GeoRoute) -> dict[str, Any]:
    countries: dict[str, str] = {}
    for rule in p.rules:
        for c in sorted(geo.expand(rule.countries)):
            countries[c] = rule.origin
    return {"countries": countries, "default": p.default, "fallback": geo_fallback(p), "header": GEO_HEADER}


def origin_for(p: GeoRoute, raw: str | None) -> str:
    """The origin the geo rules pick for a country value (the documented semantics)."""
    code = (raw or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code in geo.UNKNOWN_CODES:
        return geo_fallback(p)
    for rule in p.rules:
        if code in geo.expand(rule.countries):
            return rule.origin
    return p.default if f" {code} " in ISO_CODES else geo_fallback(p)


def _lookup(ctx: Any, name: str, scope: dict[str, Any]) -> Any:
    p: GeoRoute = ctx.pattern
    if name == "geo.default":
        return p.default
    if name == "geo.fallback":
        return geo_fallback(p)
    if name == "geo.header":
        return GEO_HEADER
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
        return origin_for(p, m[1])
    raise PlaceholderError(f"unknown placeholder {{{name}}} for geo-route")


def _items(p: GeoRoute) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for rule in p.rules:
        for entry in rule.countries:
            country = sorted(geo.expand([entry]))[0]
            label = f"{entry}:{country}" if entry in geo.GROUPS else entry
            out.append((label, {"value": country, "country": country, "entry": entry, "origin": rule.origin}))
    return out


class Kind(PatternKind):
    type = "geo-route"
    model = GeoRoute
    order = 10  # first: it picks the origin every later step forwards to
    component = "GeoRoute"
    summary = "Route each viewer country to a declared origin; unknown countries go to the strictest region."
    hosts = {
        "cloudflare": yes("Worker reads request.cf.country and fetches the mapped origin"),
        "lambda-edge": yes(
            "origin-request trigger switches the custom origin; an origin request policy forwards CloudFront-Viewer-Country "
            "(viewer-request cannot see it)",
            "origin-request"),
        "vercel": yes("Routing Middleware reads x-vercel-ip-country and rewrites to the mapped origin"),
    }
    placeholders = Placeholders(
        names=(r"geo\.(default|fallback|header|unmapped_country)", r"geo\.sample\.(country|country_lower|origin)",
               r"geo\.origin_for\[[^\]]*\]"),
        for_each=frozenset({"routes", "geo-countries"}))


    def overlap_conflict(self, a, b):
        return "each picks the origin, and the second would silently override the first"
    def validate(self, p, path, problems, app):
        _check(p, path, problems, app)

    def runtime(self, p, app, live_key):
        return _runtime(p)

    def bundle_config(self):
        return {"countries": ISO_CODES}  # once per bundle, whatever the number of geo patterns

    def origin_headers(self, p):
        return {GEO_HEADER}

    def reads(self, p):
        return Reads(country=True)

    def items(self, ctx, kind):
        return _items(ctx.pattern) if kind == "geo-countries" else None

    def lookup(self, ctx, name, scope):
        return _lookup(ctx, name, scope)


KIND = Kind()
