"""Pulumi components: one per pattern, plus EdgeApp for a whole stack.

- ``EdgeApp`` materializes a full declaration (every pattern, every target).
- ``JwtAuth``, ``AbTest``, ``GeoRoute``, ``EsiCompose`` and ``RealtimeRoom`` each
  materialize one pattern on the given targets; they are what other Pulumi languages
  use through the component provider (``PulumiPlugin.yaml``).

Every component validates its declaration with the same rules as `edgeport validate`,
builds the bundles, and creates one child component per target (the target modules in
``edgeport.targets``): EdgeApp/pattern -> ``edgeport:<platform>:<Kind>`` -> provider
resources. Child names start with the component's name, so an alias on a renamed
component carries over to every child.

This module deliberately has no ``from __future__ import annotations``: the component
provider reads these annotations at run time to infer the schema.
"""

import json
from pathlib import Path
from typing import Any, Mapping, Optional, TypedDict

try:  # Python 3.11+
    from typing import Required
except ImportError:  # pragma: no cover
    from typing_extensions import Required

import pulumi

from .build import BuildResult, build_app, default_out_dir
from .errors import EdgeportError
from .spec.loader import parse_app
from .spec.models import App
from .spec.validate import check_secret_value, validate_app
from .targets import profile


# ---------------------------------------------------------------- shared machinery


def _checked(name: str, value: pulumi.Input[str], app: App) -> pulumi.Output[str]:
    def check(v: str) -> str:
        problems = check_secret_value(name, v, app)
        if problems:
            raise EdgeportError("; ".join(problems))
        return v

    return pulumi.Output.secret(pulumi.Output.from_input(value).apply(check))


class _EdgeComponent(pulumi.ComponentResource):
    """Outputs every edgeport component exposes (None where the target is not used)."""

    cloudflare_script: pulumi.Output[Optional[str]]
    """Name of the Worker script."""
    cloudflare_routes: pulumi.Output[Optional[list[str]]]
    """Workers route patterns."""
    distribution_id: pulumi.Output[Optional[str]]
    """CloudFront distribution the Lambda@Edge functions are associated with."""
    cloudfront_domain: pulumi.Output[Optional[str]]
    """Domain name of that distribution."""
    lambda_function_arns: pulumi.Output[Optional[dict[str, str]]]
    """Qualified (numbered-version) ARN per CloudFront trigger."""
    vercel_url: pulumi.Output[Optional[str]]
    """URL of the Vercel deployment."""
    vercel_project_id: pulumi.Output[Optional[str]]
    """Vercel project id."""

    def _materialize(self, name: str, app: App, stack: str, secrets: Mapping[str, pulumi.Input[str]],
                     build: Optional[BuildResult], project_dir: Path) -> None:
        validate_app(app).raise_if_any()  # an App built in Python gets the same checks as YAML
        missing = [s for s in app.secret_names() if s not in secrets]
        if missing:
            raise EdgeportError(f"no value for secret{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                                + "; ".join(f"pulumi config set --secret {m} <value>" for m in missing))
        build = build or build_app(app, stack, default_out_dir(project_dir, stack))
        checked = {s: _checked(s, secrets[s], app) for s in app.secret_names()}
        outs: dict[str, Any] = {}
        for target in app.targets.names():
            artifacts = build.for_target(target)
            if artifacts:
                outs[target] = profile(target).materialize(f"{name}-{target}", app, stack, artifacts, checked,
                                                           pulumi.ResourceOptions(parent=self))
        self.outputs = outs
        cf, le, vc = outs.get("cloudflare", {}), outs.get("lambda-edge", {}), outs.get("vercel", {})
        none = pulumi.Output.from_input(None)
        self.cloudflare_script = cf.get("script_name", none)
        self.cloudflare_routes = pulumi.Output.all(*cf["routes"]) if cf.get("routes") else none
        self.distribution_id = le.get("distribution_id", none)
        self.cloudfront_domain = le.get("domain_name", none)
        self.lambda_function_arns = le.get("function_arns", none)
        self.vercel_url = vc.get("url", none)
        self.vercel_project_id = vc.get("project_id", none)
        self.register_outputs({k: getattr(self, k) for k in (
            "cloudflare_script", "cloudflare_routes", "distribution_id", "cloudfront_domain", "lambda_function_arns",
            "vercel_url", "vercel_project_id")})


# ---------------------------------------------------------------- EdgeApp


class EdgeAppArgs(TypedDict, total=False):
    """Inputs of EdgeApp."""

    app: Required[Any]
    """The declaration, shaped like `edgeport:app` in a stack file (a map; Python may pass an edgeport.spec.App)."""
    stack: str
    """Stack name used in physical names (default: the current Pulumi stack)."""
    secrets: dict[str, pulumi.Input[str]]
    """Secret name -> value, for the secrets the patterns reference (pass Pulumi secrets)."""


class EdgeApp(_EdgeComponent):
    """A whole edgeport stack: every pattern materialized on every target it declares."""

    def __init__(self, name: str, args: EdgeAppArgs, opts: Optional[pulumi.ResourceOptions] = None,
                 *, build: Optional[BuildResult] = None, project_dir: Optional[Path] = None):
        super().__init__("edgeport:index:EdgeApp", name, None, opts)
        raw = args["app"]
        app = raw if isinstance(raw, App) else parse_app(json.loads(raw) if isinstance(raw, str) else raw)
        self._materialize(name, app, args.get("stack") or pulumi.get_stack(), args.get("secrets") or {}, build,
                          project_dir or Path.cwd())


# ---------------------------------------------------------------- per-pattern components


class CloudflareTargetArgs(TypedDict, total=False):
    """A Worker on a Cloudflare zone."""

    account_id: Required[str]
    zone_id: Required[str]
    hostname: Required[str]
    """Host the routes attach to, e.g. shop.example.com."""
    script_name: str
    compatibility_date: str
    plan: str
    """free or paid (sets the size budget)."""
    dns: bool
    """Create the proxied DNS record (AAAA 100::) the Workers routes need; leave unset when the hostname has one."""


class DistributionArgs(TypedDict, total=False):
    """A CloudFront distribution edgeport creates."""

    price_class: str
    aliases: list[str]
    certificate_arn: str
    wait_for_deployment: bool


class LambdaEdgeTargetArgs(TypedDict, total=False):
    """Lambda@Edge functions in us-east-1 on a CloudFront distribution."""

    existing_distribution_id: str
    distribution: DistributionArgs
    secret_ttl: int
    secret_regions: list[str]
    """Regions holding a replica of each secret; us-east-1 always holds it (default: CloudFront's regional edge cache Regions; [] = us-east-1 only)."""


class VercelTargetArgs(TypedDict, total=False):
    """A Vercel project running the patterns as Routing Middleware."""

    team_id: str
    project_id: str
    project_name: str
    plan: str


class TargetsArgs(TypedDict, total=False):
    """Where the pattern runs: one or more of the three platforms."""

    cloudflare: CloudflareTargetArgs
    lambda_edge: LambdaEdgeTargetArgs
    vercel: VercelTargetArgs


class PatternArgs(TypedDict, total=False):
    routes: Required[list[str]]
    """Paths the pattern covers: exact paths or prefixes ending in '*'."""
    exclude: list[str]
    """Paths inside `routes` the pattern leaves alone, matched in their exact spelling (e.g. ['/public/*'])."""
    targets: Required[TargetsArgs]
    origins: Required[dict[str, str]]
    """Origin name -> URL; must include 'default'."""
    app: str
    """App name used in physical names (default: the component name)."""
    stack: str
    """Stack name used in physical names (default: the current Pulumi stack)."""
    previous_names: list[str]
    """Earlier names of this component, oldest first: cookies and store keys keep the first name."""


class TokenArgs(TypedDict, total=False):
    header: str
    scheme: str
    cookie: str


class ForwardArgs(TypedDict, total=False):
    claims_header: str
    claims: dict[str, str]
    token: bool


class JwkArgs(TypedDict, total=False):
    kty: Required[str]
    kid: str
    alg: str
    use: str
    key_ops: list[str]
    crv: str
    x: str
    y: str
    n: str
    e: str


class JwtAuthArgs(PatternArgs, total=False):
    algorithms: Required[list[str]]
    hmac_secret: pulumi.Input[str]
    """HMAC key for HS* algorithms (pass a Pulumi secret)."""
    secret_encoding: str
    jwks: list[JwkArgs]
    issuer: str
    audience: list[str]
    leeway: int
    require_exp: bool
    max_age: int
    required_claims: list[str]
    typ: str
    token: TokenArgs
    forward: ForwardArgs
    strip_headers: list[str]
    realm: str
    max_token_bytes: int


class VariantArgs(TypedDict, total=False):
    name: Required[str]
    weight: Required[float]
    path: str
    origin: str


class AbTestArgs(PatternArgs, total=False):
    variants: Required[list[VariantArgs]]
    cookie: str
    cookie_max_age: int
    live: bool
    live_ttl: int
    live_timeout_ms: int


class GeoRuleArgs(TypedDict, total=False):
    countries: Required[list[str]]
    origin: Required[str]


class GeoRouteArgs(PatternArgs, total=False):
    rules: Required[list[GeoRuleArgs]]
    default: str
    fallback: str


class FragmentArgs(TypedDict, total=False):
    slot: Required[str]
    path: Required[str]
    origin: str
    timeout_ms: int
    fallback: str


class EsiComposeArgs(PatternArgs, total=False):
    shell: Required[str]
    fragments: Required[list[FragmentArgs]]
    shell_cache_ttl: int


class RealtimeRoomArgs(PatternArgs, total=False):
    max_message_bytes: int
    max_connections: int
    messages_per_second: float
    burst: int
    allowed_origins: list[str]


_COMMON = ("routes", "targets", "origins", "app", "stack")


def _single_pattern_app(name: str, pattern_type: str, args: Mapping[str, Any]) -> tuple[dict, dict[str, Any]]:
    """The YAML-shaped declaration equivalent to one pattern component, and its secrets."""
    pattern = {k: v for k, v in args.items() if k not in _COMMON and k != "hmac_secret" and v is not None}
    pattern.update(name=name, type=pattern_type, routes=list(args["routes"]))
    secrets: dict[str, Any] = {}
    if args.get("hmac_secret") is not None:
        secret_name = name.replace("-", "_") + "_hmac"
        pattern["secret"] = secret_name
        secrets[secret_name] = args["hmac_secret"]
    raw = {"name": args.get("app") or name, "origins": dict(args["origins"]), "targets": dict(args["targets"]),
           "patterns": [pattern]}
    return raw, secrets


class _PatternComponent(_EdgeComponent):
    _pattern_type = ""  # (Resource itself uses _type for the type token)

    def __init__(self, token: str, name: str, args: Mapping[str, Any], opts: Optional[pulumi.ResourceOptions]):
        super().__init__(token, name, None, opts)
        raw, secrets = _single_pattern_app(name, self._pattern_type, args)
        self._materialize(name, parse_app(raw), args.get("stack") or pulumi.get_stack(), secrets, None, Path.cwd())


class JwtAuth(_PatternComponent):
    """Verify bearer JWTs at the edge (fails closed) and forward the verified claims to the origin."""

    _pattern_type = "jwt-auth"

    def __init__(self, name: str, args: JwtAuthArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("edgeport:index:JwtAuth", name, args, opts)


class AbTest(_PatternComponent):
    """Sticky, weighted A/B assignment with live-adjustable ratios."""

    _pattern_type = "ab-test"

    def __init__(self, name: str, args: AbTestArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("edgeport:index:AbTest", name, args, opts)


class GeoRoute(_PatternComponent):
    """Route each viewer country to a declared origin; unknown countries go to the strictest region."""

    _pattern_type = "geo-route"

    def __init__(self, name: str, args: GeoRouteArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("edgeport:index:GeoRoute", name, args, opts)


class EsiCompose(_PatternComponent):
    """Compose a cached HTML shell with personalised fragments, streamed where the platform allows."""

    _pattern_type = "esi-compose"

    def __init__(self, name: str, args: EsiComposeArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("edgeport:index:EsiCompose", name, args, opts)


class RealtimeRoom(_PatternComponent):
    """WebSocket rooms on Durable Objects (Cloudflare only): broadcast, presence and limits."""

    _pattern_type = "realtime-room"

    def __init__(self, name: str, args: RealtimeRoomArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("edgeport:index:RealtimeRoom", name, args, opts)


COMPONENTS = [EdgeApp, JwtAuth, AbTest, GeoRoute, EsiCompose, RealtimeRoom]
