"""No per-stack ceiling below the platforms' own limits: 300 patterns and 1,000 routes validate, build and plan;
routes past CloudFront's cache-behaviour quota collapse into one catch-all behaviour whose functions route by path
(warned about, with its cost and the quota-increase alternative), and that behaviour serves every pattern right in
the CloudFront emulation."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import jwt as pyjwt
import pytest
import yaml

from conftest import credential_free_env, request, write_project
from edgeport.build import build_app
from edgeport.local.echo import EchoOrigin
from edgeport.local.runner import LocalRunner
from edgeport.spec import parse_app
from edgeport.targets.lambda_edge import behaviours, collapsed, default_behaviour, routing

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]
KEY = "k" * 32


def big_app(n: int = 300) -> dict:
    """n patterns of the four stateless types, 1,000 routes for n=300 (three prefixes each, an exact route on every
    third)."""
    pats = []
    for i in range(n):
        routes = [f"/p{i}/r{j}/*" for j in range(3)] + ([f"/p{i}/x"] if i % 3 == 0 else [])
        pats.append([
            {"name": f"geo{i}", "type": "geo-route", "routes": routes, "rules": [{"countries": ["DE"], "origin": "eu"}]},
            {"name": f"ab{i}", "type": "ab-test", "routes": routes, "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]},
            {"name": f"esi{i}", "type": "esi-compose", "routes": routes, "shell": "/s.html", "fragments": [{"slot": "x", "path": "/f"}]},
            {"name": f"jwt{i}", "type": "jwt-auth", "routes": routes, "algorithms": ["HS256"], "secret": "k",
             "issuer": "https://i/", "audience": "a"},
        ][i % 4])
    return {"name": "big", "origins": {"default": "https://o.example.com", "eu": "https://eu.example.com"},
            "targets": {"cloudflare": {"accountId": "0" * 32, "zoneId": "0" * 32, "hostname": "a.example.com"},
                        "lambda-edge": {}, "vercel": {}},
            "patterns": pats}


def test_300_patterns_and_1000_routes_validate_build_and_plan(tmp_path):
    app = big_app()
    assert sum(len(p["routes"]) for p in app["patterns"]) == 1000
    write_project(tmp_path, {"big": yaml.safe_dump({"config": {"edgeport:app": app}})})
    env = credential_free_env()

    def cli(*args):
        return subprocess.run([*EDGEPORT, *args, "--stack", "big"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=600)

    v = cli("validate", "--json")
    assert v.returncode == 0, v.stderr
    [warning] = [w for w in json.loads(v.stdout)["warnings"] if "cache behaviours" in w]
    assert "1000 routes would need 1000 cache behaviours, over the quota of 75" in warning and "cacheBehaviorQuota" in warning
    b = cli("build", "--json")
    assert b.returncode == 0, b.stderr
    assert {a["target"] for a in json.loads(b.stdout)["artifacts"]} == {"cloudflare", "lambda-edge", "vercel"}
    p = cli("plan", "--offline", "--json")
    assert p.returncode == 0, p.stderr
    resources = json.loads(p.stdout)["resources"]
    dist = next(r for r in resources if r["type"] == "aws:cloudfront/distribution:Distribution")["inputs"]
    assert not dist.get("orderedCacheBehaviors")
    assert [a["eventType"] for a in dist["defaultCacheBehavior"]["lambdaFunctionAssociations"]] == [
        "viewer-request", "origin-request", "origin-response"]
    routes = [r for r in resources if r["type"] == "cloudflare:index/workersRoute:WorkersRoute"]
    assert len(routes) == 1  # a guard puts the Worker in front of the whole host


SMALL = {
    "name": "few", "origins": {"default": "https://origin.example.com", "beta": "https://beta.example.com"},
    "targets": {"lambda-edge": {"cacheBehaviorQuota": 1}},
    "patterns": [
        {"name": "auth", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "k"},
        {"name": "exp", "type": "ab-test", "routes": ["/landing/*"], "liveTtl": 1,
         "variants": [{"name": "A", "weight": 0}, {"name": "B", "weight": 100, "origin": "beta"}]},
    ],
}


def test_over_the_quota_every_route_goes_to_the_default_behaviour():
    app = parse_app(SMALL)
    assert collapsed(app) and behaviours(app) == []
    assert default_behaviour(app)["events"] == ["viewer-request", "origin-request", "origin-response"]
    assert routing(app)["behaviours"] == [] and routing(app)["default"]["events"] == default_behaviour(app)["events"]
    assert not collapsed(parse_app({**SMALL, "targets": {"lambda-edge": {"cacheBehaviorQuota": 2}}}))


@pytest.fixture(scope="module")
def catch_all(tmp_path_factory):
    app = parse_app(SMALL)
    build = build_app(app, "test", tmp_path_factory.mktemp("few"))
    origins = {n: EchoOrigin(name=n).start() for n in SMALL["origins"]}
    try:
        with LocalRunner(app, build, {"k": KEY}, {n: o.url for n, o in origins.items()}) as runner:
            yield runner.start("lambda-edge").url, origins
    finally:
        for o in origins.values():
            o.stop()


def test_the_catch_all_behaviour_still_applies_each_pattern_to_its_own_routes(catch_all):
    """In the CloudFront emulation (which routes by the emitted behaviours): the guard refuses /api/ without a
    token and passes it with one, the A/B test sends /landing/ to its variant's origin, and a path no pattern
    covers goes to the default origin untouched."""
    base, origins = catch_all
    assert request(f"{base}/api/orders").status == 401
    token = pyjwt.encode({"sub": "a", "exp": int(time.time()) + 600}, KEY, algorithm="HS256")
    assert request(f"{base}/api/orders", headers={"authorization": f"Bearer {token}"}).status == 200
    for o in origins.values():
        o.clear()
    r = request(f"{base}/landing/x")
    assert r.status == 200 and "edgeport-ab-exp=B" in (r.headers.get("set-cookie") or "")
    assert [q["path"] for q in origins["beta"].requests] == ["/landing/x"]
    assert request(f"{base}/elsewhere").status == 200
    assert [q["path"] for q in origins["default"].requests][-1] == "/elsewhere"
