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

import json
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

import pulumi
import pulumi.dynamic

from ..patterns import kind_of
from ..spec import aws_regions, capabilities, routes as routes_, runtime
from ..spec.models import DistributionSettings
from ..spec.secret_refs import env_name
from ..errors import SpecIssue
from .base import Budget, BundleUnit, HeaderLimit, header_issues, pattern_resource, resource_slug, routes_for

if TYPE_CHECKING:
    from ..build.artifacts import Artifact
    from ..spec.models import App

NAME = "lambda-edge"
REGION = "us-east-1"
RUNTIME = "nodejs22.x"
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
# headers). A viewer-request result over it is a 502 (LambdaValidationError); functions/local/cloudfront-rules.mjs
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
    n = len(behaviours(app))
    if n > MAX_BEHAVIOURS:
        issues.append(SpecIssue(base, f"{n} routes need {n} cache behaviours; CloudFront allows {MAX_BEHAVIOURS} per distribution",
                                "merge routes (prefixes cover more paths) or request a quota increase"))
    issues += header_issues(app, NAME, REQUEST_HEADERS)
    return issues


def events(app: "App") -> list[str]:
    """The triggers this stack needs, in CloudFront order."""
    needed = {e for p in app.patterns if NAME in app.pattern_targets(p) for e in capabilities.lambda_events_for(p, app)}
    return [e for e in capabilities.LAMBDA_EVENTS if e in needed]


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
    return {s: {"env": env_name(s), "awsSecretId": secret_id(app, stack, s), "awsRegions": secret_regions(app)}
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
        # Origin switching happens here (adapters/lambda-edge.ts chooseOrigin): the origin objects it may put in.
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
    evs = {e for p in pats for e in capabilities.lambda_events_for(p, app)}
    if runtime.guards_every_request(app, NAME):
        evs.add("viewer-request")  # the guard sees every request, whichever behaviour CloudFront picks
    return {"path_pattern": path_pattern, "events": [e for e in capabilities.LAMBDA_EVENTS if e in evs],
            "cache": _cache_key(app, pats)}


def behaviours(app: "App") -> list[dict[str, Any]]:
    """Ordered cache behaviours for the declared routes (most specific first)."""
    on = [p for p in app.patterns if NAME in app.pattern_targets(p)]
    return [_behaviour(app, r, [p for p in on if _overlaps(r, p.routes)]) for r in routes_for(app, NAME)
            if r not in DEFAULT_ROUTES]


def default_behaviour(app: "App") -> dict[str, Any] | None:
    """The default behaviour's needs when a pattern declares / or /*, or a guard must see every request;
    None when neither holds (the default behaviour then only proxies to the origin)."""
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
        if NAME in app.pattern_targets(p) and "viewer-request" in capabilities.lambda_events_for(p, app):
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


def replica_arns(arn: pulumi.Input[str], regions: list[str]) -> pulumi.Output[list[str]]:
    """The secret's ARN in each Region holding it: a replica's ARN is the primary's with another Region
    (Secrets Manager User Guide, "Replicate secrets across Regions":
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html)."""
    def per_region(a: str) -> list[str]:
        parts = a.split(":")  # arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>
        return [":".join([*parts[:3], r, *parts[4:]]) for r in regions]
    return pulumi.Output.from_input(arn).apply(per_region)


def policy_document(function_names: list[Any], secret_arns: list[Any], parameter_arns: list[str] | None = None) -> pulumi.Output[str]:
    """Least privilege: write own logs (in every region a replica runs), read own secrets (each in the Regions holding
    it: `secret_arns` may hold lists) and parameters only."""
    logs: list[Any] = []
    for fn in function_names:
        group = pulumi.Output.concat("arn:aws:logs:*:*:log-group:/aws/lambda/", REGION, ".", fn)
        logs += [group, pulumi.Output.concat(group, ":*")]
    statements: list[Any] = [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                              "Resource": logs}]
    if secret_arns:
        flat = pulumi.Output.all(*secret_arns).apply(lambda arns: [a for x in arns for a in (x if isinstance(x, list) else [x])])
        statements.append({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": flat})
    if parameter_arns:
        statements.append({"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": parameter_arns})
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


class LambdaEdgeFunctions(pulumi.ComponentResource):
    """Secrets, role, one published function per trigger, and their CloudFront associations."""

    distribution_id: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    function_arns: pulumi.Output[dict]

    def __init__(self, name: str, app: "App", stack: str, artifacts: list["Artifact"],
                 secrets: Mapping[str, pulumi.Input[str]], opts: pulumi.ResourceOptions | None = None):
        super().__init__("edgeport:aws:LambdaEdge", name, None, opts)
        import pulumi_aws as aws

        t = app.targets.lambda_edge
        # Every AWS resource goes through this provider, CloudFront and IAM included (global services still take
        # the provider's region): the deploy never depends on a region set in whoever's environment runs it.
        use1 = aws.Provider(f"{name}-{REGION}", region=REGION, opts=pulumi.ResourceOptions(parent=self))
        regional = pulumi.ResourceOptions(parent=self, provider=use1)
        keep = pulumi.ResourceOptions(parent=self, provider=use1, protect=app.protects())

        stored = self._secrets(aws, name, app, stack, artifacts, secrets, keep)
        self._parameters(aws, name, app, stack, use1)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=TRUST_POLICY,
                            description=f"edgeport {app.name}/{stack} Lambda@Edge", opts=regional)
        functions = {}
        for a in artifacts:
            memory, timeout = function_settings(app, a.event)
            logical = function_logical_name(name, a.event)
            functions[a.event] = aws.lambda_.Function(
                logical,
                role=role.arn,
                runtime=RUNTIME,
                handler=HANDLER,
                architectures=["x86_64"],  # Lambda@Edge has no arm64
                code=pulumi.AssetArchive({ENTRY: pulumi.FileAsset(str(a.path))}),
                memory_size=memory,
                timeout=timeout,
                publish=True,
                # Replicas keep a function undeletable for hours after its association goes: destroy leaves it.
                skip_destroy=True,
                tags=function_tags(app, stack, a.event),
                description=f"edgeport {app.name}/{stack} {a.event} ({a.sha256[:12]})",
                opts=pulumi.ResourceOptions(parent=self, provider=use1,
                                            aliases=[pulumi.Alias(name=f"{name}-{a.event}")] if logical != f"{name}-{a.event}" else None),
            )
        # The role's policy names the functions' log groups, so it follows them; CloudFront gets the functions only
        # once it exists (the distribution depends on it), before any replica can run.
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id,
                                    policy=policy_document([f.name for f in functions.values()],
                                                           [replica_arns(sec.arn, secret_regions(app)) for sec in stored.values()],
                                                           [f"arn:aws:ssm:{REGION}:*:parameter{live_key(app, stack, p)}"
                                                            for p in runtime.live_patterns(app, NAME)]),
                                    opts=regional)
        if t.existing_distribution_id:
            attached = DistributionAssociations(
                f"{name}-associations", distribution_id=t.existing_distribution_id,
                associations=existing_associations(app, {e: f.qualified_arn for e, f in functions.items()}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
            self.distribution_id = pulumi.Output.from_input(t.existing_distribution_id)
            self.domain_name = attached.domain_name
        else:
            dist = _Distribution(aws, name, app, functions, pulumi.ResourceOptions(
                parent=self, provider=use1, protect=app.protects(), depends_on=[policy])).resource
            self.distribution_id = dist.id
            self.domain_name = dist.domain_name
        self.function_arns = pulumi.Output.all(**{e: f.qualified_arn for e, f in functions.items()})
        self.register_outputs({"distribution_id": self.distribution_id, "domain_name": self.domain_name,
                               "function_arns": self.function_arns})

    def _secrets(self, aws, name: str, app: "App", stack: str, artifacts: list["Artifact"],
                 secrets: Mapping[str, pulumi.Input[str]], keep: pulumi.ResourceOptions) -> dict[str, Any]:
        stored = {}
        for s in sorted({s for a in artifacts for s in a.secret_names}):
            sec = aws.secretsmanager.Secret(
                f"{name}-secret-{resource_slug(s)}", name=secret_id(app, stack, s),
                description=f"edgeport {app.name}/{stack}: {s} (read by Lambda@Edge at cold start)",
                # The value's source of truth is Pulumi config: delete at once so destroy + up can reuse the name.
                recovery_window_in_days=0,
                # Replicas near the function replicas: a cold start reads the nearest one, not us-east-1. The provider
                # adds and removes replica Regions in place and removes the replicas before deleting the secret, which
                # Secrets Manager requires (hashicorp/terraform-provider-aws internal/service/secretsmanager/secret.go,
                # resourceSecretUpdate / resourceSecretDelete).
                replicas=[{"region": r} for r in aws_regions.replicas(app.targets.lambda_edge.secret_regions)], opts=keep)
            aws.secretsmanager.SecretVersion(f"{name}-secret-{resource_slug(s)}-value", secret_id=sec.id,
                                             secret_string=pulumi.Output.secret(secrets[s]),
                                             opts=pulumi.ResourceOptions(parent=self, provider=keep.provider))
            stored[s] = sec
        return stored

    def _parameters(self, aws, name: str, app: "App", stack: str, use1) -> None:
        taken: set[str] = set()
        for p in runtime.live_patterns(app, NAME):
            rname, ropts = pattern_resource(f"{name}-live", p, taken, self)
            # Seeds the declared ratios once; later edits of the parameter are live settings, not drift.
            aws.ssm.Parameter(rname, name=live_key(app, stack, p), type="String", value=json.dumps(runtime.live_default(p)),
                              description=f"edgeport {app.name}/{stack}: live ratios of {p.stable_id}",
                              opts=pulumi.ResourceOptions.merge(ropts, pulumi.ResourceOptions(provider=use1, ignore_changes=["value"])))


class _Distribution:
    """The CloudFront distribution edgeport creates: every declared origin, one ordered behaviour per route and the
    default behaviour, each with its triggers and a cache policy that keys on what decides its answers."""

    def __init__(self, aws, name: str, app: "App", functions: dict, opts: pulumi.ResourceOptions):
        self.aws, self.name, self.functions = aws, name, functions
        self.child = pulumi.ResourceOptions(parent=opts.parent, provider=opts.provider)
        self.policies: dict[str, Any] = {}
        self.managed = None
        settings = app.targets.lambda_edge.distribution or DistributionSettings()
        root = default_behaviour(app)
        cert = ({"acm_certificate_arn": settings.certificate_arn, "ssl_support_method": "sni-only",
                 "minimum_protocol_version": "TLSv1.2_2021"} if settings.certificate_arn
                else {"cloudfront_default_certificate": True})
        self.resource = aws.cloudfront.Distribution(
            f"{name}-distribution",
            comment=f"edgeport {app.name}",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=settings.price_class,
            aliases=list(settings.aliases),
            # Every declared origin, so the distribution documents them; origin-request triggers switch to them.
            origins=[_origin(url, origin_id) for origin_id, url in app.origins.items()],
            default_cache_behavior=self._behaviour(root or {"events": [], "cache": {"cookies": [], "headers": []}}),
            ordered_cache_behaviors=[{"path_pattern": b["path_pattern"], **self._behaviour(b)} for b in behaviours(app)],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=cert,
            wait_for_deployment=settings.wait_for_deployment,
            opts=opts,
        )

    def _behaviour(self, b: dict[str, Any]) -> dict[str, Any]:
        return {
            "target_origin_id": "default",
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ALL_METHODS,
            "cached_methods": ["GET", "HEAD"],
            "compress": True,
            "cache_policy_id": self._cache_policy(b["cache"]),
            "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST,
            "lambda_function_associations": [
                {"event_type": e, "lambda_arn": self.functions[e].qualified_arn, "include_body": False}
                for e in b["events"] if e in self.functions],
        }

    def _cache_policy(self, key: dict[str, list[str]]) -> Any:
        if not key["cookies"] and not key["headers"]:
            if self.managed is None:
                self.managed = self.aws.cloudfront.get_cache_policy_output(
                    name=ORIGIN_CACHE_CONTROL_POLICY, opts=pulumi.InvokeOutputOptions(provider=self.child.provider)).id
            return self.managed
        label = "-".join(["key", *(c.lower() for c in key["cookies"]), *(h.lower() for h in key["headers"])])
        if label not in self.policies:
            self.policies[label] = self.aws.cloudfront.CachePolicy(
                f"{self.name}-cache-{resource_slug(label)}", comment=f"edgeport: cache key {label}", **CACHE_TTL,
                parameters_in_cache_key_and_forwarded_to_origin={
                    "cookies_config": ({"cookie_behavior": "whitelist", "cookies": {"items": key["cookies"]}}
                                       if key["cookies"] else {"cookie_behavior": "none"}),
                    "headers_config": ({"header_behavior": "whitelist", "headers": {"items": key["headers"]}}
                                       if key["headers"] else {"header_behavior": "none"}),
                    "query_strings_config": {"query_string_behavior": "all"},
                    "enable_accept_encoding_gzip": True, "enable_accept_encoding_brotli": True,
                }, opts=self.child)
        return self.policies[label].id


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


def materialize(name: str, app: "App", stack: str, artifacts: list["Artifact"], secrets: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> dict[str, Any]:
    f = LambdaEdgeFunctions(name, app, stack, artifacts, secrets, opts)
    return {"distribution_id": f.distribution_id, "domain_name": f.domain_name, "function_arns": f.function_arns}


# ---------------------------------------------------------------- existing distributions


class AssociationConflict(Exception):
    pass


def _fn_base(arn: str) -> str:
    """arn:aws:lambda:us-east-1:123:function:name:7 -> arn:aws:lambda:us-east-1:123:function:name"""
    parts = arn.split(":")
    return ":".join(parts[:7])


def apply_associations(config: dict, associations: list[dict], remove_functions: set[str]) -> dict:
    """Edit a CloudFront DistributionConfig (boto3 shape) in place and return it.

    First drops every association whose function is in `remove_functions` (unversioned ARNs),
    then sets each wanted association on the behaviour whose PathPattern equals its route
    (route '/*' means the default behaviour). Refuses to replace another function's association.
    """
    behaviours = {b["PathPattern"]: b for b in config.get("CacheBehaviors", {}).get("Items", []) or []}
    everything = [config["DefaultCacheBehavior"], *behaviours.values()]
    for b in everything:
        items = (b.get("LambdaFunctionAssociations") or {}).get("Items", []) or []
        keep = [i for i in items if _fn_base(i["LambdaFunctionARN"]) not in remove_functions]
        b["LambdaFunctionAssociations"] = {"Quantity": len(keep), **({"Items": keep} if keep else {})}
    for a in associations:
        if a["path_pattern"] == EVERY_BEHAVIOUR:
            for pattern, b in [("*", config["DefaultCacheBehavior"]), *behaviours.items()]:
                _associate(b, pattern, a)
            continue
        target = config["DefaultCacheBehavior"] if a["path_pattern"] == "/*" else behaviours.get(a["path_pattern"])
        if target is None:
            have = ", ".join(sorted(behaviours)) or "none"
            raise AssociationConflict(
                f"the distribution has no cache behaviour with path pattern {a['path_pattern']} (it has: {have}); "
                f"add one, or remove existingDistributionId so edgeport creates the distribution")
        _associate(target, a["path_pattern"], a)
    return config


def _associate(target: dict, pattern: str, a: dict) -> None:
    """Put one association on one behaviour, refusing to replace another function's."""
    items = target["LambdaFunctionAssociations"].get("Items", [])
    other = [i for i in items if i["EventType"] == a["event_type"]]
    if other and _fn_base(other[0]["LambdaFunctionARN"]) != _fn_base(a["lambda_arn"]):
        raise AssociationConflict(
            f"behaviour {pattern} already runs {other[0]['LambdaFunctionARN']} on {a['event_type']} "
            f"(CloudFront allows one function per trigger); remove it first")
    items = [i for i in items if i["EventType"] != a["event_type"]]
    items.append({"LambdaFunctionARN": a["lambda_arn"], "EventType": a["event_type"], "IncludeBody": False})
    target["LambdaFunctionAssociations"] = {"Quantity": len(items), "Items": items}


class _AssociationsProvider(pulumi.dynamic.ResourceProvider):
    """Adds edgeport's Lambda@Edge associations to a distribution edgeport does not own (boto3, default credentials)."""

    def _edit(self, distribution_id: str, associations: list[dict], remove: set[str]) -> dict:
        import boto3

        cf = boto3.client("cloudfront", region_name=REGION)
        got = cf.get_distribution_config(Id=distribution_id)
        config = apply_associations(got["DistributionConfig"], associations, remove)
        out = cf.update_distribution(Id=distribution_id, IfMatch=got["ETag"], DistributionConfig=config)
        return {"distribution_id": distribution_id, "associations": associations,
                "domain_name": out["Distribution"]["DomainName"], "etag": out["ETag"]}

    def create(self, props):
        outs = self._edit(props["distribution_id"], props["associations"], set())
        return pulumi.dynamic.CreateResult(id_=f"{props['distribution_id']}-edgeport", outs=outs)

    def diff(self, _id, olds, news):
        changed = olds.get("associations") != news.get("associations") or olds.get("distribution_id") != news.get("distribution_id")
        return pulumi.dynamic.DiffResult(changes=changed, replaces=["distribution_id"] if olds.get("distribution_id") != news.get("distribution_id") else [],
                                          delete_before_replace=True)

    def update(self, _id, olds, news):
        remove = {_fn_base(a["lambda_arn"]) for a in olds.get("associations", [])}
        return pulumi.dynamic.UpdateResult(outs=self._edit(news["distribution_id"], news["associations"], remove))

    def delete(self, _id, props):
        remove = {_fn_base(a["lambda_arn"]) for a in props.get("associations", [])}
        self._edit(props["distribution_id"], [], remove)


class DistributionAssociations(pulumi.dynamic.Resource):
    domain_name: pulumi.Output[str]

    def __init__(self, name: str, distribution_id: str, associations: list[dict], opts: pulumi.ResourceOptions | None = None):
        super().__init__(_AssociationsProvider(), name,
                         {"distribution_id": distribution_id, "associations": associations, "domain_name": None, "etag": None},
                         opts)
