"""A corpus of invalid stack files, one per mistake class: each is the dev stack with one change (or several, for
the one-pass cases), and the key path(s) the error must name. tests/test_bad_stacks.py runs every file through
`validate`, `build` and `plan`.

A case is (id, change, expected key paths). `change` edits the parsed `config` mapping, or, when it is a string
pair (old, new), the stack file's text (for mistakes YAML itself hides, such as a key written twice).
"""

from __future__ import annotations

from typing import Any, Callable

RSA_1024_N = ("w_AMVEpNTl5aQw8kk2HmaxUvBjM2hgSvY8bHiHRHPVe5x8KxVu8ObJuGqMX1l-8Q3qYdJUlXJPeG-lcbvM6xqyj0pp91"
              "S0z6CR4vZS0pMZH7lAkKdT0F3KQKWIFhH1ClN_3oxcqmg5EBsuNzRkXYQ-Sui2MNgXAkoBoVrXsZu-0")


def pat(name: str) -> Callable[[dict], dict]:
    def get(cfg: dict) -> dict:
        return next(p for p in cfg["edgeport:app"]["patterns"] if p["name"] == name)
    return get


JWT, AB, GEO, ESI, ROOM = (pat(n) for n in ("api-auth", "landing-exp", "regional", "home", "support-chat"))
I = {"api-auth": 0, "landing-exp": 1, "regional": 2, "home": 3, "support-chat": 4}  # indexes in the dev stack
P = "edgeport:app.patterns"
T = "edgeport:app.targets"


def app(cfg: dict) -> dict:
    return cfg["edgeport:app"]


def setp(get, **kv) -> Callable[[dict], None]:
    def change(cfg: dict) -> None:
        get(cfg).update(kv)
    return change


def drop(get, key: str) -> Callable[[dict], None]:
    def change(cfg: dict) -> None:
        get(cfg).pop(key)
    return change


def seq(*changes) -> Callable[[dict], None]:
    def change(cfg: dict) -> None:
        for c in changes:
            c(cfg)
    return change


def add_pattern(**p: Any) -> Callable[[dict], None]:
    def change(cfg: dict) -> None:
        app(cfg)["patterns"].append(p)
    return change


def target(name: str, **kv) -> Callable[[dict], None]:
    def change(cfg: dict) -> None:
        app(cfg)["targets"][name].update(kv)
    return change


def edit_app(**kv) -> Callable[[dict], None]:
    def change(cfg: dict) -> None:
        app(cfg).update(kv)
    return change


NEW = len(I)  # index of an added pattern

CASES: list[tuple[str, Any, list[str]]] = [
    # -- types
    ("type: app name is a number", edit_app(name=123), ["edgeport:app.name"]),
    ("type: leeway is a word", setp(JWT, leeway="soon"), [f"{P}[0].leeway"]),
    ("type: cookie max age is text", setp(AB, cookieMaxAge="a month"), [f"{P}[1].cookieMaxAge"]),
    ("type: variant weight is text", lambda c: AB(c)["variants"][0].update(weight="half"), [f"{P}[1].variants[0].weight"]),
    ("type: routes is a string", setp(GEO, routes="/geo/*"), [f"{P}[2].routes"]),
    ("type: maxConnections is fractional", setp(ROOM, maxConnections=1.5), [f"{P}[4].maxConnections"]),
    # -- unknown keys
    ("unknown: top-level key", edit_app(orgins={"default": "https://x.example.com"}), ["edgeport:app.orgins"]),
    ("unknown: pattern key", setp(GEO, rute="/x"), [f"{P}[2].rute"]),
    ("unknown: cloudflare setting", target("cloudflare", acountId="0" * 32), [f"{T}.cloudflare.acountId"]),
    ("unknown: jwt setting", setp(JWT, algorithm="HS256"), [f"{P}[0].algorithm"]),
    ("unknown: variant key", lambda c: AB(c)["variants"][0].update(wieght=50), [f"{P}[1].variants[0].wieght"]),
    ("unknown: target name", lambda c: app(c)["targets"].update(fastly={}), [f"{T}.fastly"]),
    # -- typos in values
    ("typo: pattern type", setp(GEO, type="geo-rout"), [f"{P}[2].type"]),
    ("typo: algorithm", setp(JWT, algorithms=["HS257"]), [f"{P}[0].algorithms[0]"]),
    ("typo: secret encoding", setp(JWT, secretEncoding="base64"), [f"{P}[0].secretEncoding"]),
    ("typo: cloudflare plan", target("cloudflare", plan="enterprize"), [f"{T}.cloudflare.plan"]),
    ("typo: price class", lambda c: app(c)["targets"]["lambda-edge"].update(distribution={"priceClass": "PriceClass_50"}),
     [f"{T}.lambda-edge.distribution.priceClass"]),
    ("typo: trigger name", target("lambda-edge", functions={"viewer-requests": {"memory": 128}}),
     [f"{T}.lambda-edge.functions"]),
    # -- missing keys
    ("missing: origins", lambda c: app(c).pop("origins"), ["edgeport:app.origins"]),
    ("missing: targets", lambda c: app(c).pop("targets"), ["edgeport:app.targets"]),
    ("missing: routes", drop(GEO, "routes"), [f"{P}[2].routes"]),
    ("missing: algorithms", drop(JWT, "algorithms"), [f"{P}[0].algorithms"]),
    ("missing: variants", drop(AB, "variants"), [f"{P}[1].variants"]),
    ("missing: cloudflare hostname", lambda c: app(c)["targets"]["cloudflare"].pop("hostname"), [f"{T}.cloudflare.hostname"]),
    ("missing: default origin", lambda c: app(c)["origins"].pop("default"), ["edgeport:app.origins"]),
    # -- routes
    ("routes: no leading slash", setp(GEO, routes=["geo/*"]), [f"{P}[2].routes[0]"]),
    ("routes: wildcard in the middle", setp(GEO, routes=["/geo/*/x"]), [f"{P}[2].routes[0]"]),
    ("routes: query string", setp(GEO, routes=["/geo?x=1"]), [f"{P}[2].routes[0]"]),
    ("routes: dot segment", setp(GEO, routes=["/geo/../admin"]), [f"{P}[2].routes[0]"]),
    ("routes: listed twice", setp(GEO, routes=["/geo/*", "/geo/*"]), [f"{P}[2].routes"]),
    ("routes: exclude outside the routes", setp(GEO, exclude=["/elsewhere"]), [f"{P}[2].exclude[0]"]),
    # -- countries
    ("countries: not an ISO code", lambda c: GEO(c)["rules"][0].update(countries=["XY"]), [f"{P}[2].rules[0].countries"]),
    ("countries: empty list", lambda c: GEO(c)["rules"][0].update(countries=[]), [f"{P}[2].rules[0].countries"]),
    ("countries: rule origin undeclared", lambda c: GEO(c)["rules"][0].update(origin="mars"), [f"{P}[2].rules[0].origin"]),
    ("countries: one country in two rules", lambda c: GEO(c)["rules"].append({"countries": [GEO(c)["rules"][0]["countries"][0]], "origin": "us"}),
     [f"{P}[2].rules"]),
    # -- ratios
    ("ratios: weights do not add up", lambda c: AB(c)["variants"][0].update(weight=AB(c)["variants"][0]["weight"] + 7),
     [f"{P}[1].variants"]),
    ("ratios: negative weight", lambda c: AB(c)["variants"][0].update(weight=-10), [f"{P}[1].variants[0].weight"]),
    ("ratios: one variant", lambda c: AB(c).update(variants=AB(c)["variants"][:1]), [f"{P}[1].variants"]),
    ("ratios: variant names repeat", lambda c: AB(c)["variants"][1].update(name=AB(c)["variants"][0]["name"]),
     [f"{P}[1].variants"]),
    ("ratios: variant origin undeclared", lambda c: AB(c)["variants"][0].update(origin="mars"), [f"{P}[1].variants[0].origin"]),
    # -- duplicates
    ("duplicates: pattern names", setp(GEO, name="home"), [f"{P}[3].name"]),
    ("duplicates: previous name in use", setp(GEO, previousNames=["home"]), [f"{P}[2].previousNames[0]"]),
    ("duplicates: fragment slots", lambda c: ESI(c)["fragments"].append(dict(ESI(c)["fragments"][0])), [f"{P}[3].fragments"]),
    # -- capability
    ("capability: rooms on vercel", setp(ROOM, targets=["vercel"]), [f"{P}[4].targets"]),
    ("capability: undeclared target", seq(lambda c: app(c)["targets"].pop("vercel"), setp(GEO, targets=["vercel"])),
     [f"{P}[2].targets"]),
    ("capability: unknown target in a pattern", setp(GEO, targets=["aws"]), [f"{P}[2].targets[0]"]),
    # -- JWKS
    ("jwks: RS256 without keys", setp(JWT, algorithms=["RS256"]), [f"{P}[0]"]),
    ("jwks: symmetric key listed", setp(JWT, algorithms=["HS256", "RS256"], jwks={"keys": [{"kty": "oct", "k": "AyM1Sys"}]}),
     [f"{P}[0].jwks.keys[0].kty"]),
    ("jwks: keys but no public-key algorithm", setp(JWT, jwks={"keys": [{"kty": "RSA", "kid": "r", "n": RSA_1024_N, "e": "AQAB"}]}),
     [f"{P}[0].jwks"]),
    ("jwks: RSA key too short", setp(JWT, algorithms=["RS256"], jwks={"keys": [{"kty": "RSA", "kid": "r", "n": RSA_1024_N, "e": "AQAB"}]}),
     [f"{P}[0].jwks.keys[0]"]),
    ("jwks: empty key list", setp(JWT, algorithms=["RS256"], jwks={"keys": []}), [f"{P}[0].jwks.keys"]),
    # -- secrets
    ("secrets: HS256 without a secret", drop(JWT, "secret"), [f"{P}[0]"]),
    ("secrets: plain-text value in the stack file", lambda c: c.update({"edgeport:jwt_hmac": "s" * 48}), ["edgeport:jwt_hmac"]),
    ("secrets: secret name with a dash", setp(JWT, secret="jwt-hmac"), [f"{P}[0].secret"]),
    # -- origins
    ("origins: not http(s)", lambda c: app(c)["origins"].update(eu="ftp://eu.example.com"), ["edgeport:app.origins.eu"]),
    ("origins: IP literal for CloudFront", lambda c: app(c)["origins"].update(eu="https://203.0.113.7"), ["edgeport:app.origins.eu"]),
    ("origins: localhost for CloudFront", lambda c: app(c)["origins"].update(eu="http://localhost:3000"), ["edgeport:app.origins.eu"]),
    ("origins: fragment origin undeclared", lambda c: ESI(c)["fragments"][0].update(origin="mars"), [f"{P}[3].fragments[0].origin"]),
    ("origins: name with spaces", lambda c: app(c)["origins"].update({"e u": "https://eu.example.com"}), ["edgeport:app.origins"]),
    # -- limits
    ("limits: viewer-request memory", target("lambda-edge", functions={"viewer-request": {"memory": 512}}),
     [f"{T}.lambda-edge.functions.viewer-request.memory"]),
    ("limits: origin-request timeout", target("lambda-edge", functions={"origin-request": {"timeout": 60}}),
     [f"{T}.lambda-edge.functions.origin-request.timeout"]),
    # (more routes than cache behaviours is not an error: they collapse into one catch-all behaviour; test_scale.py)
    ("limits: a cache-behaviour quota below 1", target("lambda-edge", cacheBehaviorQuota=0), [f"{T}.lambda-edge.cacheBehaviorQuota"]),
    ("limits: token larger than CloudFront's header limit", setp(JWT, maxTokenBytes=12288), [f"{P}[0].maxTokenBytes"]),
    ("limits: unused trigger settings", target("lambda-edge", functions={"viewer-response": {"memory": 128}}),
     [f"{T}.lambda-edge.functions.viewer-response"]),
    # -- YAML
    ("yaml: a key written twice", ("    name: shop\n", "    name: shop\n    name: shop\n"), ["edgeport:app.name"]),
    ("yaml: a pattern key written twice", ("        type: geo-route\n", "        type: geo-route\n        type: geo-route\n"),
     [f"{P}[2].type"]),
    # -- overlaps
    ("overlap: two geo-routes", add_pattern(name="regional-2", type="geo-route", routes=["/store/shoes/*"],
                                            rules=[{"countries": ["FR"], "origin": "eu"}]), [f"{P}[{NEW}].routes"]),
    ("overlap: two jwt-auth guards", add_pattern(name="api-auth-2", type="jwt-auth", routes=["/api/orders"],
                                                 algorithms=["HS256"], secret="jwt_hmac"), [f"{P}[{NEW}].routes"]),
    # -- dates
    ("date: compatibilityDate after the local workerd", target("cloudflare", compatibilityDate="2099-01-01"),
     [f"{T}.cloudflare.compatibilityDate"]),
    ("date: compatibilityDate not a date", target("cloudflare", compatibilityDate="April 2026"),
     [f"{T}.cloudflare.compatibilityDate"]),
    # -- several mistakes in one file: all of them, in one run
    ("one pass: five mistakes", seq(setp(JWT, leeway="soon"), setp(AB, cookieMaxAge="x"), setp(GEO, routes=["/g", "/g"]),
                                    setp(ESI, name="support-chat"), target("cloudflare", compatibilityDate="2099-01-01")),
     [f"{P}[0].leeway", f"{P}[1].cookieMaxAge", f"{P}[2].routes", f"{P}[4].name", f"{T}.cloudflare.compatibilityDate"]),
    ("one pass: schema and rules in patterns", seq(setp(GEO, rute="/x"), setp(ROOM, name="home")),
     [f"{P}[2].rute", f"{P}[4].name"]),
]
