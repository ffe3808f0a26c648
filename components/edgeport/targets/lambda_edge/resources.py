"""The Lambda@Edge resources of a stack: one published function per trigger in us-east-1 with its role, the
Secrets Manager secrets (with replicas) and SSM parameters it reads, and the CloudFront distribution it is
associated with - created from the spec, or an existing one edited through DistributionAssociations."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

import pulumi

from ...spec import aws_regions, runtime
from ..base import pattern_resource, resource_slug
from . import (ALL_METHODS, ALL_VIEWER_EXCEPT_HOST, CACHE_TTL, ENTRY, HANDLER, NAME, ORIGIN_CACHE_CONTROL_POLICY,
               REGION, RUNTIME, TRUST_POLICY, _origin, behaviours, default_behaviour, existing_associations,
               DistributionSettings, function_logical_name, function_settings, function_tags, live_key, secret_id,
               secret_regions)
from .associations import DistributionAssociations

if TYPE_CHECKING:
    from ...build.artifacts import Artifact
    from ...spec.models import App




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


def materialize(name: str, app: "App", stack: str, artifacts: list["Artifact"], secrets: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> dict[str, Any]:
    f = LambdaEdgeFunctions(name, app, stack, artifacts, secrets, opts)
    return {"distribution_id": f.distribution_id, "domain_name": f.domain_name, "function_arns": f.function_arns}


