"""Typed declarations of an edgeport stack: the patterns and the targets.

The App and the target settings; each pattern's model lives in its module (edgeport.patterns). Shape and types
are checked here (pydantic); rules that span fields or need
outside data (capabilities, countries, keys, secrets) are checked in
``validate.py`` so that every problem is reported at once with its key path.
Keys are camelCase in YAML (Pulumi's convention); Python code may use either.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..patterns import Pattern, PatternBase, kind_of
from . import aws_regions
from .types import Model, OriginUrl, Slug

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
        return any(kind_of(p).stateful for p in self.patterns)

    def pattern_targets(self, p: PatternBase) -> list[str]:
        return list(p.targets) if p.targets is not None else self.targets.names()

    def secret_names(self) -> list[str]:
        """Every secret a pattern references, in declaration order."""
        return list(dict.fromkeys(s for p in self.patterns for s in kind_of(p).secrets(p)))

    def secrets_for(self, target: str) -> list[str]:
        """The secrets of the patterns on `target`."""
        return list(dict.fromkeys(s for p in self.patterns if target in self.pattern_targets(p) for s in kind_of(p).secrets(p)))
