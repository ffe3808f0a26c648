"""The policy pack (policy/): each rule on hand-built inputs, the whole pack on the real prod plan,
and the pack served over gRPC the way the Pulumi CLI runs it."""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pulumi
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from conftest import ROOT

sys.path.insert(0, str(ROOT / "policy"))
import edgeport_policy as ep  # noqa: E402

POLICY = {p.name: p for p in ep.POLICIES}
OPTS = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                             custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])
US_EAST_1 = PolicyProviderResource("pulumi:providers:aws", {"region": "us-east-1"}, "urn:provider:use1", "use1")
SECRET = "s3cr3t-HMAC-key-0123456789abcdef"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop-prod-viewer-request"


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:prod::edgeport::{typ}::{name}"


def rargs(typ: str, props: dict, name: str = "res", provider=None, config=None) -> ResourceValidationArgs:
    return ResourceValidationArgs(typ, props, urn(typ, name), name, OPTS, provider, config)


def check(policy: str, args) -> list[str]:
    """The messages a policy reports for one resource (or, for a stack policy, a StackValidationArgs)."""
    msgs: list[str] = []
    POLICY[policy].validate(args, lambda m, urn=None: msgs.append(m))
    return msgs


def stack(*resources: tuple[str, str, dict]) -> StackValidationArgs:
    return StackValidationArgs([PolicyResource(t, p, urn(t, n), n, OPTS, None, None, [], {}) for t, n, p in resources])


def worker(content: str = "export default {}", bindings=(), name: str = "shop-cloudflare-script") -> ResourceValidationArgs:
    return rargs(ep.WORKERS_SCRIPT[0], {"scriptName": "shop-prod", "mainModule": "worker.mjs", "content": content,
                                        "bindings": list(bindings)}, name)


def edge_function(trigger: str = "viewer-request", code=None, provider=US_EAST_1, **props) -> ResourceValidationArgs:
    base = {"name": f"shop-prod-{trigger}", "publish": True, "architectures": ["x86_64"], "runtime": "nodejs22.x",
            "memorySize": 128 if trigger.startswith("viewer") else 256, "timeout": 5}
    if code is not None:
        base["code"] = code
    return rargs(ep.LAMBDA_FUNCTION, {**base, **props}, f"shop-lambda-edge-{trigger}", provider)


def distribution(*associations: tuple[str, str]) -> ResourceValidationArgs:
    assoc = [{"eventType": e, "lambdaArn": a, "includeBody": False} for e, a in associations]
    return rargs(ep.DISTRIBUTION, {"defaultCacheBehavior": {"targetOriginId": "default"},
                                   "orderedCacheBehaviors": [{"pathPattern": "/api/*", "lambdaFunctionAssociations": assoc}]},
                 "shop-lambda-edge-distribution")


def bundle(tmp_path: Path, text: str | bytes, name: str = "index.js") -> pulumi.AssetArchive:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return pulumi.AssetArchive({"index.js": pulumi.FileAsset(str(p))})


def deployment(tmp_path: Path, files: dict[str, str | bytes], **props) -> ResourceValidationArgs:
    """A Vercel Deployment whose file map points at real files, as edgeport's does."""
    import hashlib

    fmap = {}
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (tmp_path / name).write_bytes(data)
        fmap[str(tmp_path / name)] = f"{len(data)}~{hashlib.sha1(data).hexdigest()}"
    return rargs(ep.VERCEL_DEPLOYMENT, {"projectId": "prj", "production": True, "files": fmap,
                                        "pathPrefix": str(tmp_path), **props}, "shop-vercel-deployment")


def incompressible(n_bytes: int) -> str:
    """Text that gzip cannot shrink much (base64 of random bytes: ~0.76 of its length after gzip)."""
    return base64.b64encode(os.urandom(n_bytes * 3 // 4)).decode()


PROXY_JSON = json.dumps({"rewrites": [{"source": "/:path*", "destination": "https://origin.example.com/:path*"}]})


# ---------------------------------------------------------------- the pack


def test_pack_declares_every_policy_mandatory_but_the_advisory():
    assert list(POLICY) == ["auth-fails-closed", "lambda-edge-us-east-1-published", "no-secret-in-plain-input",
                            "no-secret-value-reused", "bundle-under-budget", "bundle-under-budget-advisory"]
    levels = {p.name: p.enforcement_level for p in ep.POLICIES}
    assert levels.pop("bundle-under-budget-advisory") is EnforcementLevel.ADVISORY
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}
    assert isinstance(POLICY["no-secret-value-reused"], ep.StackValidationPolicy)


def test_budgets_come_from_edgeport_targets():
    from edgeport.targets import cloudflare, lambda_edge, vercel

    assert ep.CLOUDFLARE_BUDGETS is cloudflare.BUDGETS and ep.VERCEL_BUDGETS is vercel.BUDGETS
    assert ep._largest(ep.CLOUDFLARE_BUDGETS)[1].limit == 10 * 1024 * 1024
    assert ep._smallest(ep.VERCEL_BUDGETS)[1].limit == 1024 * 1024
    assert lambda_edge.limits("viewer-request")["package"] is lambda_edge.VIEWER["package"]


def test_jwt_auth_is_a_viewer_request_pattern_in_edgeports_matrix():
    # auth-fails-closed checks associations against the trigger a function was built for; that only
    # keeps auth on viewer-request while edgeport builds jwt-auth into the viewer-request bundle alone.
    from edgeport.spec.capabilities import events

    assert events("jwt-auth", "lambda-edge") == ("viewer-request",)


# ---------------------------------------------------------------- auth-fails-closed


def test_worker_pass_through_on_exception_is_refused():
    assert check("auth-fails-closed", worker()) == []
    [msg] = check("auth-fails-closed", worker("export default{fetch(r,e,c){c.passThroughOnException();return fetch(r)}}"))
    assert "Cloudflare Worker 'shop-prod' (Pulumi resource shop-cloudflare-script)" in msg
    assert "passThroughOnException()" in msg and "fail open" in msg and "Fix: remove the call" in msg


def test_worker_route_needs_a_script():
    route = {"zoneId": "z", "pattern": "shop.example.com/api/public/*"}
    assert check("auth-fails-closed", rargs(ep.WORKERS_ROUTE, {**route, "script": "shop-prod"})) == []
    [msg] = check("auth-fails-closed", rargs(ep.WORKERS_ROUTE, route, "hole"))
    assert msg.startswith("Cloudflare Workers route 'shop.example.com/api/public/*' (Pulumi resource hole) has no script")
    assert "Fix: set script" in msg


def test_viewer_request_function_must_not_run_on_origin_request():
    assert check("auth-fails-closed", distribution(("viewer-request", f"{ARN}:3"))) == []
    [msg] = check("auth-fails-closed", distribution(("origin-request", f"{ARN}:3")))
    assert "cache behaviour /api/* associates shop-prod-viewer-request on origin-request" in msg
    assert "skipped for every cache hit" in msg and "Fix: associate it on viewer-request" in msg
    # a function outside edgeport's naming is not judged here
    other = "arn:aws:lambda:us-east-1:123456789012:function:their-fn:1"
    assert check("auth-fails-closed", distribution(("origin-request", other))) == []
    # edgeport's functions are auto-named '<component>-<trigger>-<7 hex>' by Pulumi: still recognised
    auto = "arn:aws:lambda:us-east-1:123456789012:function:shop-lambda-edge-viewer-request-0a1b2c3:7"
    [msg] = check("auth-fails-closed", distribution(("origin-request", auto)))
    assert "associates shop-lambda-edge-viewer-request-0a1b2c3 on origin-request" in msg


def test_associations_on_an_existing_distribution_are_checked_too():
    props = {"distribution_id": "E123", "associations": [
        {"path_pattern": "/api/*", "event_type": "origin-response", "lambda_arn": f"{ARN}:2"}]}
    [msg] = check("auth-fails-closed", rargs(ep.DYNAMIC_RESOURCE, props, "shop-lambda-edge-associations"))
    assert msg.startswith("edgeport CloudFront associations shop-lambda-edge-associations: cache behaviour /api/* of "
                          "distribution E123 associates shop-prod-viewer-request on origin-response")


def test_jwt_auth_bundle_must_serve_viewer_request(tmp_path):
    config = 'var l={version:1,app:"shop",patterns:[{name:"api-auth",type:"jwt-auth",routes:[]}],event:"%s"};'
    ok = edge_function("viewer-request", bundle(tmp_path, config % "viewer-request", "vr.js"))
    assert check("auth-fails-closed", ok) == []
    bad = edge_function("origin-request", bundle(tmp_path, config % "origin-request", "or.js"))
    [msg] = check("auth-fails-closed", bad)
    assert msg.startswith("Lambda@Edge function 'shop-prod-origin-request' (Pulumi resource shop-lambda-edge-origin-request): "
                          "its bundle (built for origin-request) runs jwt-auth and the function serves origin-request")
    # the viewer-request bundle deployed as the origin-request function is caught by its name
    swapped = edge_function("origin-request", bundle(tmp_path, config % "viewer-request", "sw.js"))
    [msg] = check("auth-fails-closed", swapped)
    assert "(built for viewer-request) runs jwt-auth and the function serves origin-request" in msg
    # engine code naming the pattern type as a registry key is not a jwt-auth config
    engine = edge_function("origin-request", bundle(tmp_path, 'var L={"jwt-auth":B};event:"origin-request"', "e.js"))
    assert check("auth-fails-closed", engine) == []


def test_proxying_vercel_deployment_needs_its_middleware(tmp_path):
    with_mw = deployment(tmp_path, {"middleware.js": "export default()=>{}", "vercel.json": PROXY_JSON})
    assert check("auth-fails-closed", with_mw) == []
    (tmp_path / "middleware.js").unlink()
    without = deployment(tmp_path, {"vercel.json": PROXY_JSON})
    [msg] = check("auth-fails-closed", without)
    assert msg.startswith("Vercel deployment shop-vercel-deployment: vercel.json rewrites requests to "
                          "https://origin.example.com/:path* but the deployment has no root middleware.js")
    # a site that does not proxy to an external origin is not an edge proxy
    site = deployment(tmp_path, {"vercel.json": json.dumps({"rewrites": [{"source": "/a", "destination": "/b"}]})})
    assert check("auth-fails-closed", site) == []


def test_values_unknown_during_preview_are_skipped_not_failed():
    args = distribution(("origin-request", UNKNOWN_STRING_VALUE), ("viewer-request", f"{ARN}:1"))
    args.props = unknown_checking_proxy(args.props)
    assert check("auth-fails-closed", args) == []
    assert check("lambda-edge-us-east-1-published", args) == []


# ---------------------------------------------------------------- lambda-edge-us-east-1-published


def test_published_us_east_1_function_passes():
    assert check("lambda-edge-us-east-1-published", edge_function()) == []
    assert check("lambda-edge-us-east-1-published", edge_function(provider=None, region="us-east-1")) == []


def test_function_breaking_lambda_edge_rules_is_refused():
    fn = edge_function(publish=False, environment={"variables": {"MODE": "x"}}, layers=["arn:aws:lambda:us-east-1:1:layer:l:1"],
                       vpcConfig={"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}, architectures=["arm64"],
                       region="eu-west-1", memorySize=512)
    msgs = check("lambda-edge-us-east-1-published", fn)
    assert all(m.startswith("Lambda@Edge function 'shop-prod-viewer-request' (Pulumi resource "
                            "shop-lambda-edge-viewer-request): ") for m in msgs)
    text = "\n".join(msgs)
    for expected in ["publish is not true", "environment variables", "uses layers", "attached to a VPC",
                     "architectures is ['arm64']", "memory is 512 MB; viewer-request allows 128 MB",
                     "it is in eu-west-1 (its region input); Lambda@Edge functions must be created in us-east-1"]:
        assert expected in text
    assert len(msgs) == 7


def test_function_region_must_be_stated():
    [msg] = check("lambda-edge-us-east-1-published", edge_function(provider=None))
    assert "nothing states its region" in msg and "explicit us-east-1 provider" in msg
    eu = PolicyProviderResource("pulumi:providers:aws", {"region": "eu-west-1"}, "urn:provider:eu", "eu")
    [msg] = check("lambda-edge-us-east-1-published", edge_function(provider=eu))
    assert "it is in eu-west-1 (its provider eu)" in msg


def test_functions_outside_lambda_edge_are_left_alone():
    fn = rargs(ep.LAMBDA_FUNCTION, {"name": "orders-api", "publish": False, "architectures": ["arm64"],
                                    "environment": {"variables": {"A": "b"}}})
    assert check("lambda-edge-us-east-1-published", fn) == []


def test_cloudfront_associates_numbered_us_east_1_versions_only():
    assert check("lambda-edge-us-east-1-published", distribution(("viewer-request", f"{ARN}:12"))) == []
    msgs = check("lambda-edge-us-east-1-published", distribution(
        ("viewer-request", f"{ARN}:$LATEST"), ("origin-request", ARN), ("viewer-response", f"{ARN}:live"),
        ("origin-response", ARN.replace("us-east-1", "eu-west-1") + ":3")))
    assert len(msgs) == 4
    assert "$LATEST is not allowed; CloudFront needs a numbered version" in msgs[0]
    assert "the ARN has no version" in msgs[1]
    assert "'live' is an alias" in msgs[2]
    assert "the function is in eu-west-1" in msgs[3]
    assert all(m.startswith("CloudFront distribution shop-lambda-edge-distribution: cache behaviour /api/* associates")
               for m in msgs)


# ---------------------------------------------------------------- no-secret-in-plain-input


def test_vercel_secret_variable_must_be_sensitive():
    var = {"key": "EDGEPORT_SECRET_JWT_HMAC", "value": SECRET, "projectId": "p", "targets": ["production"]}
    assert check("no-secret-in-plain-input", rargs(ep.VERCEL_ENV, {**var, "sensitive": True})) == []
    [msg] = check("no-secret-in-plain-input", rargs(ep.VERCEL_ENV, {**var, "sensitive": False}, "env"))
    assert msg.startswith("Vercel environment variable 'EDGEPORT_SECRET_JWT_HMAC' (Pulumi resource env) is not sensitive")
    assert "Fix: sensitive=True" in msg
    assert check("no-secret-in-plain-input", rargs(ep.VERCEL_ENV, {**var, "key": "LOG_LEVEL", "sensitive": False})) == []
    bulk = {"projectId": "p", "variables": [{**var, "sensitive": False}]}
    [msg] = check("no-secret-in-plain-input", rargs(ep.VERCEL_ENVS, bulk))
    assert "EDGEPORT_SECRET_JWT_HMAC is not sensitive" in msg


def test_vercel_deployment_environment_holds_no_secret(tmp_path):
    [msg] = check("no-secret-in-plain-input", deployment(tmp_path, {}, environment={"EDGEPORT_SECRET_X": SECRET}))
    assert "its environment sets EDGEPORT_SECRET_X" in msg and "sensitive ProjectEnvironmentVariable" in msg


def test_worker_secret_binding_must_be_secret_text():
    good = {"name": "EDGEPORT_SECRET_JWT_HMAC", "type": "secret_text", "text": SECRET}
    assert check("no-secret-in-plain-input", worker(bindings=[good, {"name": "EDGEPORT_CONFIG", "type": "json", "json": "{}"}])) == []
    msgs = check("no-secret-in-plain-input", worker(bindings=[{**good, "type": "plain_text"},
                                                              {"name": "EDGEPORT_SECRET_B", "type": "json", "json": "{}"}]))
    assert [m.split(": ", 1)[1].split(",")[0] for m in msgs] == ["binding EDGEPORT_SECRET_JWT_HMAC is plain_text",
                                                                 "binding EDGEPORT_SECRET_B is json"]
    assert all("Fix: type='secret_text'" in m for m in msgs)


def test_lambda_environment_holds_no_secret():
    fn = rargs(ep.LAMBDA_FUNCTION, {"name": "orders-api", "environment": {"variables": {"EDGEPORT_SECRET_X": SECRET}}})
    [msg] = check("no-secret-in-plain-input", fn)
    assert msg.startswith("Lambda function 'orders-api' (Pulumi resource res): environment variables EDGEPORT_SECRET_X")


def test_secret_ssm_parameter_must_be_secure_string():
    name = "/edgeport/shop/prod/jwt_hmac"
    assert check("no-secret-in-plain-input", rargs(ep.SSM_PARAMETER, {"name": name, "type": "SecureString", "value": SECRET})) == []
    [msg] = check("no-secret-in-plain-input", rargs(ep.SSM_PARAMETER, {"name": name, "type": "String", "value": SECRET}, "p"))
    assert msg.startswith(f"SSM parameter '{name}' (Pulumi resource p) holds a secret (by its name) but is String")
    # edgeport's live settings are not secrets, whatever the A/B test is called
    live = {"name": "/edgeport/shop/prod/ab/token-banner", "type": "String", "value": "{}"}
    assert check("no-secret-in-plain-input", rargs(ep.SSM_PARAMETER, live)) == []


# ---------------------------------------------------------------- no-secret-value-reused


def test_secret_value_copied_into_code_is_refused(tmp_path):
    holders = [(ep.VERCEL_ENV, "shop-vercel-env-jwt-hmac", {"key": "EDGEPORT_SECRET_JWT_HMAC", "value": SECRET, "sensitive": True}),
               (ep.SECRET_VERSION, "shop-lambda-edge-secret-jwt-hmac-value", {"secretString": SECRET, "secretId": "x"})]
    fn_ok = (ep.LAMBDA_FUNCTION, "fn", {"name": "shop-prod-viewer-request", "code": bundle(tmp_path, "ok", "a.js")})
    worker_ok = (ep.WORKERS_SCRIPT[0], "w", {"content": "export default {}"})
    assert check("no-secret-value-reused", stack(*holders, fn_ok, worker_ok)) == []

    leaky_worker = (ep.WORKERS_SCRIPT[0], "shop-cloudflare-script", {"content": f'const k="{SECRET}";'})
    leaky_fn = (ep.LAMBDA_FUNCTION, "shop-lambda-edge-viewer-request",
                {"name": "shop-prod-viewer-request", "code": bundle(tmp_path, f"var k='{SECRET}'", "b.js")})
    leaky_param = (ep.SSM_PARAMETER, "param", {"name": "/app/key", "type": "String", "value": SECRET})
    msgs = check("no-secret-value-reused", stack(*holders, leaky_worker, leaky_fn, leaky_param))
    assert len(msgs) == 3
    assert msgs[0].startswith("WorkersScript shop-cloudflare-script: content contains the value of Vercel variable "
                              "EDGEPORT_SECRET_JWT_HMAC (shop-vercel-env-jwt-hmac)")
    assert msgs[1].startswith("Function shop-lambda-edge-viewer-request: code/index.js contains the value of")
    assert msgs[2].startswith("Parameter param: value contains the value of")
    assert all(SECRET not in m for m in msgs)  # messages never repeat the secret


def test_short_or_absent_secrets_match_nothing():
    tiny = (ep.VERCEL_ENV, "env", {"key": "EDGEPORT_SECRET_PIN", "value": "1234", "sensitive": True})
    assert check("no-secret-value-reused", stack(tiny, (ep.WORKERS_SCRIPT[0], "w", {"content": "x=1234"}))) == []
    assert check("no-secret-value-reused", stack((ep.WORKERS_SCRIPT[0], "w", {"content": "x"}))) == []


# ---------------------------------------------------------------- bundle-under-budget


@pytest.fixture(scope="module")
def over_free() -> str:
    return incompressible(int(4.2 * 1024 * 1024))  # ~3.2 MB after gzip: over Workers Free, under Workers Paid


def test_worker_budget_depends_on_the_configured_plan(over_free):
    big = worker(over_free)
    assert check("bundle-under-budget", big) == []  # no plan configured: the hard limit is the paid one
    [advice] = check("bundle-under-budget-advisory", big)
    assert "after gzip, over the limit of plan 'free' (Workers Free: 3 MB after gzip)" in advice
    assert "set cloudflarePlan" in advice
    free = rargs(big.resource_type, big.props, big.name, config={"cloudflarePlan": "free"})
    [msg] = check("bundle-under-budget", free)
    assert msg.startswith("Cloudflare Worker 'shop-prod' (Pulumi resource shop-cloudflare-script) is 3.")
    paid = rargs(big.resource_type, big.props, big.name, config={"cloudflarePlan": "paid"})
    assert check("bundle-under-budget", paid) == [] and check("bundle-under-budget-advisory", paid) == []
    assert check("bundle-under-budget-advisory", worker()) == []


def test_lambda_package_budget_depends_on_the_trigger(tmp_path):
    code = bundle(tmp_path, os.urandom(1100 * 1024))  # ~1.07 MB zipped
    [msg] = check("bundle-under-budget", edge_function("viewer-request", code))
    assert msg.startswith("Lambda@Edge function 'shop-prod-viewer-request' (Pulumi resource shop-lambda-edge-viewer-request): "
                          "its package is 1.")
    assert "over the viewer-request limit (viewer triggers: 1 MB package)" in msg
    assert check("bundle-under-budget", edge_function("origin-request", code)) == []
    assert check("bundle-under-budget", edge_function("viewer-request", bundle(tmp_path, "x", "small.js"))) == []


def test_vercel_middleware_budget(tmp_path):
    dep = deployment(tmp_path, {"middleware.js": incompressible(1536 * 1024), "vercel.json": PROXY_JSON})
    assert check("bundle-under-budget", dep) == []  # under Enterprise's 4 MB
    [advice] = check("bundle-under-budget-advisory", dep)
    assert "middleware.js is 1.1" in advice and "over the limit of plan 'hobby'" in advice
    hobby = rargs(dep.resource_type, dep.props, dep.name, config={"vercelPlan": "hobby"})
    [msg] = check("bundle-under-budget", hobby)
    assert msg.startswith("Vercel deployment shop-vercel-deployment: middleware.js is 1.1")
    pro = rargs(dep.resource_type, dep.props, dep.name, config={"vercelPlan": "pro"})
    assert check("bundle-under-budget", pro) == [] and check("bundle-under-budget-advisory", pro) == []


def test_unreadable_middleware_falls_back_to_its_declared_size():
    props = {"files": {"gone/middleware.js": f"{5 * 1024 * 1024}~{'0' * 40}"}, "pathPrefix": "gone"}
    [msg] = check("bundle-under-budget", rargs(ep.VERCEL_DEPLOYMENT, props))
    assert "uncompressed (the file could not be read here" in msg
    props["files"] = {"gone/middleware.js": f"{1024}~{'0' * 40}"}
    assert check("bundle-under-budget", rargs(ep.VERCEL_DEPLOYMENT, props)) == []


# ---------------------------------------------------------------- the real prod plan


def _rebuild(value, masked: Iterator[str]):
    """Undo `edgeport plan --json`'s rendering: assets back to Pulumi assets, and each "[secret]" (the plan
    masks every string inside a Pulumi secret, secret or not) to a distinct stand-in value."""
    if value == "[secret]":
        return next(masked)
    if isinstance(value, dict):
        if set(value) == {"archive"}:
            return pulumi.AssetArchive({k: _rebuild(v, masked) for k, v in value["archive"].items()})
        if set(value) == {"file", "bytes"}:
            return pulumi.FileAsset(value["file"])
        return {k: _rebuild(v, masked) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebuild(v, masked) for v in value]
    return value


def _rebuild_all(resources: list[dict]) -> list[dict]:
    masked = (f"masked-plan-value-{i:04d}" for i in itertools.count())
    return [{**r, "props": _rebuild(r["inputs"], masked)} for r in resources]


@pytest.fixture(scope="module")
def prod_plan() -> list[dict]:
    # A subprocess: Pulumi's mocks are process-global and conftest.py installs its own.
    edgeport = Path(sys.executable).with_name("edgeport")
    out = subprocess.run([str(edgeport), "plan", "--stack", "prod", "--json", "--offline"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return _rebuild_all([r for r in json.loads(out.stdout)["resources"] if r["custom"]])


def _plan_args(resources: list[dict], config: dict) -> list[ResourceValidationArgs]:
    # The plan does not say which provider each resource uses; edgeport gives its Lambda@Edge functions the
    # explicit us-east-1 provider created in the same component (targets/lambda_edge.py).
    providers = {r["parent"]: PolicyProviderResource(r["type"], r["props"], urn(r["type"], r["name"]), r["name"])
                 for r in resources if r["type"] == "pulumi:providers:aws"}
    return [rargs(r["type"], r["props"], r["name"], providers.get(r["parent"]) if r["type"] == ep.LAMBDA_FUNCTION else None,
                  config) for r in resources]


def _all_violations(resources: list[dict], config: dict) -> list[str]:
    msgs = []
    for policy in ep.POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for a in _plan_args(resources, config):
                policy.validate(a, lambda m, urn=None, n=policy.name: msgs.append(f"{n}: {m}"))
    stack_args = stack(*[(r["type"], r["name"], r["props"]) for r in resources])
    POLICY["no-secret-value-reused"].validate(stack_args, lambda m, urn=None: msgs.append(f"no-secret-value-reused: {m}"))
    return msgs


def test_the_prod_example_stack_passes_every_policy(prod_plan):
    types = {r["type"] for r in prod_plan}
    assert {ep.WORKERS_SCRIPT[0], ep.WORKERS_ROUTE, ep.LAMBDA_FUNCTION, ep.DISTRIBUTION, ep.VERCEL_DEPLOYMENT,
            ep.VERCEL_ENV, ep.SECRET_VERSION} <= types
    # the checks read real bundles, not nothing: the inlined-config marker finds jwt-auth exactly where edgeport
    # builds it, although every bundle's engine code knows the jwt-auth pattern type
    bundles = {r["props"]["tags"]["edgeport:trigger"]: ep.archive_files(r["props"]["code"])
               for r in prod_plan if r["type"] == ep.LAMBDA_FUNCTION}
    assert all(bundles.values())
    with_jwt = {n for n, files in bundles.items() if any(ep.INLINED_JWT_AUTH.search(d.decode()) for d in files.values())}
    assert with_jwt == {"viewer-request"}
    dep = next(r for r in prod_plan if r["type"] == ep.VERCEL_DEPLOYMENT)
    _name, local, _size, sha = ep.vercel_middleware(dep["props"])
    assert ep.read_vercel_file(local, sha)

    # The plans the stack declares (edgeport's defaults where it declares none) as the budget policies' config.
    from edgeport.targets.cloudflare import CloudflareTarget
    from edgeport.targets.vercel import VercelTarget

    declared = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]["edgeport:app"]["targets"]
    config = {"cloudflarePlan": declared["cloudflare"].get("plan", CloudflareTarget.model_fields["plan"].default),
              "vercelPlan": declared["vercel"].get("plan", VercelTarget.model_fields["plan"].default)}
    assert _all_violations(prod_plan, config) == []
    assert _all_violations(prod_plan, {}) == []


# Which resource of a type a mutation targets, where the type has several and only some are what the policy guards
# (the plan lists resources by URN, so "the first" is not a choice).
_TARGETED = {ep.VERCEL_ENV: lambda props: props["key"].startswith("EDGEPORT_SECRET_")}


def _mutate(resources: list[dict], typ: str, change) -> list[dict]:
    """A copy of the plan (props rebuilt afresh from the inputs) with the first targeted resource of type `typ` changed."""
    out = _rebuild_all(resources)
    targeted = _TARGETED.get(typ, lambda props: True)
    change(next(r for r in out if r["type"] == typ and targeted(r["props"]))["props"])
    return out


def _own_secret(worker_props: dict) -> str:
    return next(b["text"] for b in worker_props["bindings"] if b["type"] == "secret_text")


@pytest.mark.parametrize("typ, change, expected", [
    (ep.WORKERS_SCRIPT[0], lambda p: p.update(content=p["content"] + "ctx.passThroughOnException();"),
     "auth-fails-closed: Cloudflare Worker 'shop-prod'"),
    (ep.DISTRIBUTION, lambda p: p["orderedCacheBehaviors"][0]["lambdaFunctionAssociations"][0].update(eventType="origin-request"),
     "auth-fails-closed: CloudFront distribution shop-lambda-edge-distribution"),
    (ep.VERCEL_ENV, lambda p: p.update(sensitive=False), "no-secret-in-plain-input: Vercel environment variable"),
    (ep.LAMBDA_FUNCTION, lambda p: p.update(publish=False), "lambda-edge-us-east-1-published: Lambda@Edge function"),
    (ep.WORKERS_SCRIPT[0], lambda p: p.update(content=p["content"] + f"//{_own_secret(p)}"),
     "no-secret-value-reused: WorkersScript shop-cloudflare-script: content contains the value of"),
])
def test_a_broken_prod_resource_is_caught(prod_plan, typ, change, expected):
    msgs = _all_violations(_mutate(prod_plan, typ, change), {})
    assert len(msgs) == 1 and msgs[0].startswith(expected), msgs


# ---------------------------------------------------------------- served like the Pulumi CLI serves it

SIG = "4dabf18193072939515e22adb298388d"


def _struct(d: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def test_the_pack_runs_under_the_analyzer_protocol():
    # What pulumi-analyzer-policy-python runs: `<venv>/bin/python -u -m pulumi.policy <engine> .` in policy/.
    # The engine address is only used by programs that register resources; the pack prints its own port.
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=ROOT / "policy",
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
            assert info.name == "edgeport"
            levels = {p.name: p.enforcementLevel for p in info.policies}
            assert levels["auth-fails-closed"] == analyzer_pb2.MANDATORY
            assert levels["bundle-under-budget-advisory"] == analyzer_pb2.ADVISORY

            # What the engine sends: camelCase inputs, secrets wrapped, unknowns as sentinels.
            secret = {SIG: "1b47061264138c4ac30d75fd1eb44270", "value": [
                {"name": "EDGEPORT_SECRET_JWT_HMAC", "type": "plain_text", "text": SECRET}]}
            props = {"scriptName": "shop-prod", "content": "c.passThroughOnException()", "bindings": secret,
                     "accountId": UNKNOWN_STRING_VALUE}
            got = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
                type=ep.WORKERS_SCRIPT[0], urn=urn(ep.WORKERS_SCRIPT[0], "w"), name="w", properties=_struct(props)), timeout=10)
            by_policy = {d.policyName: d for d in got.diagnostics}
            assert set(by_policy) == {"auth-fails-closed", "no-secret-in-plain-input"}
            assert "passThroughOnException()" in by_policy["auth-fails-closed"].message
            assert by_policy["no-secret-in-plain-input"].enforcementLevel == analyzer_pb2.MANDATORY

            holder = {"key": "EDGEPORT_SECRET_JWT_HMAC", "sensitive": True, "value": {**secret, "value": SECRET}}
            resources = [analyzer_pb2.AnalyzerResource(type=t, urn=urn(t, n), name=n, properties=_struct(p)) for t, n, p in [
                (ep.VERCEL_ENV, "env", holder), (ep.WORKERS_SCRIPT[0], "w", {"content": f"const k='{SECRET}'"})]]
            got = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=10)
            [diag] = got.diagnostics
            assert diag.policyName == "no-secret-value-reused" and diag.urn == urn(ep.WORKERS_SCRIPT[0], "w")
            assert SECRET not in diag.message
    finally:
        proc.kill()
        proc.wait(timeout=10)
