"""AWS Lambda@Edge on CloudFront: one published function per trigger in us-east-1.

- Everything regional lives in us-east-1 through an explicit provider (Lambda@Edge
  only deploys from there; CloudFront and IAM are global).
- No environment variables exist at the edge: config is baked into each bundle;
  HMAC secrets live in Secrets Manager (us-east-1, replicated to ``secretRegions``) and
  are fetched at cold start from the Region nearest to the replica that runs.
- Functions are published (CloudFront needs a numbered version) and use
  ``skip_destroy``: after an association is removed, CloudFront's replicas keep the
  function undeletable for hours, so ``pulumi destroy`` drops it from state
  instead of failing. Delete leftovers later (docs/lambda-edge.md).
- The distribution is created from the spec, or an existing one gets the
  associations through a dynamic resource that edits only its own entries.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
from typing import TYPE_CHECKING, Any, Literal, Mapping
from urllib.parse import urlsplit

from pydantic import Field

from ...errors import SpecIssue
from ...patterns import kind_of
from ...spec import aws_regions, routes as routes_, runtime
from ...spec.secret_refs import env_name
from ...spec.types import ROOT, Model
from ..base import Budget, BundleUnit, HeaderLimit, header_issues, routes_for

if TYPE_CHECKING:
    from ...errors import Problems
    from ...spec.models import App

NAME = "lambda-edge"
LABEL = "Lambda@Edge on CloudFront"
DEFAULT_PORT = 8789
# CloudFront's triggers in the order one request meets them (docs.aws.amazon.com/AmazonCloudFront/latest/
# DeveloperGuide/lambda-cloudfront-trigger-events.html).
TRIGGERS = ("viewer-request", "origin-request", "origin-response", "viewer-response")
COMPONENT_TYPE = "edgeport:aws:LambdaEdge"  # the Pulumi component the resources module makes
# Component output -> (key in materialize's result, Python type, description); see cloudflare/__init__.py.
OUTPUTS = {
    "distribution_id": ("distribution_id", "str", "CloudFront distribution the Lambda@Edge functions are associated with."),
    "cloudfront_domain": ("domain_name", "str", "Domain name of that distribution."),
    "lambda_function_arns": ("function_arns", "dict[str, str]", "Qualified (numbered-version) ARN per CloudFront trigger."),
}
# How to write a setting that fails its pattern (edgeport.spec.loader shows it as the fix), by camelCase key.
HINTS = {
    "existingDistributionId": "CloudFront distribution ids are upper-case letters and digits, e.g. E2QWRUHEXAMPLE",
    "certificateArn": "CloudFront needs an ACM certificate in us-east-1: arn:aws:acm:us-east-1:<account>:certificate/<id>",
}
REGION = "us-east-1"
RUNTIME = "nodejs22.x"
LOCAL_RUNTIME = "a CloudFront emulation in Node"  # what `edgeport dev` and the tests run the functions in
HANDLER = "index.handler"
ENTRY = "index.js"

# CloudFront quotas per trigger (Developer Guide, "Quotas on Lambda@Edge"): defaults edgeport uses, and maxima.
VIEWER = {"memory": 128, "timeout": 5, "max_memory": 128, "max_timeout": 5,
          "package": Budget(1024 * 1024, "zip", "viewer triggers: 1 MB package")}
ORIGIN = {"memory": 256, "timeout": 10, "max_memory": 10240, "max_timeout": 30,
          "package": Budget(50 * 1024 * 1024, "zip", "origin triggers: 50 MB package")}
MAX_BEHAVIOURS = 75  # cache behaviours per distribution (default quota)
# CloudFront Developer Guide, "Quotas" > general quotas ("maximum length of a request, including headers and query
# strings, but not including the body content": 20,480 bytes) and "Restrictions on edge functions" (request line +
# headers). A viewer-request result over it is a 502 (LambdaValidationError); functions/platforms/lambda-edge/cloudfront-rules.mjs
# emulates the same check.
REQUEST_HEADERS = HeaderLimit(20_480, None, "request line + headers", "CloudFront quotas, restrictions on edge functions")

# AWS managed policies. AllViewerExceptHostHeader's id is a global constant (CloudFront Developer Guide, "Use
# managed origin request policies"); the cache policy that honours the origin's Cache-Control and keys on the
# query string is looked up by name (its id is not in AWS's own pages; the name has no "Managed-" prefix:
# pulumi-aws docs for aws.cloudfront.getCachePolicy).
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ORIGIN_CACHE_CONTROL_POLICY = "UseOriginCacheControlHeaders-QueryStrings"
# What edgeport's own cache policies allow: nothing is cached unless the origin says so (Cache-Control), at most
# a year; the key holds only what decides the answer (_cache_key).
CACHE_TTL = {"min_ttl": 0, "default_ttl": 0, "max_ttl": 31_536_000}
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]

TRUST_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
        "Action": "sts:AssumeRole",
    }],
})


def limits(event: str) -> dict[str, Any]:
    return VIEWER if event.startswith("viewer") else ORIGIN


def function_settings(app: "App", event: str) -> tuple[int, int]:
    """(memory MB, timeout s) for the function serving `event`: the stack's override or the default."""
    lim = limits(event)
    override = app.targets.lambda_edge.functions.get(event)
    return ((override.memory if override and override.memory else lim["memory"]),
            (override.timeout if override and override.timeout else lim["timeout"]))


def check_limits(app: "App", stack: str, units: list[BundleUnit]) -> list[SpecIssue]:
    """Quotas CloudFront enforces at deploy time, checked before anything is created."""
    issues = []
    base = "edgeport:app.targets.lambda-edge"
    for event, fs in app.targets.lambda_edge.functions.items():
        lim = limits(event)
        kind = "viewer" if event.startswith("viewer") else "origin"
        if fs.memory and fs.memory > lim["max_memory"]:
            issues.append(SpecIssue(f"{base}.functions.{event}.memory", f"{fs.memory} MB exceeds the {lim['max_memory']} MB "
                                    f"Lambda@Edge allows for {kind} triggers", f"use at most {lim['max_memory']}"))
        if fs.timeout and fs.timeout > lim["max_timeout"]:
            issues.append(SpecIssue(f"{base}.functions.{event}.timeout", f"{fs.timeout} s exceeds the {lim['max_timeout']} s "
                                    f"Lambda@Edge allows for {kind} triggers", f"use at most {lim['max_timeout']}"))
        if event not in events(app):
            issues.append(SpecIssue(f"{base}.functions.{event}", f"no pattern on lambda-edge needs the {event} trigger",
                                    f"remove it (triggers in use: {', '.join(events(app)) or 'none'})"))
    issues += header_issues(app, NAME, REQUEST_HEADERS)
    return issues


def advisories(app: "App") -> list[SpecIssue]:
    """What deploys but costs more than a stack may expect (shown by validate and plan, not an error)."""
    if not collapsed(app):
        return []
    n, quota = _route_count(app), app.targets.lambda_edge.cache_behavior_quota
    return [SpecIssue(f"{ROOT}.targets.lambda-edge",
                      f"{n} routes would need {n} cache behaviours, over the quota of {quota} per distribution: one "
                      "catch-all behaviour runs the Lambda@Edge functions on every request instead, and they route by "
                      "path. Every request then pays an invocation (price and latency) and shares one cache key (the union "
                      "of what the patterns read), so fewer answers are cached",
                      "merge routes (prefixes cover more paths), split the stack, or ask AWS to raise 'Cache behaviors per "
                      "distribution' (Service Quotas) and set targets.lambda-edge.cacheBehaviorQuota to the new figure")]


def triggers_for(pattern, app: "App | None" = None) -> tuple[str, ...]:
    """The triggers one declared pattern needs, in CloudFront order (a pattern may need more than its type's
    capability row says, e.g. an A/B test whose variants switch origins)."""
    needed = set(kind_of(pattern).events(pattern, app, NAME))
    return tuple(e for e in TRIGGERS if e in needed)


def events(app: "App") -> list[str]:
    """The triggers this stack needs, in CloudFront order."""
    needed = {e for p in app.patterns if NAME in app.pattern_targets(p) for e in triggers_for(p, app)}
    return [e for e in TRIGGERS if e in needed]


def live_key(app: "App", stack: str, pattern) -> str:
    """SSM parameter (us-east-1) holding a live setting."""
    return f"/edgeport/{app.name}/{stack}/{kind_of(pattern).live_tag}/{pattern.stable_id}"


def live_keys(app: "App", stack: str) -> dict[str, str]:
    return {p.name: live_key(app, stack, p) for p in runtime.live_patterns(app, NAME)}


def local_settings(app: "App", stack: str) -> dict[str, Any]:
    return {
        "live": {live_key(app, stack, p): json.dumps(runtime.live_default(p)) for p in runtime.live_patterns(app, NAME)},
        # What CloudFront puts in an event for each declared origin (the emulation builds events from it).
        "eventOrigins": {n: event_origin(u) for n, u in app.origins.items()},
        **routing(app),
    }


# Pulumi auto-names functions "<logical name>-<7 random hex>", within Lambda's 64 characters
# (pulumi-aws provider/resources.go: tfbridge.AutoName("name", 64, "-")): a destroyed stack's functions, which
# CloudFront's replicas keep undeletable for hours, never collide with the re-created ones.
FUNCTION_NAME_ROOM = 64 - 8


def function_logical_name(component: str, event: str) -> str:
    """The function's logical (and physical name prefix): '<component>-<trigger>', the component part shortened
    when a long app name would leave no room for the random suffix."""
    return f"{component[:FUNCTION_NAME_ROOM - len(event) - 1]}-{event}"


def function_tags(app: "App", stack: str, event: str) -> dict[str, str]:
    """Tags that say whose function it is and which trigger its bundle serves (the policy pack reads them)."""
    return {"edgeport:app": app.name, "edgeport:stack": stack, "edgeport:trigger": event}


def secret_id(app: "App", stack: str, name: str) -> str:
    return f"edgeport/{app.name}/{stack}/{name}"


def secret_regions(app: "App") -> list[str]:
    """The Regions holding each secret, us-east-1 (the primary) first."""
    return aws_regions.readable(app.targets.lambda_edge.secret_regions)


def secret_refs(app: "App", stack: str) -> dict[str, dict[str, Any]]:
    regions = secret_regions(app)
    # awsNearest: the nearest holding Region for each Region that holds none, worked out here from the table of
    # nearby Regions, so that the edge code carries these answers rather than the table
    # (functions/platforms/lambda-edge/aws-regions.ts, step 2).
    nearest = aws_regions.nearest_holders(regions)
    return {s: {"env": env_name(s), "awsSecretId": secret_id(app, stack, s), "awsRegions": regions, "awsNearest": nearest}
            for s in app.secrets_for(NAME)}


def live_in_background(config: dict[str, Any]) -> dict[str, Any]:
    """A/B live settings never hold a request on Lambda@Edge: the SSM parameter lives in us-east-1, possibly an
    ocean away from the replica that runs, and a viewer-request has 5 s in all. With timeoutMs 0 the first requests
    of a container use the declared ratios while the read runs in the background (functions/src/core/live.ts)."""
    for p in config["patterns"]:
        if p.get("live"):
            p["live"] = {**p["live"], "timeoutMs": 0}
    return config


def _bundle_extra(app: "App", event: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"secretTtl": app.targets.lambda_edge.secret_ttl}
    if event == "origin-request":
        # Entry rules for the second trigger of a request: what viewer-request already filtered and then set stays
        # (it runs on every behaviour that has a guard); internal carriers such as the deferred Set-Cookie and any
        # other x-edgeport-* header are dropped before the origin.
        extra["entry"] = {"strip": [], "keep": viewer_request_headers(app)}
        # Origin switching happens here (functions/platforms/lambda-edge/adapter.ts chooseOrigin): the origin objects it may put in.
        extra["cfOrigins"] = {n: event_origin(u) for n, u in app.origins.items()}
    return extra


def bundles(app: "App", stack: str) -> list[BundleUnit]:
    refs = secret_refs(app, stack)
    return [
        BundleUnit(
            NAME, e, f"{NAME}/{e}/{ENTRY}",
            live_in_background(runtime.runtime_config(app, stack, NAME, event=e, secrets=refs,
                                                      live_keys=live_keys(app, stack), extra=_bundle_extra(app, e))),
            inline_config=True, budget=limits(e)["package"],
        )
        for e in events(app)
    ]


# CloudFront has no path pattern for the root alone: "/" and "/*" are served by the default behaviour,
# which then carries the triggers of every pattern that declares them.
DEFAULT_ROUTES = ("/", "/*")


def _cache_key(app: "App", pats: list) -> dict[str, list[str]]:
    """What a behaviour's cache key must hold so that a cached answer is right for whoever it is served to.

    - the A/B cookies: the variant decides the answer (and CloudFront then forwards them to the origin and keeps
      the Set-Cookie origin-response adds with the object, returning it on hits);
    - with a guard, Authorization and any token cookie: an answer may depend on who asked, and the guard runs on
      every behaviour (CloudFront forwards Authorization only through a cache policy - an origin request policy
      cannot list it; CloudFront Developer Guide, "Origin request policies");
    - with a geo route, CloudFront-Viewer-Country: the origin-request trigger picks the origin from it, and a
      header in the cache key is also what makes CloudFront add it for origin-request ("Add CloudFront request
      headers"; viewer-request never sees it).
    Composed pages need nothing: they are generated as `private, no-store`.
    """
    reads = [kind_of(p).reads(p) for p in [*pats, *runtime.guards(app, NAME)]]
    cookies = {c for r in reads for c in r.cookies}
    headers = {h for r in reads for h in r.headers} | ({"CloudFront-Viewer-Country"} if any(r.country for r in reads) else set())
    return {"cookies": sorted(cookies), "headers": sorted(headers)}


def _behaviour(app: "App", path_pattern: str, pats: list) -> dict[str, Any]:
    """What one cache behaviour needs for the patterns that can see its requests: the triggers (only those its
    patterns need, plus the guard's viewer-request) and the cache key. Everything keeps the origin's own cache
    semantics: a behaviour whose key needs nothing special uses the managed policy that honours Cache-Control."""
    evs = {e for p in pats for e in triggers_for(p, app)}
    if runtime.guards_every_request(app, NAME):
        evs.add("viewer-request")  # the guard sees every request, whichever behaviour CloudFront picks
    return {"path_pattern": path_pattern, "events": [e for e in TRIGGERS if e in evs],
            "cache": _cache_key(app, pats)}


def _route_behaviours(app: "App") -> list[dict[str, Any]]:
    on = [p for p in app.patterns if NAME in app.pattern_targets(p)]
    return [_behaviour(app, r, [p for p in on if _overlaps(r, p.routes)]) for r in routes_for(app, NAME)
            if r not in DEFAULT_ROUTES]


def collapsed(app: "App") -> bool:
    """Whether the routes need more cache behaviours than the distribution may have (CloudFront's quota "Cache
    behaviors per distribution": 75 by default, adjustable; docs.aws.amazon.com/AmazonCloudFront/latest/
    DeveloperGuide/cloudfront-limits.html). Then one catch-all behaviour serves every route: the engine matches
    each pattern's routes itself (src/core/engine.ts chainFor), so the functions route by path."""
    return _route_count(app) > app.targets.lambda_edge.cache_behavior_quota


def _route_count(app: "App") -> int:
    """How many cache behaviours the routes need (one per route but / and /*), without working out each one."""
    return sum(1 for r in routes_for(app, NAME) if r not in DEFAULT_ROUTES)


def behaviours(app: "App") -> list[dict[str, Any]]:
    """Ordered cache behaviours for the declared routes (most specific first); none when collapsed()."""
    return [] if collapsed(app) else _route_behaviours(app)


def default_behaviour(app: "App") -> dict[str, Any] | None:
    """The default behaviour's needs when a pattern declares / or /*, or a guard must see every request, or the
    routes collapse into it; None otherwise (the default behaviour then only proxies to the origin)."""
    if collapsed(app):
        return _behaviour(app, "/*", [p for p in app.patterns if NAME in app.pattern_targets(p)])
    pats = [p for p in app.patterns if NAME in app.pattern_targets(p) and any(r in DEFAULT_ROUTES for r in p.routes)]
    return _behaviour(app, "/*", pats) if pats or runtime.guards_every_request(app, NAME) else None


def routing(app: "App") -> dict[str, Any]:
    """CloudFront's routing as emitted, for the local emulation: ordered behaviours (first match wins) with the
    triggers each runs, and the default behaviour's triggers."""
    root = default_behaviour(app)
    dist = app.targets.lambda_edge.distribution
    country = lambda b: "CloudFront-Viewer-Country" in b["cache"]["headers"]  # noqa: E731 - added for origin-request
    return {"behaviours": [{"pathPattern": b["path_pattern"], "events": b["events"], "country": country(b)}
                           for b in behaviours(app)],
            "default": {"events": root["events"] if root else [], "country": bool(root) and country(root)},
            "aliases": list(dist.aliases) if dist else []}


def viewer_request_headers(app: "App") -> list[str]:
    """Headers the viewer-request trigger sets for the origin: origin-request keeps them (RuntimeConfig.entry)."""
    out: set[str] = set()
    for p in app.patterns:
        if NAME in app.pattern_targets(p) and "viewer-request" in triggers_for(p, app):
            out |= runtime.origin_headers(p)
    return sorted(out)


def _overlaps(behaviour: str, routes: list[str]) -> bool:
    """Whether a pattern with these routes sees requests CloudFront routes to this behaviour. Two routes either
    nest or share no path; a route inside this behaviour's has a behaviour of its own, ordered before this one,
    which takes its requests - so only routes containing this behaviour's route count."""
    return any(routes_.contains(r, behaviour) for r in routes)


# The settings the distribution gives every declared origin, in one place: the Distribution's origins (_origin)
# and the origin object an origin-request function puts into the event when it switches origin (event_origin,
# injected into the bundle as `cfOrigins` and into the local emulation as `eventOrigins`) must agree. Keep-alive
# 5 s and response timeout 30 s are CloudFront's defaults, stated so that both sides carry the same figures
# (CloudFront Developer Guide, "Origin settings": https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html).
ORIGIN_SSL_PROTOCOLS = ["TLSv1.2"]
ORIGIN_KEEPALIVE_S = 5
ORIGIN_READ_TIMEOUT_S = 30


def _origin_parts(url: str) -> tuple[str, str, int, str]:
    """scheme, host, port and path (no trailing "/") of a declared origin URL."""
    u = urlsplit(url)
    https = u.scheme == "https"
    return u.scheme, u.hostname or "", u.port or (443 if https else 80), u.path.rstrip("/")


def _origin(url: str, origin_id: str) -> dict[str, Any]:
    scheme, host, port, path = _origin_parts(url)
    o: dict[str, Any] = {
        "origin_id": origin_id,
        "domain_name": host,
        "custom_origin_config": {
            "http_port": port if scheme == "http" else 80,
            "https_port": port if scheme == "https" else 443,
            "origin_protocol_policy": "https-only" if scheme == "https" else "http-only",
            "origin_ssl_protocols": ORIGIN_SSL_PROTOCOLS,
            "origin_keepalive_timeout": ORIGIN_KEEPALIVE_S,
            "origin_read_timeout": ORIGIN_READ_TIMEOUT_S,
        },
    }
    if path:
        o["origin_path"] = path
    return o


def event_origin(url: str) -> dict[str, Any]:
    """The declared origin as a Lambda@Edge event's custom origin object (the fields of
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html, "Origin request",
    custom origin), with the same settings as the Distribution's origin (_origin)."""
    scheme, host, port, path = _origin_parts(url)
    return {"custom": {"customHeaders": {}, "domainName": host, "keepaliveTimeout": ORIGIN_KEEPALIVE_S, "path": path,
                       "port": port, "protocol": scheme, "readTimeout": ORIGIN_READ_TIMEOUT_S,
                       "sslProtocols": ORIGIN_SSL_PROTOCOLS}}


EVERY_BEHAVIOUR = "*every*"  # an association for every cache behaviour of an existing distribution


def existing_associations(app: "App", arns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The associations edgeport adds to a distribution it does not own. A guard's viewer-request goes on every
    behaviour the distribution has (its other behaviours also route requests to the origin); other triggers go on
    the behaviours whose path pattern equals a declared route."""
    root = default_behaviour(app)
    guard = runtime.guards_every_request(app, NAME)
    out = [{"path_pattern": b["path_pattern"], "event_type": e, "lambda_arn": arns[e]}
           for b in [*behaviours(app), *([root] if root else [])] for e in b["events"]
           if e in arns and not (guard and e == "viewer-request")]
    if guard:
        out.append({"path_pattern": EVERY_BEHAVIOUR, "event_type": "viewer-request", "lambda_arn": arns["viewer-request"]})
    return out



# ---------------------------------------------------------------- settings


class DistributionSettings(Model):
    """A CloudFront distribution that the stack creates."""

    price_class: Literal["PriceClass_All", "PriceClass_200", "PriceClass_100"] = "PriceClass_100"
    aliases: list[str] = []
    certificate_arn: str | None = Field(default=None, pattern=r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")
    wait_for_deployment: bool = True


class FunctionSettings(Model):
    """Memory and timeout of the function for one CloudFront trigger."""

    memory: int | None = Field(default=None, ge=128, description="MB")
    timeout: int | None = Field(default=None, ge=1, description="seconds")


Trigger = Literal["viewer-request", "origin-request", "origin-response", "viewer-response"]


class LambdaEdgeTarget(Model):
    """Lambda@Edge functions (us-east-1) on a CloudFront distribution."""

    existing_distribution_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{10,20}$")
    distribution: DistributionSettings | None = None
    secret_ttl: int = Field(default=300, ge=10, le=3600, description="seconds a fetched secret is cached per container")
    secret_regions: list[str] = Field(
        default_factory=lambda: list(aws_regions.REGIONAL_EDGE_CACHES),
        description="Regions holding each secret (us-east-1 always does): replicas there, read by the nearest function "
                    "replica; default: CloudFront's regional edge cache Regions; [] turns replication off")
    functions: dict[Trigger, FunctionSettings] = Field(default_factory=dict, description="per-trigger memory/timeout")
    cache_behavior_quota: int = Field(
        default=MAX_BEHAVIOURS, ge=1, le=10_000,
        description="cache behaviours the account may put on one distribution (75 unless AWS raised the quota); with more "
                    "routes than this, one catch-all behaviour runs the functions on every request and they route by path")


Settings = LambdaEdgeTarget


# ---------------------------------------------------------------- validation


def _check_secret_regions(regions: list[str], problems: "Problems") -> None:
    path = f"{ROOT}.targets.lambda-edge.secretRegions"
    seen: set[str] = set()
    for i, r in enumerate(regions):
        if r in seen:
            problems.add(f"{path}[{i}]", f"{r!r} is listed twice", "list each Region once")
        elif r not in aws_regions.KNOWN:
            near = difflib.get_close_matches(r, sorted(aws_regions.KNOWN), n=1)
            problems.add(f"{path}[{i}]", f"{r!r} is not an AWS Region Secrets Manager can replicate to",
                         f"did you mean {near[0]!r}?" if near else f"use one of {', '.join(sorted(aws_regions.KNOWN))}")
        seen.add(r)


# CloudFront custom origins: the port must be 80, 443 or 1024-65535, and the origin must be a domain name - "can't
# include a colon (:), and can't use the IPV4 address format" (CloudFront Developer Guide, "Lambda@Edge event
# structure", request.origin.custom.domainName and .port,
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html; the same ranges
# for a distribution's origins: "Origin settings" -> "Origin domain", "HTTP port", "HTTPS port",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html).
CLOUDFRONT_PORTS = "80, 443 or 1024-65535"


def _cloudfront_port_ok(port: int) -> bool:
    return port in (80, 443) or 1024 <= port <= 65535


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        # A host whose last label is a number is an IPv4 address to URL parsers ("127.1", "2130706433";
        # WHATWG URL Standard, "ends in a number checker"), never a domain name CloudFront accepts.
        return host.rstrip(".").rsplit(".", 1)[-1].isdigit()


def _check_lambda_edge_origins(app: "App", problems: "Problems") -> None:
    """Origins CloudFront would refuse. The stack's origins are one table every target's bundle carries, and the
    distribution (or an origin-request function) points at them, so the rule holds for each origin of a stack
    with a lambda-edge target. `edgeport dev` is not affected: declared origins keep their names there and the
    local runner maps each name to a loopback echo server (functions/local/origins.mjs), so no stack needs an IP."""
    for name, url in app.origins.items():
        key = f"{ROOT}.origins.{name}"
        u = urlsplit(url)
        host = u.hostname or ""
        if host == "localhost" or host.endswith(".localhost"):  # RFC 6761 6.3: always the loopback of the asker
            problems.add(key, f"{url!r} is localhost: CloudFront would look for the origin on its own edge servers",
                         "use the origin's public DNS name; `edgeport dev --origin` maps a declared origin to a local "
                         "server while developing")
        if _ip_literal(host):
            problems.add(key, f"{url!r} names an IP address; CloudFront origins must be domain names",
                         "use a DNS name that resolves to the address (e.g. an A/AAAA record such as origin.example.com), "
                         "or remove lambda-edge from targets")
        try:
            port = u.port
        except ValueError:
            port = -1
        if port is not None and not _cloudfront_port_ok(port):
            problems.add(key, f"{url!r} uses port {port if port >= 0 else u.netloc.rsplit(':', 1)[-1]}; "
                         f"CloudFront connects to origins on ports {CLOUDFRONT_PORTS} only",
                         f"serve the origin on a port in {CLOUDFRONT_PORTS} (e.g. https://{host}:8443)")


def validate(app: "App", problems: "Problems") -> None:
    """Rules on the lambda-edge settings that span fields, and origins CloudFront would refuse."""
    le = app.targets.lambda_edge
    if le.existing_distribution_id and le.distribution:
        problems.add(f"{ROOT}.targets.lambda-edge", "sets both existingDistributionId and distribution",
                     "keep existingDistributionId to attach to your distribution, or distribution to let edgeport create one")
    if le.distribution and le.distribution.aliases and not le.distribution.certificate_arn:
        problems.add(f"{ROOT}.targets.lambda-edge.distribution.aliases", "aliases need a certificate",
                     "set certificateArn to an ACM certificate in us-east-1 that covers the aliases")
    _check_secret_regions(le.secret_regions, problems)
    _check_lambda_edge_origins(app, problems)


def local_stores(runner):
    """Secrets Manager and SSM stand-ins for the local host (moto; see local.py). Imported late: moto and boto3 are
    only needed when Lambda@Edge runs locally."""
    from .local import AwsStores

    return AwsStores(runner)
