"""Typed declarations of an edgeport stack: the patterns and the targets.

Shape and types are checked here (pydantic); rules that span fields or need
outside data (capabilities, countries, keys, secrets) are checked in
``validate.py`` so that every problem is reported at once with its key path.
Keys are camelCase in YAML (Pulumi's convention); Python code may use either.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from . import aws_regions

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
HEADER_RE = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
# Route characters: unreserved URL characters and "/", plus one trailing "*".
ROUTE_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@%/-]*\*?$")


def _slug(v: str) -> str:
    if not SLUG_RE.match(v):
        raise ValueError(
            f"{v!r} is not a valid name: use 2-32 characters of lower-case letters, digits and '-', starting with a letter"
        )
    return v


def _route(v: str) -> str:
    if not v.startswith("/"):
        raise ValueError(f"route {v!r} must start with '/' (e.g. '/{v.lstrip('*')}')")
    if "*" in v[:-1]:
        raise ValueError(
            f"route {v!r}: '*' may only end a route, e.g. '{v.split('*')[0]}*' (every target matches prefixes, not inner wildcards)"
        )
    if "?" in v or "#" in v:
        raise ValueError(f"route {v!r}: routes match paths only; remove the query or fragment")
    if not ROUTE_RE.match(v):
        raise ValueError(f"route {v!r} has characters that are not allowed in a URL path; percent-encode them")
    segs = v.rstrip("*").split("/")
    if any(s in (".", "..") for s in segs) or "//" in v:
        raise ValueError(f"route {v!r}: write the normalised path (no '.', '..' or '//' segments)")
    canonical = _canonical_route(v)
    if canonical != v:
        raise ValueError(f"route {v!r} is not in the canonical form requests are matched in: write {canonical!r} "
                         "(see docs/jwt.md, Paths)")
    if len(v) > 255:
        raise ValueError(f"route {v!r} is longer than CloudFront's 255-character path pattern limit")
    return v


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _canonical_route(v: str) -> str:
    """A route spelled the way the edge engine canonicalises request paths (functions/src/core/path.ts):
    unreserved characters unescaped, other escapes with upper-case hex. Raises for what the engine refuses."""
    out, i = "", 0
    while i < len(v):
        if v[i] == ";":
            raise ValueError(f"route {v!r}: ';' (path parameters) is refused in requests, so no route can contain it")
        if v[i] != "%":
            out, i = out + v[i], i + 1
            continue
        byte = int(v[i + 1:i + 3], 16) if re.fullmatch(r"[0-9A-Fa-f]{2}", v[i + 1:i + 3]) else -1
        if byte < 0:
            raise ValueError(f"route {v!r}: '%' must start a percent-escape such as %20")
        if byte in (0x2F, 0x5C) or byte < 0x20 or byte == 0x7F:
            raise ValueError(f"route {v!r}: requests with an encoded '/', '\\' or control character are refused, "
                             "so no route can contain one")
        out += chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}"
        i += 3
    return out


def _header(v: str) -> str:
    if not HEADER_RE.match(v):
        raise ValueError(f"{v!r} is not a valid header name: use lower-case letters, digits and '-' (e.g. 'x-user-id')")
    return v


def _origin_url(v: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(v)
    if u.scheme not in ("https", "http") or not u.hostname:
        raise ValueError(f"origin {v!r} must be an absolute http(s) URL such as 'https://origin.example.com'")
    if u.query or u.fragment or u.username or u.password:
        raise ValueError(f"origin {v!r} may carry a host, port and path only (no query, fragment or credentials)")
    return v.rstrip("/")


Slug = Annotated[str, AfterValidator(_slug)]
Route = Annotated[str, AfterValidator(_route)]
HeaderName = Annotated[str, AfterValidator(_header)]
OriginUrl = Annotated[str, AfterValidator(_origin_url)]
TargetName = Literal["cloudflare", "lambda-edge", "vercel"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


# ---------------------------------------------------------------- targets


class CloudflareTarget(Model):
    """A Worker on a Cloudflare zone."""

    account_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="Cloudflare account id (32 hex characters)")
    zone_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="zone id of the hostname (32 hex characters)")
    hostname: str = Field(
        pattern=r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="host the routes attach to, e.g. shop.example.com",
    )
    script_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,52}[a-z0-9]$")
    compatibility_date: str = Field(default="2026-04-01", pattern=r"^\d{4}-\d{2}-\d{2}$")
    plan: Literal["free", "paid"] = "free"
    custom_domain: bool = Field(default=False, description="also serve the Worker on the hostname as a Workers custom "
                                "domain (Cloudflare creates the DNS record and certificate; the Worker is the origin)")
    dns: bool = Field(default=False, description="create the proxied DNS record the Workers routes need for the hostname "
                      "(AAAA 100::, an originless record); leave false when the hostname already has one")


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


class VercelTarget(Model):
    """A Vercel project whose Routing Middleware runs the patterns."""

    team_id: str | None = Field(default=None, pattern=r"^team_[A-Za-z0-9]+$")
    project_id: str | None = Field(default=None, pattern=r"^prj_[A-Za-z0-9]+$")
    project_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
    plan: Literal["hobby", "pro", "enterprise"] = "hobby"
    domain: str | None = Field(default=None, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                               description="production domain to add to the project (a ProjectDomain); the exported url "
                                           "uses it")


class Targets(Model):
    cloudflare: CloudflareTarget | None = None
    lambda_edge: LambdaEdgeTarget | None = Field(default=None, alias="lambda-edge")
    vercel: VercelTarget | None = None

    def names(self) -> list[str]:
        return [n for n, v in (("cloudflare", self.cloudflare), ("lambda-edge", self.lambda_edge), ("vercel", self.vercel)) if v]


# ---------------------------------------------------------------- patterns


class PatternBase(Model):
    name: Slug
    routes: list[Route] = Field(min_length=1)
    exclude: list[Route] = Field(default_factory=list, description="paths inside `routes` this pattern leaves alone, "
                                 "matched in their exact spelling only (e.g. jwt-auth on /* with exclude: [/public/*])")
    targets: list[TargetName] | None = Field(default=None, description="default: every target the stack declares")
    previous_names: list[Slug] = Field(default_factory=list, description="earlier names, oldest first: a rename keeps "
                                       "cookies, store keys and Pulumi resources instead of replacing them")

    @property
    def stable_id(self) -> str:
        """The name physical identifiers (cookies, store keys) derive from: the first name the pattern had."""
        return self.previous_names[0] if self.previous_names else self.name


class Jwk(BaseModel):
    """A public JSON Web Key (RFC 7517). Unknown JWK parameters (x5t, ...) are kept and ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kty: str
    kid: str | None = None
    alg: str | None = None
    use: str | None = None
    key_ops: list[str] | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


class Jwks(Model):
    keys: list[Jwk] = Field(min_length=1)


class TokenSource(Model):
    header: HeaderName = "authorization"
    scheme: str = Field(default="Bearer", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    cookie: str | None = Field(default=None, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


class Forward(Model):
    claims_header: HeaderName | None = "x-edgeport-claims"
    claims: dict[HeaderName, str] = Field(default_factory=dict, description="header -> claim name")
    token: bool = True


Alg = Literal["HS256", "HS384", "HS512", "RS256", "ES256"]


class JwtAuth(PatternBase):
    type: Literal["jwt-auth"]
    algorithms: list[Alg] = Field(min_length=1)
    secret: str | None = Field(default=None, description="name of the HMAC secret (HS* algorithms)")
    secret_encoding: Literal["utf8", "base64url"] = "utf8"
    jwks: Jwks | None = None
    issuer: str | None = None
    audience: str | list[str] | None = None
    leeway: int = Field(default=30, ge=0, le=300)
    require_exp: bool = True
    max_age: int | None = Field(default=None, ge=1)
    required_claims: list[str] = []
    typ: str | None = None
    token: TokenSource = TokenSource()
    forward: Forward = Forward()
    strip_headers: list[HeaderName] = []
    realm: str | None = Field(default=None, pattern=r'^[^"\\]{1,64}$')
    # 7 KiB, not 8: with the default forwarding the request to the origin carries the token twice (Authorization
    # and the claims header), and CloudFront's 20,480 B of request line + headers then leaves room for 4 KiB of
    # ordinary headers and a few claim headers only below ~8,000 B (targets/base.py: jwt_header_issues).
    max_token_bytes: int = Field(default=7168, ge=512, le=16384)


class Variant(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    weight: float = Field(ge=0, le=100)
    path: str | None = Field(default=None, description="path template for this variant; {path} is the request path")
    origin: str | None = Field(default=None, description="name of the origin serving this variant")


class AbTest(PatternBase):
    type: Literal["ab-test"]
    variants: list[Variant] = Field(min_length=2)
    cookie: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    cookie_max_age: int = Field(default=30 * 86400, ge=60)
    live: bool = True
    live_ttl: int = Field(default=60, ge=1, le=3600)
    live_timeout_ms: int = Field(default=200, ge=10, le=2000)


class GeoRule(Model):
    countries: list[str] = Field(min_length=1)
    origin: str


class GeoRoute(PatternBase):
    type: Literal["geo-route"]
    rules: list[GeoRule] = Field(min_length=1)
    default: str = "default"
    fallback: str | None = Field(default=None, description="origin for unknown/missing/XX/T1 countries")


class Fragment(Model):
    slot: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    path: str
    origin: str = "default"
    timeout_ms: int = Field(default=500, ge=10, le=10000)
    fallback: str = ""


class EsiCompose(PatternBase):
    type: Literal["esi-compose"]
    shell: str
    fragments: list[Fragment] = Field(min_length=1)
    shell_cache_ttl: int = Field(default=300, ge=0)


class RealtimeRoom(PatternBase):
    type: Literal["realtime-room"]
    max_message_bytes: int = Field(default=4096, ge=1, le=1048576)
    max_connections: int = Field(default=100, ge=1, le=32768)
    messages_per_second: float = Field(default=10, gt=0, le=1000)
    burst: int | None = Field(default=None, ge=1, le=10000, description="messages a connection may send at once (default 2 s worth)")
    allowed_origins: list[OriginUrl] = []


Pattern = Annotated[Union[JwtAuth, AbTest, GeoRoute, EsiCompose, RealtimeRoom], Field(discriminator="type")]


class App(Model):
    """One stack's declaration: key ``edgeport:app`` in ``stacks/Pulumi.<stack>.yaml``."""

    name: Slug
    origins: dict[Slug, OriginUrl] = Field(min_length=1)
    targets: Targets
    patterns: list[Pattern] = Field(min_length=1)
    protect: bool | None = Field(default=None, description="protect what holds state or is slow to re-create (the Worker, "
                                 "its KV namespace, the CloudFront distribution, Secrets Manager secrets, Edge Config) "
                                 "from deletion and replacement; default: on when the stack declares a realtime-room "
                                 "(replacing the Worker deletes every room's Durable Object storage)")

    def protects(self) -> bool:
        """Whether stateful resources get Pulumi's `protect` (explicit setting, else on when rooms hold state)."""
        if self.protect is not None:
            return self.protect
        return any(p.type == "realtime-room" for p in self.patterns)

    def pattern_targets(self, p: PatternBase) -> list[str]:
        return list(p.targets) if p.targets is not None else self.targets.names()

    def secret_names(self) -> list[str]:
        names: list[str] = []
        for p in self.patterns:
            if isinstance(p, JwtAuth) and p.secret and p.secret not in names:
                names.append(p.secret)
        return names

    def secrets_for(self, target: str) -> list[str]:
        names: list[str] = []
        for p in self.patterns:
            if target in self.pattern_targets(p) and isinstance(p, JwtAuth) and p.secret and p.secret not in names:
                names.append(p.secret)
        return names
