"""Per-pattern components under Pulumi's mocks: what each pattern adds on each target, the
same stack written in Python equals the YAML one, and the multi-language schema."""

from __future__ import annotations

import json

import pulumi
import pytest
from pulumi.runtime import rpc

from conftest import MOCKS, ROOT
from edgeport.components import COMPONENTS, AbTest, EsiCompose, GeoRoute, JwtAuth, RealtimeRoom
from edgeport.errors import SpecError
from edgeport.spec import load_stack
from edgeport.patterns.ab_test import AbTest as AbModel
from edgeport.patterns.jwt_auth import Forward, JwtAuth as JwtModel
from edgeport.spec.models import App, Targets
from edgeport.targets.cloudflare import CloudflareTarget
from edgeport.targets.lambda_edge import DistributionSettings, LambdaEdgeTarget
from edgeport.targets.vercel import VercelTarget

TARGETS = {"cloudflare": {"account_id": "a" * 32, "zone_id": "b" * 32, "hostname": "shop.example.com"},
           "lambda_edge": {}, "vercel": {"project_name": "shop-edge"}}
ORIGINS = {"default": "https://origin.example.com", "eu": "https://eu.example.com", "next": "https://next.example.com"}


def create(cls, name, args):
    collected = []

    def collect(a):
        collected.append(a.resource)

    comp = cls(name, {"targets": TARGETS, "origins": ORIGINS, "stack": "test", **args},
               opts=pulumi.ResourceOptions(transformations=[collect]))

    def registered(_):
        names = {r._name for r in collected}
        return {a.name: a for a in MOCKS.resources if a.name in names}

    return comp, pulumi.Output.all(*[r.urn for r in collected]).apply(registered)


def of(res, typ):
    return [r for r in res.values() if r.typ == typ]


def plain(v):
    return rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v


@pulumi.runtime.test
def test_jwt_auth_component():
    comp, res = create(JwtAuth, "pc-auth", {"routes": ["/api/*"], "algorithms": ["HS256"],
                                            "hmac_secret": pulumi.Output.secret("s" * 48), "issuer": "https://idp/"})

    def check(r):
        assert {x.typ for x in r.values() if not x.custom} >= {"edgeport:index:JwtAuth", "edgeport:cloudflare:Worker",
                                                              "edgeport:aws:LambdaEdge", "edgeport:vercel:Middleware"}
        (script,) = of(r, "cloudflare:index/workersScript:WorkersScript")
        assert {b["name"] for b in plain(script.inputs["bindings"])} == {"EDGEPORT_SECRET_PC_AUTH_HMAC"}
        (secret,) = of(r, "aws:secretsmanager/secret:Secret")
        assert secret.inputs["name"] == "edgeport/pc-auth/test/pc_auth_hmac"
        (fn,) = of(r, "aws:lambda/function:Function")
        assert fn.name == "pc-auth-lambda-edge-viewer-request" and fn.inputs["tags"]["edgeport:trigger"] == "viewer-request"
        (env,) = of(r, "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable")
        assert env.inputs["key"] == "EDGEPORT_SECRET_PC_AUTH_HMAC" and env.inputs["sensitive"] is True

    return pulumi.Output.all(res, comp.cloudflare_script, comp.lambda_function_arns).apply(
        lambda a: (check(a[0]), a[1] == "pc-auth-test", set(a[2]) == {"viewer-request"}))


@pulumi.runtime.test
def test_ab_test_component_live_stores_and_cache_key():
    comp, res = create(AbTest, "pc-exp", {"routes": ["/landing"], "variants": [
        {"name": "A", "weight": 70}, {"name": "B", "weight": 30, "origin": "next"}], "live_ttl": 30})

    def check(r):
        (kv,) = of(r, "cloudflare:index/workersKv:WorkersKv")
        assert (kv.inputs["keyName"], json.loads(kv.inputs["value"])) == ("ab/pc-exp", {"A": 70, "B": 30})
        (script,) = of(r, "cloudflare:index/workersScript:WorkersScript")
        kv_binding = next(b for b in plain(script.inputs["bindings"]) if b["type"] == "kv_namespace")
        assert kv_binding["name"] == "EDGEPORT_LIVE"
        (param,) = of(r, "aws:ssm/parameter:Parameter")
        assert (param.inputs["name"], param.inputs["type"], json.loads(plain(param.inputs["value"]))) == (
            "/edgeport/pc-exp/test/ab/pc-exp", "String", {"A": 70, "B": 30})
        assert "us-east-1" in (param.provider or "")
        (policy,) = of(r, "aws:iam/rolePolicy:RolePolicy")
        statements = {tuple(s["Action"]): s["Resource"] for s in json.loads(policy.inputs["policy"])["Statement"]}
        assert statements[("ssm:GetParameter",)] == ["arn:aws:ssm:us-east-1:*:parameter/edgeport/pc-exp/test/ab/pc-exp"]
        fns = sorted(f.inputs["tags"]["edgeport:trigger"] for f in of(r, "aws:lambda/function:Function"))
        assert fns == ["origin-request", "origin-response", "viewer-request"]  # the cookie comes from origin-response
        (cache,) = of(r, "aws:cloudfront/cachePolicy:CachePolicy")
        keyed = cache.inputs["parametersInCacheKeyAndForwardedToOrigin"]
        assert keyed["cookiesConfig"] == {"cookieBehavior": "whitelist", "cookies": {"items": ["edgeport-ab-pc-exp"]}}
        (dist,) = of(r, "aws:cloudfront/distribution:Distribution")
        (b,) = dist.inputs["orderedCacheBehaviors"]
        assert b["pathPattern"] == "/landing" and b["cachePolicyId"] == f"{cache.name}-id"
        assert [a["eventType"] for a in b["lambdaFunctionAssociations"]] == ["viewer-request", "origin-request", "origin-response"]
        (store,) = of(r, "vercel:index/edgeConfig:EdgeConfig")
        (item,) = of(r, "vercel:index/edgeConfigItem:EdgeConfigItem")
        assert (item.inputs["key"], item.inputs["valueJson"], item.inputs["edgeConfigId"]) == ("ab-pc-exp", {"A": 70, "B": 30}, store.name + "-id")
        (token,) = of(r, "vercel:index/edgeConfigToken:EdgeConfigToken")
        env = next(e for e in of(r, "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable") if e.inputs["key"] == "EDGE_CONFIG")
        assert env.inputs["sensitive"] is True and rpc.is_rpc_secret(env.inputs["value"])

    return res.apply(check)


@pulumi.runtime.test
def test_geo_route_component_forwards_the_country_on_lambda_edge():
    comp, res = create(GeoRoute, "pc-geo", {"routes": ["/store/*"], "rules": [{"countries": ["EU"], "origin": "eu"}]})

    def check(r):
        (fn,) = of(r, "aws:lambda/function:Function")
        assert (fn.name, fn.inputs["memorySize"], fn.inputs["timeout"]) == ("pc-geo-lambda-edge-origin-request", 256, 10)
        (dist,) = of(r, "aws:cloudfront/distribution:Distribution")
        (b,) = dist.inputs["orderedCacheBehaviors"]
        # The country is in the cache key: CloudFront then adds it for origin-request, and answers cached for one
        # country's origin never reach another's (the origin request policy stays the managed all-viewer one).
        (cache,) = of(r, "aws:cloudfront/cachePolicy:CachePolicy")
        assert cache.inputs["parametersInCacheKeyAndForwardedToOrigin"]["headersConfig"] == {
            "headerBehavior": "whitelist", "headers": {"items": ["CloudFront-Viewer-Country"]}}
        assert b["cachePolicyId"] == f"{cache.name}-id" and b["originRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
        assert [a["eventType"] for a in b["lambdaFunctionAssociations"]] == ["origin-request"]
        # Everything else keeps the origin's own cache semantics through the managed policy.
        assert dist.inputs["defaultCacheBehavior"]["cachePolicyId"] == "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
        assert not dist.inputs["defaultCacheBehavior"]["lambdaFunctionAssociations"]
        assert not of(r, "aws:secretsmanager/secret:Secret") and not of(r, "aws:ssm/parameter:Parameter")
        (route,) = of(r, "cloudflare:index/workersRoute:WorkersRoute")
        assert route.inputs["pattern"] == "shop.example.com/store*"  # also "/store" and any query string

    return res.apply(check)


@pulumi.runtime.test
def test_esi_compose_component_on_the_root_uses_the_default_behaviour():
    comp, res = create(EsiCompose, "pc-esi", {"routes": ["/"], "shell": "/shell.html",
                                              "fragments": [{"slot": "recs", "path": "/frag/recs"}]})

    def check(r):
        (dist,) = of(r, "aws:cloudfront/distribution:Distribution")
        assert dist.inputs.get("orderedCacheBehaviors") in (None, [])
        default = dist.inputs["defaultCacheBehavior"]
        assert [a["eventType"] for a in default["lambdaFunctionAssociations"]] == ["origin-request"]
        # Caching stays the origin's: composed pages are generated "private, no-store" and so never cached.
        assert default["cachePolicyId"] == "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
        (route,) = of(r, "cloudflare:index/workersRoute:WorkersRoute")
        assert route.inputs["pattern"] == "shop.example.com/*"  # Cloudflare matches the query string too: "/" misses "/?x=1"

    return res.apply(check)


@pulumi.runtime.test
def test_realtime_room_component_binds_a_durable_object_with_a_stable_migration():
    comp, res = create(RealtimeRoom, "pc-room", {"routes": ["/rooms/*"], "targets": {"cloudflare": TARGETS["cloudflare"]}})

    def check(r):
        (script,) = of(r, "cloudflare:index/workersScript:WorkersScript")
        bindings = {b["name"]: b for b in plain(script.inputs["bindings"])}
        assert bindings["EDGEPORT_ROOMS"] == {"name": "EDGEPORT_ROOMS", "type": "durable_object_namespace", "className": "EdgeportRoom"}
        assert script.inputs["migrations"] == {"newTag": "edgeport-v1", "newSqliteClasses": ["EdgeportRoom"]}
        assert not [x for x in r.values() if x.typ.startswith(("aws:", "vercel:"))]

    return res.apply(check)


def test_room_component_on_a_target_without_durable_objects_is_refused():
    with pytest.raises(SpecError, match="realtime-room cannot run on vercel"):
        RealtimeRoom("pc-room-bad", {"routes": ["/rooms/*"], "targets": TARGETS, "origins": ORIGINS, "stack": "test"})


def test_python_declaration_equals_the_yaml_one():
    yaml_app = load_stack("dev", ROOT).app
    jwt_yaml = next(p for p in yaml_app.patterns if p.type == "jwt-auth")
    py_jwt = JwtModel(name="api-auth", type="jwt-auth", routes=["/api/*", "/account"], algorithms=["HS256"], secret="jwt_hmac",
                      issuer="https://auth.shop.example.com/", audience="shop-api", leeway=30, required_claims=["sub"],
                      forward=Forward(claims_header="x-edgeport-claims", claims={"x-user-id": "sub"}))
    assert py_jwt == jwt_yaml
    app = App(name="shop", origins=dict(yaml_app.origins),
              targets=Targets(cloudflare=CloudflareTarget(account_id="0" * 32, zone_id="0" * 32, hostname="shop.example.com"),
                              lambda_edge=LambdaEdgeTarget(distribution=DistributionSettings(price_class="PriceClass_100")),
                              vercel=VercelTarget(project_name="shop-edge-dev")),
              patterns=[py_jwt, *yaml_app.patterns[1:]])
    assert app == yaml_app  # EdgeApp is a function of the App: equal declarations, equal resources


def test_generated_components_are_checked_in_and_current():
    """components_gen.py is what edgeport.argsgen writes from today's models: a field added to a model reaches
    the component arguments (and so every Pulumi language) by `make schema`, never by hand."""
    from edgeport import argsgen

    assert argsgen.source() == argsgen.OUT.read_text(), "run `make schema` and commit components_gen.py"


def test_every_target_setting_is_a_component_argument():
    """The drift this generation removed: settings a stack file could use that other languages could not."""
    from edgeport.components import CloudflareTargetArgs, JwksArgs, JwtAuthArgs, LambdaEdgeTargetArgs, VercelTargetArgs

    assert {"custom_domain", "dns"} <= set(CloudflareTargetArgs.__annotations__)
    assert {"functions", "secret_regions"} <= set(LambdaEdgeTargetArgs.__annotations__)
    assert "domain" in VercelTargetArgs.__annotations__
    # a JWKS is {keys: [...]} as in a stack file (the hand-written args had a bare list the model refused)
    assert JwtAuthArgs.__annotations__["jwks"] is JwksArgs and JwksArgs.__required_keys__ == {"keys"}


def test_schema_is_checked_in_and_current():
    from edgeport.schema import schema

    generated = schema()
    checked_in = json.loads((ROOT / "provider" / "schema.json").read_text())
    assert generated == checked_in, "run `make schema` and commit provider/schema.json"
    assert sorted(generated["resources"]) == sorted(f"edgeport:index:{c.__name__}" for c in COMPONENTS)
    jwt = generated["resources"]["edgeport:index:JwtAuth"]
    assert set(jwt["requiredInputs"]) == {"routes", "targets", "origins", "algorithms"}
    assert "plain" not in jwt["inputProperties"]["hmacSecret"], "the secret may be an Output"
    assert jwt["properties"]["lambdaFunctionArns"] == {"type": "object", "additionalProperties": {"type": "string"}}


@pytest.mark.parametrize("component, model", [(JwtAuth, JwtModel), (AbTest, AbModel)])
def test_component_args_mirror_the_declaration_models(component, model):
    """Every pattern setting a YAML stack can use is an argument of the component, and no argument is unknown."""
    import inspect

    from edgeport.components import PatternArgs

    args = set(inspect.get_annotations(component.__init__)["args"].__annotations__)
    common = set(PatternArgs.__annotations__)
    fields = set(model.model_fields) - {"name", "type", "targets"}
    pattern_args = set(args) - common
    if component is JwtAuth:
        pattern_args = (pattern_args - {"hmac_secret"}) | {"secret"}
    assert pattern_args | {"routes", "exclude", "previous_names"} == fields | {"routes", "exclude", "previous_names"}


@pytest.mark.parametrize("component, model_name", [(GeoRoute, "GeoRoute"), (EsiCompose, "EsiCompose"), (RealtimeRoom, "RealtimeRoom")])
def test_other_component_args_mirror_the_models(component, model_name):
    import inspect

    from edgeport.components import PatternArgs
    from edgeport.patterns import KINDS

    model = next(k.model for k in KINDS.values() if k.component == model_name)
    args = set(inspect.get_annotations(component.__init__)["args"].__annotations__) - set(PatternArgs.__annotations__)
    assert args == set(model.model_fields) - {"name", "type", "targets", "routes", "exclude", "previous_names"}
