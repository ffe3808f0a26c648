"""Benchmark cases: one per edge pattern, each measured on every runtime with two sides.

- edgeport side: the bench stack's pattern (bench/stacks/Pulumi.bench.yaml), built by
  `edgeport build` into one bundle per target; a case reaches its pattern through its route.
- reference side: the project's seed article's sample for the same pattern, adapted minimally
  per runtime (bench/reference/<case>.<runtime>.ts, adaptations listed in each file's header).

A case provides its scenarios (request shapes, e.g. "valid token" / "bad signature") with what
each side must answer; bench/measure.mjs checks every request against that, so a number never
describes an error path by accident.

Peer cases (jwt-hs256, jwt-rs256, jwt-es256, chain) put edgeport next to what a user would otherwise write:
Hono + hono/jwt (hono/jwk for RS256/ES256), Hono + jose, and an empty handler that forwards or answers without
doing any work (the floor). Their edgeport side runs a stack of its own (bench/stacks/Pulumi.peers-*.yaml: a
jwt-only stack, and the geo -> auth -> ab chain), so its bundles carry only those patterns; the peers are
bench/peers/<group>/<peer>.<runtime>.ts, bundled by bench/build-reference.mjs with npm packages pinned in
bench/package.json. Every implementation must produce the same outcome (the floor only its kind).

Adding a pattern:
  1. declare it in bench/stacks/Pulumi.bench.yaml on its own route, mirroring the dev stack
     (`edgeport build` refuses unimplemented pattern/target pairs);
  2. adapt the seed article's sample into bench/reference/<case>.<runtime>.ts for the runtimes
     it can run on without a rewrite (say what changed in the header);
  3. append a Case to CASES below with its scenarios and expectations; runtimes it does not
     list in `reference` are skipped, with the reason from `not_compared` in the table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from edgeport.patterns.ab_test import ab_cookie, ab_header
from edgeport.patterns.jwt_auth import mint, mint_asymmetric
from edgeport.spec.models import App

HOST = "bench.example.com"
RUNTIMES = ("cloudflare", "vercel", "lambda-edge")
PEERS = ("hono-jwt", "hono-jose")      # peer implementations (bench/peers/<group>/<peer>.<runtime>.ts)
FLOOR = "floor"                        # the empty handler (bench/peers/floor.<runtime>.ts)
FLOOR_401 = {"x-bench-floor-401": "1"}  # sent to the floor only, where a case expects a refusal


@dataclass(frozen=True)
class Scenario:
    """One request shape, measured on both sides.

    expect maps an implementation ("edgeport" / "reference") to the outcome it must produce:
    {"kind": "forward" | "respond", "status"?: int, "headers"?: {name: value | True | None}}
    where forward means "continue to the origin" in the runtime's terms (fetch, next(), the
    CloudFront request record), headers are those sent to the origin (forward) or answered
    (respond); True = present, None = absent. Optional: "host" / "path" where a forward goes,
    "bodyIncludes" / "bodyExcludes" (lists of strings) for a response body.
    """

    name: str
    label: str
    path: str
    headers: dict[str, str]
    expect: dict[str, dict[str, Any]]
    method: str = "GET"
    host: str = HOST
    # the viewer's country, delivered the way each platform does (request.cf.country,
    # x-vercel-ip-country, CloudFront-Viewer-Country on origin-request); None: not set
    country: str | None = None
    # implementation -> extra request headers only it gets (the floor is told which outcome a case expects)
    impl_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    # fraction of the case's n and warm-up this scenario runs (ESI latency sweep: a 1 s fragment makes every
    # request take 1 s, so it gets fewer samples); see Case.scenario_settings
    scale: float = 1.0
    # esi-compose: how long the slow fragment takes to answer in this scenario (the latency sweep)
    fragment_delay_ms: int | None = None
    # header sets taken in turn, one per request (measure.mjs `rotated`): e.g. a different token each time
    rotate: list[dict[str, str]] = field(default_factory=list)

    def to_job(self) -> dict[str, Any]:
        job = {"name": self.name, "method": self.method, "host": self.host, "path": self.path,
               "headers": {"Host": self.host, **self.headers}, "expect": self.expect}
        if self.country is not None:
            job["country"] = self.country
        if self.impl_headers:
            job["implHeaders"] = self.impl_headers
        if self.rotate:
            job["rotate"] = self.rotate
        return job

    def info(self) -> dict[str, Any]:
        """What the results file says about the scenario (no headers: they may carry tokens)."""
        out: dict[str, Any] = {"name": self.name, "label": self.label, "method": self.method, "path": self.path}
        if self.country:
            out["country"] = self.country
        if self.fragment_delay_ms is not None:
            out["fragment_delay_ms"] = self.fragment_delay_ms
        return out


@dataclass
class Context:
    """What scenario factories may use: the bench stack and this run's secret values."""

    app: App
    stack: str
    secrets: dict[str, str]
    # peer JWT cases: alg -> (the key the stack trusts, another key), private keys, this run only
    keys: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # esi-compose: the slow fragment's latencies to sweep (bench/run.py --esi-latencies)
    esi_latencies: tuple[int, ...] = ()

    def pattern(self, name: str):
        for p in self.app.patterns:
            if p.name == name:
                return p
        raise KeyError(f"the bench stack declares no pattern {name!r}")


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    pattern: str                                   # bench-stack pattern the edgeport side runs
    reference: dict[str, str]                      # runtime -> file under bench/reference/
    # name the reference reads its secret by -> bench-stack secret whose value it gets.
    # Cloudflare: a binding; Vercel: process.env; Lambda@Edge: build-time constant __NAME__.
    reference_secrets: dict[str, str]
    scenarios: Callable[[Context], list[Scenario]]
    lambda_event: str = "viewer-request"           # the CloudFront trigger the case runs on
    notes: list[str] = field(default_factory=list)
    # runtime -> why there is no reference there (printed in the table instead of numbers)
    not_compared: dict[str, str] = field(default_factory=dict)
    # origin pages (path -> {"type", "body", "delayMs"}); every other path echoes the request
    site: dict[str, dict[str, Any]] = field(default_factory=dict)
    # runtimes where the response streams: time to first byte is measured next to the total
    ttfb: tuple[str, ...] = ()
    # runtime -> site paths put into caches.default for the reference before it runs (Cloudflare)
    reference_cache: dict[str, list[str]] = field(default_factory=dict)
    # fraction of the run's n and warm-up this case uses: keeps `make bench` within its time
    # budget (ESI requests wait >= 50 ms for the origin by design)
    scale: float = 1.0
    # the bench stack (bench/stacks/Pulumi.<stack>.yaml) whose bundles are the edgeport side
    stack: str = "bench"
    # peer cases: the group of bench/peers/ whose bundles serve this case ("jwt", "chain"); they are measured next
    # to edgeport with the floor (PEERS, FLOOR) instead of the seed article's reference
    peer_group: str | None = None
    # Lambda@Edge triggers timed one after the other per request, as CloudFront runs them on a cache miss (the
    # viewer-request result, with the distribution's origin, Host and country added, is origin-request's input);
    # empty: lambda_event alone
    lambda_chain: tuple[str, ...] = ()
    # fresh processes for cold starts
    cold: bool = True
    # the implementations started cold (None: all of them). Peer cases: edgeport and the floor, the empty handler
    # on the same runtime, so edgeport's cold start reads as "above an empty handler" (#14 item 5)
    cold_impls: tuple[str, ...] | None = None

    def implementations(self) -> list[str]:
        return ["edgeport", FLOOR, *PEERS] if self.peer_group else ["edgeport", "reference"]

    def cold_implementations(self) -> list[str]:
        if not self.cold:
            return []
        return [i for i in self.implementations() if self.cold_impls is None or i in self.cold_impls]

    def lambda_events(self) -> tuple[str, ...]:
        return self.lambda_chain or (self.lambda_event,)

    def settings(self, base: dict[str, int]) -> dict[str, int]:
        """This case's n and warm-up: the run's, scaled (at least 3 and 1 when scaled down)."""
        if self.scale == 1.0:
            return dict(base)
        return {**base, "n": max(min(base["n"], 3), round(base["n"] * self.scale)),
                "warmup": max(min(base["warmup"], 1), round(base["warmup"] * self.scale))}

    def scenario_settings(self, base: dict[str, int], scenario: Scenario) -> dict[str, int] | None:
        """A scenario's own n (at least 3) and warm-up when it runs a fraction of the case's; None: the case's."""
        if scenario.scale == 1.0:
            return None
        cs = self.settings(base)
        # no minimum warm-up: the case's other scenarios have warmed the same code (the ESI sweep: only the
        # fragment's latency differs), and every timed request is checked as well
        return {"n": max(min(cs["n"], 3), round(cs["n"] * scenario.scale)), "warmup": round(cs["warmup"] * scenario.scale)}


# ---------------------------------------------------------------- jwt-auth

def jwt_scenarios(ctx: Context) -> list[Scenario]:
    p = ctx.pattern("api-auth")
    secret = ctx.secrets[p.secret]
    now = int(time.time())
    # Minted once, up front. The bad token has the same header and claims and a well-formed
    # 32-byte signature made with another key, so both sides go all the way to
    # crypto.subtle.verify and reject there (not on a cheap format check).
    good = mint(p, secret, sub="bench-user", ttl=3600, now=now)
    bad = mint(p, secret + "-not-the-key", sub="bench-user", ttl=3600, now=now)
    assert good.rsplit(".", 1)[0] == bad.rsplit(".", 1)[0] and good != bad
    path = "/api/orders"
    return [
        Scenario("valid", "valid token", path, {"Authorization": f"Bearer {good}"}, expect={
            "edgeport": {"kind": "forward", "headers": {"x-user-id": "bench-user", "x-edgeport-claims": True}},
            "reference": {"kind": "forward"},
        }),
        Scenario("bad-signature", "bad signature", path, {"Authorization": f"Bearer {bad}"}, expect={
            "edgeport": {"kind": "respond", "status": 401, "headers": {"www-authenticate": True}},
            "reference": {"kind": "respond", "status": 401},
        }),
    ]


JWT_AUTH = Case(
    name="jwt-auth",
    title="HS256 JWT check on /api/*: a valid token is forwarded, a bad signature gets 401",
    pattern="api-auth",
    reference={rt: f"jwt-auth.{rt}.ts" for rt in RUNTIMES},
    reference_secrets={"JWT_SECRET": "jwt_hmac"},
    scenarios=jwt_scenarios,
    notes=[
        "edgeport also checks alg, exp/iat, iss, aud and sub, forwards x-user-id and x-edgeport-claims, "
        "and caches the imported key; the reference checks the signature only and imports the key per request.",
        "Lambda@Edge: edgeport reads the secret from Secrets Manager (moto) at cold start; warm numbers are "
        "after it is cached. The reference has it inlined at build time.",
    ],
)

# ---------------------------------------------------------------- ab-test

def ab_scenarios(ctx: Context) -> list[Scenario]:
    p = ctx.pattern("landing-exp")
    cookie, header = p.cookie or f"edgeport-ab-{p.name}", f"x-edgeport-ab-{p.name}"
    sticky = next(v for v in p.variants if v.path)  # a variant whose assignment rewrites the path
    path = "/landing"
    sticky_path = sticky.path.replace("{path}", path)
    return [
        # No cookie: edgeport draws a variant by weight (live ratios from the platform's store,
        # cached per isolate for liveTtl), sets the cookie and tells the origin; which variant
        # varies per request (control: path unchanged, new-hero: path rewrite, beta-stack: other
        # origin). The reference has no assignment: no cookie means A.
        Scenario("first-visit", "first visit (no cookie)", path, {}, expect={
            "edgeport": {"kind": "forward", "headers": {header: True}},
            "reference": {"kind": "forward", "path": "/variants/A"},
        }),
        # Both sides' cookies in one request, so each sees its own sticky assignment.
        Scenario("returning", "returning visitor (cookie)", path, {"Cookie": f"variant=B; {cookie}={sticky.name}"}, expect={
            "edgeport": {"kind": "forward", "path": sticky_path, "headers": {header: sticky.name}},
            # Lambda@Edge: the timed viewer-request trigger tells the origin the variant; origin-request rewrites.
            "edgeport@lambda-edge": {"kind": "forward", "path": path, "headers": {header: sticky.name}},
            "reference": {"kind": "forward", "path": "/variants/B"},
        }),
    ]


AB_TEST = Case(
    name="ab-test",
    title="cookie A/B test on /landing: a first visit is assigned, a returning visitor keeps its variant",
    pattern="landing-exp",
    reference={rt: f"ab-test.{rt}.ts" for rt in RUNTIMES},
    reference_secrets={},
    scenarios=ab_scenarios,
    scale=0.5,
    notes=[
        "edgeport assigns first visits by weight (50/30/20, live ratios read from KV / Edge Config / SSM and "
        "cached for liveTtl=10 s), sets the sticky cookie and an x-edgeport-ab-* header for the origin; the "
        "reference only reads a `variant` cookie (no cookie: A) and never sets one.",
        "first visit: edgeport's variant is random per request, so its samples mix three paths (control: "
        "forward unchanged, new-hero: path rewrite, beta-stack: another origin).",
        "Lambda@Edge: the viewer-request trigger (assignment) is timed. edgeport also runs on origin-request "
        "(path rewrite, origin switch) on cache misses and on origin-response (Set-Cookie on every origin "
        "answer); those invocations are not part of the numbers.",
    ],
)


# ---------------------------------------------------------------- geo-route

def geo_scenarios(ctx: Context) -> list[Scenario]:
    p = ctx.pattern("regional")
    origins = {o: f"{o}.origin.{HOST}" for o in ("eu", "us")}
    assert all(str(ctx.app.origins[o]).rstrip("/") == f"https://{h}" for o, h in origins.items())
    rules = {c: r.origin for r in p.rules for c in r.countries}
    assert rules.get("EEA") == "eu" and rules.get("US") == "us"
    path = "/store/items"
    return [
        Scenario("de", "DE (EU rule)", path, {}, country="DE", expect={
            "edgeport": {"kind": "forward", "host": origins["eu"], "path": path, "headers": {"x-edgeport-geo": "DE"}},
            "reference": {"kind": "forward", "host": "api-eu.example.com", "path": path},
        }),
        Scenario("us", "US (US rule)", path, {}, country="US", expect={
            "edgeport": {"kind": "forward", "host": origins["us"], "path": path, "headers": {"x-edgeport-geo": "US"}},
            "reference": {"kind": "forward", "host": "api-us.example.com", "path": path},
        }),
    ]


GEO_ROUTE = Case(
    name="geo-route",
    title="country routing on /store/*: DE goes to the EU origin, US to the US origin",
    pattern="regional",
    reference={rt: f"geo-route.{rt}.ts" for rt in RUNTIMES},
    reference_secrets={},
    scenarios=geo_scenarios,
    lambda_event="origin-request",
    scale=0.5,
    notes=[
        "edgeport looks the country up in a deploy-time table (EEA/GB/CH -> eu, US/CA -> us, other real "
        "countries -> default, unknown/XX/T1 -> the strictest region) and tells the origin in x-edgeport-geo; "
        "the reference maps four countries and sends everything else, unknown included, to the US origin.",
        "Cloudflare: the country arrives as request.cf.country (Miniflare's MF-CF-Blob header); Vercel: "
        "x-vercel-ip-country; Lambda@Edge: CloudFront-Viewer-Country in the origin-request trigger, the "
        "only one that sees it, and the one that can switch origins.",
    ],
)


# ---------------------------------------------------------------- esi-compose

FRAGMENT_DELAY_MS = 50
# #14 item 6: the slow fragment's latency swept over these (bench/run.py --esi-latencies); FRAGMENT_DELAY_MS is the
# case's own scenario ("page"), the others are added next to it
ESI_LATENCIES = (0, 50, 200, 1000)
# The origin stand-ins (bench/measure.mjs) delay /fragments/recommendations by this cookie's value when a request
# carries it. Both sides send the viewer's cookie to their fragments (edgeport: every end-to-end header,
# functions/src/core/http.ts forwardable; the reference's fetchPersonalizedContent: the cookie), so a scenario
# chooses the latency without another pattern in the bench stack.
DELAY_COOKIE = "bench-fragment-delay"
# A sweep scenario slower than FRAGMENT_DELAY_MS runs ESI_BUDGET_MS / latency of the case's n and warm-up: every
# request waits for the fragment, so at 1 s the case's 100 requests would take 200 s per runtime; this keeps each
# slow scenario near 2 s per side (1000 ms: 3 requests, the minimum; 200 ms: 10) and `make bench` within its 10 minutes on a busy machine.
# The spread at a fixed latency is timer and scheduling slack (a few ms), so a few samples give its p50.
ESI_BUDGET_MS = 20


def _esi_site() -> dict[str, dict[str, Any]]:
    """A storefront shell (~10 KB) and two fragments. The shell carries edgeport's slots
    (<!--esi:NAME-->) and the article's marker (<!-- PERSONALIZED_SLOT -->), so both sides
    read the same page; each leaves the other's markers as plain comments. The cart slot sits
    in the header, before any product, so a streaming side can send the head and navigation
    before the slow recommendations fragment arrives."""
    cards = "\n".join(
        f'<li class="card"><a href="/p/{i}"><img src="/img/{i}.webp" alt="" width="240" height="240">'
        f'<h3>Product {i}</h3><p class="price">{10 + i}.99 EUR</p></a></li>' for i in range(48))
    shell = (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bench shop</title>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"stylesheet\" href=\"/static/app.css\"><script defer src=\"/static/app.js\"></script>\n"
        "</head><body>\n<header><a href=\"/\" class=\"logo\">Bench shop</a><nav><a href=\"/new\">New</a> "
        "<a href=\"/sale\">Sale</a> <a href=\"/help\">Help</a></nav>\n"
        "<div class=\"cart\"><!--esi:cart--></div></header>\n"
        f"<main><h1>This week</h1><ul class=\"grid\">\n{cards}\n</ul>\n"
        "<section class=\"recs\"><h2>For you</h2><!--esi:recommendations--><!-- PERSONALIZED_SLOT --></section>\n"
        "</main><footer><p>Bench shop - a benchmark page</p></footer></body></html>\n")
    recs = "<ul data-fragment=\"recommendations\">" + "".join(
        f'<li><a href="/p/{100 + i}">Recommended {i}</a></li>' for i in range(12)) + "</ul>"
    cart = "<span data-fragment=\"cart\">3 items</span>"
    return {
        "/shell.html": {"type": "text/html; charset=utf-8", "body": shell, "delayMs": 0},
        # the latency sweep's scenarios name another delay in a cookie both sides pass on to the fragment
        "/fragments/recommendations": {"type": "text/html; charset=utf-8", "body": recs, "delayMs": FRAGMENT_DELAY_MS,
                                       "delayCookie": DELAY_COOKIE},
        "/fragments/cart": {"type": "text/html; charset=utf-8", "body": cart, "delayMs": 0},
    }


def esi_scenarios(ctx: Context) -> list[Scenario]:
    p = ctx.pattern("home")
    assert p.shell == "/shell.html" and {f.slot for f in p.fragments} == {"recommendations", "cart"}
    route = p.routes[0]
    assert route == "/", route
    filled = ['data-fragment="recommendations"', 'data-fragment="cart"', "</html>"]
    # identity: Miniflare's entry worker would otherwise gzip/brotli text/html for Node's fetch,
    # and a compressor may hold back the first bytes, which is not what is being measured here.
    headers = {"Cookie": "session=bench-user", "Accept-Encoding": "identity"}
    recs = next(f for f in p.fragments if f.slot == "recommendations")

    def page(name: str, delay: int, cookie: str) -> Scenario:
        # Past the fragment's deadline edgeport sends the slot's fallback (the documented behaviour, a valid result:
        # the table marks it); the reference has no deadline and waits. The bench stack's deadline is 3000 ms, above
        # every latency of the default sweep.
        late = delay >= recs.timeout_ms
        fallback = [recs.fallback] if recs.fallback else []
        edgeport_body = ({"bodyIncludes": ['data-fragment="cart"', *fallback, "</html>"],
                          "bodyExcludes": ["<!--esi:", 'data-fragment="recommendations"']} if late else
                         {"bodyIncludes": filled, "bodyExcludes": ["<!--esi:", *fallback]})
        scale = 1.0 if delay <= FRAGMENT_DELAY_MS else ESI_BUDGET_MS / delay
        return Scenario(name, f"page (fragment {delay} ms)", route, {**headers, "Cookie": cookie},
                        scale=scale, fragment_delay_ms=delay, expect={
                            "edgeport": {"kind": "respond", "status": 200, "headers": {"x-edgeport-esi": p.name}, **edgeport_body},
                            "reference": {"kind": "respond", "status": 200, "bodyIncludes": filled,
                                          "bodyExcludes": ["<!-- PERSONALIZED_SLOT -->"]},
                        })

    # "page" first: the cold starts use a case's first scenario
    return [page("page", FRAGMENT_DELAY_MS, headers["Cookie"]),
            *(page(f"fragment-{ms}ms", ms, f"{headers['Cookie']}; {DELAY_COOKIE}={ms}")
              for ms in ctx.esi_latencies if ms != FRAGMENT_DELAY_MS)]


ESI_COMPOSE = Case(
    name="esi-compose",
    title=f"ESI page on /: a cached shell plus two fragments, one answering after {FRAGMENT_DELAY_MS} ms",
    pattern="home",
    reference={rt: f"esi-compose.{rt}.ts" for rt in RUNTIMES},
    reference_secrets={},
    scenarios=esi_scenarios,
    lambda_event="origin-request",
    site=_esi_site(),
    ttfb=("cloudflare", "vercel"),
    reference_cache={"cloudflare": ["/shell.html"]},
    scale=0.02,
    notes=[
        f"The recommendations fragment answers after {FRAGMENT_DELAY_MS} ms, the cart and the shell at once, "
        "so the page cannot be complete before that: compare time to first byte (TTFB) and to the last byte.",
        "edgeport streams the shell and fills each slot when its turn comes (per-fragment timeouts 300/200 ms, "
        "fallbacks); the reference waits for the shell and every fragment, then sends the page.",
        "Cloudflare: both read the shell from caches.default (edgeport after its first request, the reference "
        "from a copy the harness puts there: the sample never fills it). Vercel and Lambda@Edge have no Cache "
        "API: both fetch the shell from the origin on every request.",
        "Lambda@Edge: both answer from origin-request with a generated response, which CloudFront does not "
        "stream: TTFB is not measured there.",
        f"Requests take >= {FRAGMENT_DELAY_MS} ms by design, so the case runs 2 % of n (100 requests in a full run).",
        "Latency sweep (#14 item 6): scenarios fragment-<N>ms delay the recommendations fragment by N ms instead of "
        f"{FRAGMENT_DELAY_MS} (the cart stays at 0); above {FRAGMENT_DELAY_MS} ms a scenario runs {ESI_BUDGET_MS}/N of "
        "the case's n (at least 3) and warm-up. A latency at or past the fragment's timeoutMs (3000 ms in the bench stack) "
        "makes edgeport send the slot's fallback, which the check then expects.",
    ],
)

# ---------------------------------------------------------------- realtime-room (listed, not measured)

NO_WEBSOCKETS = "neither side can run there (no WebSockets at this edge; edgeport refuses rooms on it)"

REALTIME_ROOM = Case(
    name="realtime-room",
    title="WebSocket chat room (Durable Object)",
    pattern="support-chat",  # the dev stack's; not in the bench stack while it has no measurement
    reference={},
    reference_secrets={},
    scenarios=lambda ctx: [],
    not_compared={
        "cloudflare": "not measured yet: a room is a WebSocket session, not a request, so it needs a WebSocket "
                      "driver in bench/measure.mjs; the sample is a Durable Object class without the Worker "
                      "that routes to it; and the dev stack's 5 messages/s per connection limits sampling",
        "vercel": NO_WEBSOCKETS,
        "lambda-edge": NO_WEBSOCKETS,
    },
)


# ---------------------------------------------------------------- peers: Hono + hono/jwt, Hono + jose, the floor

def same_for_all(edgeport: dict[str, Any], floor: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """edgeport and every peer must produce `edgeport`; the floor (which does nothing) only `floor`."""
    return {"edgeport": edgeport, **{p: edgeport for p in PEERS}, FLOOR: floor}


FORWARD_IDENTITY = {"kind": "forward", "headers": {"x-user-id": "bench-user", "x-edgeport-claims": True}}
REFUSED = {"kind": "respond", "status": 401, "headers": {"www-authenticate": True}}


def peer_jwt_scenarios(alg: str, prefix: str) -> Callable[[Context], list[Scenario]]:
    def make(ctx: Context) -> list[Scenario]:
        p = ctx.pattern(f"auth-{alg.lower()}")
        now = int(time.time())
        if alg == "HS256":
            secret = ctx.secrets[p.secret]
            good = mint(p, secret, sub="bench-user", ttl=3600, now=now)
            bad = mint(p, secret + "-not-the-key", sub="bench-user", ttl=3600, now=now)
            fresh = [mint(p, secret, sub="bench-user", ttl=3600, now=now - i) for i in range(FRESH_TOKENS)]
        else:
            trusted, other = ctx.keys[alg]
            good = mint_asymmetric(p, trusted, alg, sub="bench-user", ttl=3600, now=now)
            bad = mint_asymmetric(p, other, alg, sub="bench-user", ttl=3600, now=now)
            fresh = [mint_asymmetric(p, trusted, alg, sub="bench-user", ttl=3600, now=now - i) for i in range(FRESH_TOKENS)]
        assert len(set(fresh)) == FRESH_TOKENS
        # same header and claims, a well-formed signature by another key: every side goes as far as verify()
        assert good.rsplit(".", 1)[0] == bad.rsplit(".", 1)[0] and good != bad
        path = f"/{prefix}/orders"
        return [
            Scenario("valid", "valid token", path, {"Authorization": f"Bearer {good}"},
                     expect=same_for_all(FORWARD_IDENTITY, {"kind": "forward"})),
            Scenario("bad-signature", "bad signature", path, {"Authorization": f"Bearer {bad}"},
                     expect=same_for_all(REFUSED, {"kind": "respond", "status": 401}), impl_headers={FLOOR: FLOOR_401}),
            # A different valid token on every request, in a cycle longer than edgeport's token cache (512 per
            # pattern, least recently used out first): every request is a miss, verified in full.
            Scenario("fresh", "valid token, never seen", path, {}, rotate=[{"Authorization": f"Bearer {t}"} for t in fresh],
                     expect=same_for_all(FORWARD_IDENTITY, {"kind": "forward"})),
        ]
    return make


FRESH_TOKENS = 600  # > the 512 tokens edgeport's cache keeps per pattern (functions/src/patterns/jwt.ts)


def _peer_jwt_case(alg: str, prefix: str) -> Case:
    return Case(
        name=f"jwt-{alg.lower()}",
        title=f"{alg} JWT check on /{prefix}/*: edgeport, Hono + hono/{'jwt' if alg == 'HS256' else 'jwk'}, "
              "Hono + jose, empty handler",
        pattern=f"auth-{alg.lower()}",
        reference={},
        # one peer bundle serves the three JWT cases, so each of them gets the HS256 secret
        reference_secrets={"JWT_SECRET": "jwt_hmac"},
        scenarios=peer_jwt_scenarios(alg, prefix),
        stack="peers-jwt",
        peer_group="jwt",
        cold_impls=("edgeport", FLOOR),
        scale=0.5,
        notes=[
            "Every side checks the signature, exp/nbf/iat when present, iss and aud, and forwards x-user-id and "
            "x-edgeport-claims (base64url JSON claims); a bad signature gets 401 with WWW-Authenticate. edgeport "
            "also requires exp and checks alg/typ/crit, the token size and canonical base64url; jose requires exp "
            "and sub; Hono's middleware requires neither.",
            "Keys: edgeport caches imported keys per isolate; hono/jwt and hono/jwk import the key on every request; "
            "jose imports an HS256 secret given as bytes on every request and caches the JWK set's keys.",
            "The floor forwards the valid token's request unchanged and answers the bad one with a bare 401 "
            "(told by a header only it gets): what the runtime costs with no work done.",
            "Cold start (#14 item 5): edgeport and the floor in fresh processes, first request = a valid token. "
            "Lambda@Edge: HS256's first request waits for the secret from Secrets Manager (a store read); RS256 "
            "and ES256 verify with the stack's inline JWKs and do not wait (the container still starts reading the "
            "stack's HS256 secret in the background while it loads).",
        ],
    )


JWT_HS256, JWT_RS256, JWT_ES256 = _peer_jwt_case("HS256", "hs"), _peer_jwt_case("RS256", "rs"), _peer_jwt_case("ES256", "es")


def chain_scenarios(ctx: Context) -> list[Scenario]:
    geo_p, auth, ab = ctx.pattern("shop-geo"), ctx.pattern("shop-auth"), ctx.pattern("shop-exp")
    token = mint(auth, ctx.secrets[auth.secret], sub="bench-user", ttl=3600, now=int(time.time()))
    eu = f"eu.origin.{HOST}"
    assert str(ctx.app.origins["eu"]).rstrip("/") == f"https://{eu}" and any("EEA" in r.countries for r in geo_p.rules)
    sticky = next(v for v in ab.variants if v.path)
    path = "/shop/cart"
    base = {"kind": "forward", "host": eu,
            "headers": {"x-user-id": "bench-user", "x-edgeport-claims": True, "x-edgeport-geo": "DE"}}
    auth_header = {"Authorization": f"Bearer {token}"}
    return [
        # Returning visitor: the cookie keeps new-hero, whose path is rewritten; no cookie is set.
        Scenario("returning", "returning visitor (DE, token, A/B cookie)", path,
                 {**auth_header, "Cookie": f"{ab_cookie(ab)}={sticky.name}"}, country="DE",
                 expect=same_for_all({**base, "path": sticky.path.replace("{path}", path),
                                      "headers": {**base["headers"], ab_header(ab): sticky.name},
                                      "responseHeaders": {"set-cookie": None}}, {"kind": "forward"})),
        # First visit: a variant is drawn per request (control: path unchanged; new-hero: rewritten), told to the
        # origin and set as a cookie on the answer (Cloudflare, Vercel; Lambda@Edge sets it in a response trigger).
        Scenario("first-visit", "first visit (DE, token, no cookie)", path, auth_header, country="DE",
                 expect=same_for_all({**base, "headers": {**base["headers"], ab_header(ab): True},
                                      "responseHeaders": {"set-cookie": True}}, {"kind": "forward"})),
    ]


CHAIN = Case(
    name="chain",
    title="geo -> auth -> ab on /shop/*: edgeport, Hono + hono/jwt, Hono + jose, empty handler",
    pattern="shop-geo+shop-auth+shop-exp",
    reference={},
    reference_secrets={"JWT_SECRET": "jwt_hmac"},
    scenarios=chain_scenarios,
    stack="peers-chain",
    peer_group="chain",
    lambda_chain=("viewer-request", "origin-request"),
    cold_impls=("edgeport", FLOOR),
    scale=0.5,
    notes=[
        "One request runs three steps: the viewer's country picks the origin (DE -> eu), an HS256 token is checked "
        "(identity headers to the origin), and a 50/50 experiment keeps the cookie's variant or draws one (first "
        "visit: Set-Cookie on the answer, checked on Cloudflare and Vercel); new-hero rewrites the path.",
        "edgeport reads the live A/B ratios (KV / Edge Config / SSM, cached 10 s); the Hono apps use the declared "
        "weights as constants.",
        "Lambda@Edge: the viewer-request trigger (auth, assignment) and then the origin-request trigger (country, "
        "origin) are timed as one request, the way CloudFront runs them on a cache miss; the cookie needs a "
        "response trigger on every side and is not timed.",
        "Cold start (#14 item 5): edgeport and the floor in fresh processes, first request = the returning visitor. "
        "Lambda@Edge: both functions loaded; the first request waits for the HS256 secret (Secrets Manager), not "
        "for the live A/B ratios (SSM, read in the background on first use: the cookie's variant needs none).",
    ],
)

PEER_CASES: list[Case] = [JWT_HS256, JWT_RS256, JWT_ES256, CHAIN]

CASES: list[Case] = [JWT_AUTH, AB_TEST, GEO_ROUTE, ESI_COMPOSE, REALTIME_ROOM, *PEER_CASES]
