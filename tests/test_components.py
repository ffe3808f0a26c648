"""Pulumi components under Pulumi's unit-test mocks: concrete resource inputs per target."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import rpc

from conftest import MOCKS, ROOT
from edgeport.build import build_app
from edgeport.components import EdgeApp
from edgeport.errors import EdgeportError
from edgeport.spec import aws_regions, load_stack, parse_app
from edgeport.spec.validate import check_secret_value

SECRET = "test-secret-value-" + "k" * 40
DEV_RAW = load_stack("dev", ROOT).config["edgeport:app"]
DEV = parse_app(DEV_RAW)
PROD = load_stack("prod", ROOT).app


def jwt_only(raw=DEV_RAW):
    """The dev stack reduced to its jwt-auth pattern: the focused per-target tests below."""
    out = copy.deepcopy(raw)
    out["patterns"] = [p for p in out["patterns"] if p["type"] == "jwt-auth"]
    out["origins"] = {"default": out["origins"]["default"]}
    return out


JWT = parse_app(jwt_only())


@pytest.fixture(scope="module")
def dev_build(tmp_path_factory):
    return build_app(JWT, "test", tmp_path_factory.mktemp("jwt-build"))


def materialize(name, app, build, secrets=None, stack="test"):
    """Create an EdgeApp; returns an Output resolving to {resource name: MockResourceArgs} once all are registered."""
    collected = []

    def collect(args):
        collected.append(args.resource)

    EdgeApp(name, {"app": app, "stack": stack,
                   "secrets": {"jwt_hmac": pulumi.Output.secret(SECRET)} if secrets is None else secrets},
            opts=pulumi.ResourceOptions(transformations=[collect]), build=build)

    def registered(_):
        names = {r._name for r in collected}
        return {a.name: a for a in MOCKS.resources if a.name in names}

    return pulumi.Output.all(*[r.urn for r in collected]).apply(registered)


def by_type(resources, typ):
    return [r for r in resources.values() if r.typ == typ]


def plain(v):
    return rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v


# ---------------------------------------------------------------- cloudflare


@pulumi.runtime.test
def test_cloudflare_worker(dev_build):
    art = dev_build.for_target("cloudflare")[0]

    def check(res):
        (script,) = by_type(res, "cloudflare:index/workersScript:WorkersScript")
        i = script.inputs
        assert (i["accountId"], i["scriptName"], i["mainModule"], i["compatibilityDate"]) == (
            "0" * 32, "shop-test", "worker.mjs", "2026-04-01")
        assert i["content"] == art.code
        assert rpc.is_rpc_secret(i["bindings"]), "a secret_text binding makes the bindings input secret"
        bindings = {b["name"]: b for b in plain(i["bindings"])}
        assert set(bindings) == {"EDGEPORT_SECRET_JWT_HMAC"}  # the config is in the script, not a binding
        assert i["content"].startswith('const __EDGEPORT_CONFIG__=({version:1,app:"shop",stack:"test"')
        assert bindings["EDGEPORT_SECRET_JWT_HMAC"] == {"name": "EDGEPORT_SECRET_JWT_HMAC", "type": "secret_text", "text": SECRET}
        routes = by_type(res, "cloudflare:index/workersRoute:WorkersRoute")
        # A guard (jwt-auth) puts the Worker in front of every request of the host (docs/jwt.md, Paths).
        (route,) = routes
        assert (route.inputs["pattern"], route.inputs["zoneId"], route.inputs["script"]) == ("shop.example.com/*", "0" * 32, "shop-test")
        assert route.name == "cf1-cloudflare-route-all"

    return materialize("cf1", JWT, dev_build).apply(check)


# ---------------------------------------------------------------- aws


@pulumi.runtime.test
def test_lambda_edge(dev_build):
    art = dev_build.for_target("lambda-edge")[0]

    def check(res):
        (provider,) = by_type(res, "pulumi:providers:aws")
        assert provider.inputs["region"] == "us-east-1"
        aws_resources = [r for r in res.values() if r.typ.startswith("aws:")]
        assert aws_resources and all(f"::{provider.name}::" in (r.provider or "") for r in aws_resources), \
            "every AWS resource, CloudFront and IAM included, goes through the us-east-1 provider"

        (fn,) = by_type(res, "aws:lambda/function:Function")
        i = fn.inputs
        # Auto-named ("<logical name>-<random>"): a re-created stack never collides with functions that
        # CloudFront's replicas keep alive after a destroy.
        assert "name" not in i and fn.name == "le1-lambda-edge-viewer-request"
        assert (i["runtime"], i["handler"], i["publish"], i["skipDestroy"]) == ("nodejs22.x", "index.handler", True, True)
        assert i["tags"] == {"edgeport:app": "shop", "edgeport:stack": "test", "edgeport:trigger": "viewer-request"}
        assert (i["memorySize"], i["timeout"], i["architectures"]) == (128, 5, ["x86_64"])
        assert "environment" not in i and "layers" not in i, "Lambda@Edge has no environment variables or layers"
        archive = i["code"]
        assert isinstance(archive, pulumi.AssetArchive) and Path(archive.assets["index.js"].path) == art.path

        (role,) = by_type(res, "aws:iam/role:Role")
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust["Statement"][0]["Principal"]["Service"] == ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
        (policy,) = by_type(res, "aws:iam/rolePolicy:RolePolicy")
        doc = json.loads(policy.inputs["policy"])
        (secret,) = by_type(res, "aws:secretsmanager/secret:Secret")
        assert secret.inputs["name"] == "edgeport/shop/test/jwt_hmac"
        # Replicas in CloudFront's regional edge cache Regions (the default secretRegions); the primary is not one.
        replicas = [x["region"] for x in secret.inputs["replicas"]]
        assert replicas == [r for r in aws_regions.REGIONAL_EDGE_CACHES if r != "us-east-1"]
        statements = {tuple(s["Action"]): s["Resource"] for s in doc["Statement"]}
        # The function may read its own secret, by its exact ARN, in every Region holding it - and nothing else.
        assert statements[("secretsmanager:GetSecretValue",)] == [
            f"arn:aws:secretsmanager:{r}:123456789012:secret:edgeport/shop/test/jwt_hmac-AbCdEf"
            for r in ["us-east-1", *replicas]]
        logs = statements[("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")]
        assert all("/aws/lambda/us-east-1.le1-lambda-edge-viewer-request-0a1b2c3" in r for r in logs)
        assert not any("*" == r for rs in statements.values() for r in rs)
        (version,) = by_type(res, "aws:secretsmanager/secretVersion:SecretVersion")
        assert rpc.is_rpc_secret(version.inputs["secretString"]) and plain(version.inputs["secretString"]) == SECRET

        (dist,) = by_type(res, "aws:cloudfront/distribution:Distribution")
        d = dist.inputs
        assert d["enabled"] is True
        assert d["origins"][0]["domainName"] == "origin.example.com"
        # The guard runs on the default behaviour too: "/API/x" or "//api/x" match no ordered path pattern.
        assert [a["eventType"] for a in d["defaultCacheBehavior"]["lambdaFunctionAssociations"]] == ["viewer-request"]
        assoc = {b["pathPattern"]: b["lambdaFunctionAssociations"] for b in d["orderedCacheBehaviors"]}
        qualified = "arn:aws:lambda:us-east-1:123456789012:function:le1-lambda-edge-viewer-request-0a1b2c3:1"
        assert assoc == {p: [{"eventType": "viewer-request", "lambdaArn": qualified, "includeBody": False}]
                         for p in ("/account", "/api/*")}
        # Every behaviour keeps the origin's Cache-Control and keys on Authorization: the guard's answers may
        # depend on who asked, and CloudFront forwards Authorization only through the cache policy.
        (cache,) = by_type(res, "aws:cloudfront/cachePolicy:CachePolicy")
        assert (cache.inputs["minTtl"], cache.inputs["defaultTtl"], cache.inputs["maxTtl"]) == (0, 0, 31536000)
        key = cache.inputs["parametersInCacheKeyAndForwardedToOrigin"]
        assert key["headersConfig"] == {"headerBehavior": "whitelist", "headers": {"items": ["Authorization"]}}
        assert {b["cachePolicyId"] for b in [d["defaultCacheBehavior"], *d["orderedCacheBehaviors"]]} == {f"{cache.name}-id"}

    return materialize("le1", JWT, dev_build).apply(check)


@pulumi.runtime.test
def test_lambda_edge_on_an_existing_distribution(tmp_path):
    raw = jwt_only()
    raw["targets"] = {"lambda-edge": {"existingDistributionId": "E2QWRUHEXAMPLE"}}
    app = parse_app(raw)
    build = build_app(app, "test", tmp_path)

    def check(res):
        assert not by_type(res, "aws:cloudfront/distribution:Distribution")
        (attach,) = by_type(res, "pulumi-python:dynamic:Resource")
        assert attach.inputs["distribution_id"] == "E2QWRUHEXAMPLE"
        # The guard goes on every behaviour the distribution has: any of them can route a protected spelling.
        assert sorted((a["path_pattern"], a["event_type"]) for a in attach.inputs["associations"]) == [
            ("*every*", "viewer-request")]
        assert {a["lambda_arn"] for a in attach.inputs["associations"]} == {
            "arn:aws:lambda:us-east-1:123456789012:function:le2-lambda-edge-viewer-request-0a1b2c3:1"}

    return materialize("le2", app, build).apply(check)


@pytest.mark.parametrize("regions, replicas", [(["eu-west-1", "us-east-1", "ap-southeast-2"], ["eu-west-1", "ap-southeast-2"]),
                                               ([], [])])
@pulumi.runtime.test
def test_lambda_edge_secret_regions(tmp_path, regions, replicas):
    """secretRegions picks the replicas (us-east-1 is the primary, never a replica); [] turns replication off."""
    raw = jwt_only()
    raw["targets"] = {"lambda-edge": {"secretRegions": regions}}
    app = parse_app(raw)
    build = build_app(app, "test", tmp_path)
    (art,) = build.for_target("lambda-edge")
    assert art.config["secrets"]["jwt_hmac"]["awsRegions"] == ["us-east-1", *replicas], "the edge code reads these"

    def check(res):
        (secret,) = by_type(res, "aws:secretsmanager/secret:Secret")
        assert [x["region"] for x in secret.inputs.get("replicas") or []] == replicas
        (policy,) = by_type(res, "aws:iam/rolePolicy:RolePolicy")
        (read,) = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Action"] == ["secretsmanager:GetSecretValue"]]
        assert [r.split(":")[3] for r in read["Resource"]] == ["us-east-1", *replicas]

    return materialize(f"le3{len(replicas)}", app, build).apply(check)


# ---------------------------------------------------------------- vercel


@pulumi.runtime.test
def test_vercel(dev_build):
    art = dev_build.for_target("vercel")[0]

    def check(res):
        (project,) = by_type(res, "vercel:index/project:Project")
        assert project.inputs["name"] == "shop-edge-dev"
        (env,) = by_type(res, "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable")
        assert (env.inputs["key"], env.inputs["sensitive"], env.inputs["targets"]) == (
            "EDGEPORT_SECRET_JWT_HMAC", True, ["production", "preview"])
        assert rpc.is_rpc_secret(env.inputs["value"]) and plain(env.inputs["value"]) == SECRET
        assert env.inputs["projectId"] == "vc1-vercel-project-id"
        (dep,) = by_type(res, "vercel:index/deployment:Deployment")
        assert dep.inputs["production"] is True and dep.inputs["projectId"] == "vc1-vercel-project-id"
        files = dep.inputs["files"]
        assert sorted(Path(k).name for k in files) == ["middleware.js", "vercel.json"]
        for k, v in files.items():
            data = Path(k).read_bytes() if Path(k).is_absolute() else (Path.cwd() / k).read_bytes()
            assert v == f"{len(data)}~{hashlib.sha1(data).hexdigest()}"
        assert any(Path(k).resolve() == art.path for k in files)

    return materialize("vc1", JWT, dev_build).apply(check)


@pulumi.runtime.test
def test_vercel_existing_project(tmp_path):
    raw = jwt_only()
    raw["targets"] = {"vercel": {"projectId": "prj_abc123", "teamId": "team_xyz"}}
    app = parse_app(raw)
    build = build_app(app, "test", tmp_path)

    def check(res):
        assert not by_type(res, "vercel:index/project:Project")
        (env,) = by_type(res, "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable")
        assert (env.inputs["projectId"], env.inputs["teamId"]) == ("prj_abc123", "team_xyz")

    return materialize("vc2", app, build).apply(check)


# ---------------------------------------------------------------- secrets


def _leaks(value, path, inside=False):
    if rpc.is_rpc_secret(value):
        return _leaks(rpc.unwrap_rpc_secret(value), path, True)
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaks(v, f"{path}.{k}", inside)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaks(v, f"{path}[{i}]", inside)]
    if isinstance(value, pulumi.AssetArchive):
        return [p for k, a in value.assets.items() for p in _leaks(a, f"{path}.{k}", inside)]
    if isinstance(value, pulumi.FileAsset):
        return [path] if SECRET in Path(value.path).read_text() else []
    if isinstance(value, str) and SECRET in value:
        return [] if inside else [path]
    return []


def _marked(value) -> int:
    if rpc.is_rpc_secret(value):
        return int(SECRET in json.dumps(rpc.unwrap_rpc_secret(value), default=str))
    if isinstance(value, dict):
        return sum(_marked(v) for v in value.values())
    if isinstance(value, list):
        return sum(_marked(v) for v in value)
    return 0


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_secret_never_appears_unmarked(stack, tmp_path):
    app = DEV if stack == "dev" else PROD
    build = build_app(app, "sweep", tmp_path)

    @pulumi.runtime.test
    def sweep():
        def check(res):
            leaks = [p for r in res.values() for k, v in r.inputs.items() for p in _leaks(v, f"{r.typ} {r.name}.{k}")]
            assert leaks == []
            carriers = {r.typ for r in res.values() if any(_marked(v) for v in r.inputs.values())}
            # The value did reach every place that needs it, marked secret.
            assert carriers == {"cloudflare:index/workersScript:WorkersScript",
                                "aws:secretsmanager/secretVersion:SecretVersion",
                                "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"}
            for a in build.artifacts:
                assert SECRET not in a.path.read_text(), f"{a.label} bundle holds the secret"

        return materialize(f"sweep-{stack}", app, build).apply(check)

    sweep()


def test_missing_secret_is_an_error(dev_build):
    with pytest.raises(EdgeportError, match="pulumi config set --secret jwt_hmac"):
        EdgeApp("nosecret", {"app": JWT, "stack": "test", "secrets": {}}, build=dev_build)


def test_weak_hmac_secret_is_refused():
    assert check_secret_value("jwt_hmac", "short", JWT) == [
        "secret jwt_hmac is 5 bytes; HS256 needs at least 32 random bytes (RFC 7518 §3.2) - generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"]
    assert check_secret_value("jwt_hmac", "x" * 32, JWT) == []
