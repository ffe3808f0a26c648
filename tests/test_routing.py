"""The platform's own routing, as edgeport emits it and as the local hosts emulate it from the same data.

Emitted: Workers routes (Cloudflare matches the whole URL, query string included, so every pattern ends in
"*"), CloudFront cache behaviours (first match in order, most specific first) and Vercel's config.matcher.
Emulated: the Cloudflare host sends only requests matching an emitted route to the Worker and the rest to the
origin; the CloudFront emulation runs only the triggers of the behaviour a request falls into. A stack without
a guard keeps the edge on its declared routes; a guard (jwt-auth) puts it in front of every request.
"""

from __future__ import annotations

import pytest

from conftest import request
from edgeport.build import build_app
from edgeport.local.echo import EchoOrigin
from edgeport.local.runner import LocalRunner
from edgeport.spec import parse_app
from edgeport.targets import profile

TARGETS = ["cloudflare", "vercel", "lambda-edge"]
CF = {"accountId": "0" * 32, "zoneId": "1" * 32, "hostname": "shop.example.com"}


def app_raw(*patterns: dict) -> dict:
    return {"name": "routing", "origins": {"default": "https://origin.example.com", "eu": "https://eu.example.com"},
            "targets": {"cloudflare": CF, "lambda-edge": {}, "vercel": {}}, "patterns": list(patterns)}


AB = {"name": "exp", "type": "ab-test", "routes": ["/landing", "/shop/*"], "live": False,
      "variants": [{"name": "A", "weight": 50}, {"name": "B", "weight": 50}]}
GEO = {"name": "geo", "type": "geo-route", "routes": ["/shop/eu/*"], "rules": [{"countries": ["EU"], "origin": "eu"}]}
JWT = {"name": "auth", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "k"}


# ---------------------------------------------------------------- emitted


def test_workers_routes_end_in_a_wildcard_so_query_strings_still_match():
    app = parse_app(app_raw(AB, {**GEO, "routes": ["/", "/shop/eu/*"]}))
    assert profile("cloudflare").worker_routes(app) == ["shop.example.com/*"]  # "/" must also match "/?x=1"
    app = parse_app(app_raw(AB, GEO))
    # "/landing" -> "/landing*" (also "/landing?x=1"); "/shop/*" -> "/shop*" covers "/shop/eu/*"
    assert profile("cloudflare").worker_routes(app) == ["shop.example.com/landing*", "shop.example.com/shop*"]


def test_a_guard_puts_the_edge_in_front_of_every_request_on_every_target():
    app = parse_app(app_raw(AB, JWT))
    assert profile("cloudflare").worker_routes(app) == ["shop.example.com/*"]
    assert profile("vercel").matchers(app) == ["/(.*)"]
    le = profile("lambda-edge")
    assert le.default_behaviour(app)["events"] == ["viewer-request"]
    assert all("viewer-request" in b["events"] for b in le.behaviours(app))


def test_vercel_matchers_follow_the_declared_routes_without_a_guard():
    assert profile("vercel").matchers(parse_app(app_raw(AB, GEO))) == ["/landing", "/shop/eu/(.*)", "/shop/(.*)"]


def test_cloudfront_behaviours_are_ordered_most_specific_first_and_carry_every_overlapping_trigger():
    le = profile("lambda-edge")
    app = parse_app(app_raw(AB, GEO))
    order = [(b["path_pattern"], b["events"]) for b in le.behaviours(app)]
    # CloudFront takes the first behaviour whose pattern matches: "/shop/eu/*" must come before "/shop/*",
    # and it runs both patterns' triggers (the A/B test also covers "/shop/eu/x").
    assert order == [("/landing", ["viewer-request", "origin-response"]),
                     ("/shop/eu/*", ["viewer-request", "origin-request", "origin-response"]),
                     ("/shop/*", ["viewer-request", "origin-response"])]
    assert le.default_behaviour(app) is None
    assert le.routing(app)["default"] == {"events": [], "country": False}


# ---------------------------------------------------------------- emulated


@pytest.fixture(scope="module")
def origins():
    os = {n: EchoOrigin(name=n).start() for n in ("default", "eu")}
    yield os
    for o in os.values():
        o.stop()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, origins):
    app = parse_app(app_raw(AB, GEO))
    build = build_app(app, "test", tmp_path_factory.mktemp("routing"))
    with LocalRunner(app, build, {}, {n: o.url for n, o in origins.items()}) as runner:
        runner.start_all()
        yield {t: h.url for t, h in runner.hosts.items()}


@pytest.fixture
def fresh(origins):
    for o in origins.values():
        o.clear()
    return origins


def assigned(r) -> bool:
    return "edgeport-ab-exp=" in r.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", TARGETS)
def test_an_exact_route_is_served_with_a_query_string(hosts, fresh, target):
    r = request(hosts[target] + "/landing?utm=1")
    assert r.status == 200 and assigned(r)
    assert fresh["default"].requests[0]["query"] == "utm=1"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("path", ["/landing/", "/LANDING", "/Shop/x"])
def test_other_spellings_of_a_route_are_not_its_requests(hosts, fresh, target, path):
    # Only guards (jwt-auth) cover other spellings; an A/B test is its declared paths.
    r = request(hosts[target] + path)
    assert r.status == 200 and not assigned(r), r.headers


@pytest.mark.parametrize("target", TARGETS)
def test_nested_routes_run_both_patterns(hosts, fresh, target):
    r = request(hosts[target] + "/shop/eu/item", headers={"x-edgeport-country": "DE"})
    assert r.status == 200 and assigned(r)
    assert [q["origin"] for q in fresh["default"].requests + fresh["eu"].requests] == ["eu"]


@pytest.mark.parametrize("target", TARGETS)
def test_requests_no_route_covers_never_reach_the_edge(hosts, fresh, target):
    # The engine would refuse an encoded "/" with 400; a 200 from the origin shows the edge code never ran,
    # as the zone / CloudFront's default behaviour / the matcher sends such requests straight to the origin.
    r = request(hosts[target] + "/other%2Fpath", headers={"x-edgeport-ab-exp": "spoofed"})
    assert r.status == 200, r.text
    (seen,) = fresh["default"].requests
    assert seen["path"].lower() == "/other%2fpath"


@pytest.mark.parametrize("url, custom", [
    ("https://origin.example.com/v1/", {"domainName": "origin.example.com", "protocol": "https", "port": 443, "path": "/v1"}),
    ("http://o.example.com:8080", {"domainName": "o.example.com", "protocol": "http", "port": 8080, "path": ""}),
    ("http://o.example.com", {"domainName": "o.example.com", "protocol": "http", "port": 80, "path": ""}),
])
def test_event_origin_carries_the_distributions_origin_settings(url, custom):
    # One source for the origin settings: what an origin-request function switches to is what the Distribution has.
    le = profile("lambda-edge")
    event = le.event_origin(url)["custom"]
    dist = le._origin(url, "o")
    assert {k: event[k] for k in custom} == custom
    assert dist["domain_name"] == event["domainName"] and dist.get("origin_path", "") == event["path"]
    cfg = dist["custom_origin_config"]
    assert cfg[f"{event['protocol']}_port"] == event["port"]
    assert (cfg["origin_ssl_protocols"], cfg["origin_keepalive_timeout"], cfg["origin_read_timeout"]) == \
        (event["sslProtocols"], event["keepaliveTimeout"], event["readTimeout"])
    assert event["customHeaders"] == {}


def test_origin_request_bundles_carry_every_declared_origin():
    app = parse_app(app_raw(GEO))
    le = profile("lambda-edge")
    [unit] = [u for u in le.bundles(app, "test") if u.event == "origin-request"]
    assert unit.config["cfOrigins"] == {n: le.event_origin(u) for n, u in app.origins.items()}
    assert le.local_settings(app, "test")["eventOrigins"] == unit.config["cfOrigins"]
