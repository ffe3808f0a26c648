"""Benchmark cases: one per edge pattern, each measured on every runtime with two sides.

- edgeport side: the bench stack's pattern (bench/stacks/Pulumi.bench.yaml), built by
  `edgeport build` into one bundle per target; a case reaches its pattern through its route.
- reference side: the project's seed article's sample for the same pattern, adapted minimally
  per runtime (bench/reference/<case>.<runtime>.ts, adaptations listed in each file's header).

A case provides its scenarios (request shapes, e.g. "valid token" / "bad signature") with what
each side must answer; bench/measure.mjs checks every request against that, so a number never
describes an error path by accident.

Adding a pattern (A/B bucketing, geo routing, ESI composition, rooms):
  1. declare it in bench/stacks/Pulumi.bench.yaml on its own route (once its runtime exists:
     `edgeport build` refuses unimplemented pattern/target pairs);
  2. adapt the seed article's sample into bench/reference/<case>.<runtime>.ts for the runtimes
     it can run on (the article's samples are Cloudflare Workers; say what changed);
  3. append a Case to CASES below with its scenarios and expectations.
Runtimes a case does not list in `reference` are skipped for that case.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from edgeport.devtoken import mint
from edgeport.spec.models import App

HOST = "bench.example.com"
RUNTIMES = ("cloudflare", "vercel", "lambda-edge")


@dataclass(frozen=True)
class Scenario:
    """One request shape, measured on both sides.

    expect maps an implementation ("edgeport" / "reference") to the outcome it must produce:
    {"kind": "forward" | "respond", "status"?: int, "headers"?: {name: value | True | None}}
    where forward means "continue to the origin" in the runtime's terms (fetch, next(), the
    CloudFront request record), headers are those sent to the origin (forward) or answered
    (respond); True = present, None = absent.
    """

    name: str
    label: str
    path: str
    headers: dict[str, str]
    expect: dict[str, dict[str, Any]]
    method: str = "GET"
    host: str = HOST

    def to_job(self) -> dict[str, Any]:
        return {"name": self.name, "method": self.method, "host": self.host, "path": self.path,
                "headers": {"Host": self.host, **self.headers}, "expect": self.expect}


@dataclass
class Context:
    """What scenario factories may use: the bench stack and this run's secret values."""

    app: App
    stack: str
    secrets: dict[str, str]

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

CASES: list[Case] = [JWT_AUTH]
