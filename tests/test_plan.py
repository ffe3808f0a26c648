"""`edgeport plan` end to end (a subprocess each: Pulumi's mocks are process-global): stable URNs,
renames through aliases, limits before anything is created, the pull-request summary."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from conftest import ROOT, write_project

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]


def plan(cwd, stack, *flags):
    return subprocess.run(EDGEPORT + ["plan", "--stack", stack, *flags], cwd=cwd, capture_output=True, text=True, timeout=180)


def plan_json(cwd, stack):
    p = plan(cwd, stack, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def dev_raw():
    return yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())


def test_two_runs_give_identical_urns():
    a, b = plan_json(ROOT, "dev"), plan_json(ROOT, "dev")
    urns = [r["urn"] for r in a["resources"]]
    assert len(urns) == len(set(urns)) == 28  # the guard needs one Workers route, "/*"
    assert sorted(urns) == sorted(r["urn"] for r in b["resources"])


def _urns(plan_doc, stack):
    """Every URN a planned resource answers to (its own and its aliases), with the stack name neutralised."""
    return {u.replace(f"urn:pulumi:{stack}::", "urn:pulumi:S::") for r in plan_doc["resources"] for u in [r["urn"], *r["aliases"]]}


def test_renaming_a_pattern_keeps_resources_through_aliases(tmp_path):
    doc = dev_raw()
    write_project(tmp_path, {"before": yaml.safe_dump(doc)})
    exp = next(p for p in doc["config"]["edgeport:app"]["patterns"] if p["name"] == "landing-exp")
    exp["name"] = "landing-test"
    write_project(tmp_path, {"plain": yaml.safe_dump(doc)})
    exp["previousNames"] = ["landing-exp"]
    write_project(tmp_path, {"after": yaml.safe_dump(doc)})
    before = {r["urn"].replace("urn:pulumi:before::", "urn:pulumi:S::") for r in plan_json(tmp_path, "before")["resources"]}
    after = plan_json(tmp_path, "after")
    assert sorted(before - _urns(after, "after")) == []
    # without previousNames the same rename would replace the pattern's resources
    lost = before - _urns(plan_json(tmp_path, "plain"), "plain")
    assert sorted(u.rsplit("::", 1)[1] for u in lost) == [
        "shop-cloudflare-live-landing-exp", "shop-lambda-edge-cache-key-edgeport-ab-landing-exp-authorization",
        "shop-lambda-edge-live-landing-exp", "shop-vercel-live-landing-exp"]
    renamed = {r["type"]: r for r in after["resources"] if "landing-test" in r["name"]}
    assert set(renamed) == {"cloudflare:index/workersKv:WorkersKv", "aws:ssm/parameter:Parameter",
                            "vercel:index/edgeConfigItem:EdgeConfigItem"}
    # physical identifiers keep the first name: no replacement, and visitors keep their variant cookie
    assert renamed["cloudflare:index/workersKv:WorkersKv"]["inputs"]["keyName"] == "ab/landing-exp"
    assert renamed["aws:ssm/parameter:Parameter"]["inputs"]["name"] == "/edgeport/shop/after/ab/landing-exp"
    assert renamed["vercel:index/edgeConfigItem:EdgeConfigItem"]["inputs"]["key"] == "ab-landing-exp"


def _with(tmp_path, change):
    doc = dev_raw()
    change(doc["config"]["edgeport:app"])
    write_project(tmp_path, {"t": yaml.safe_dump(doc)})
    return plan(tmp_path, "t")


def test_lambda_limits_fail_at_plan_time_with_the_figures(tmp_path):
    def change(app):
        app["targets"]["lambda-edge"]["functions"] = {"viewer-request": {"memory": 512, "timeout": 10},
                                                      "origin-request": {"timeout": 60}}
    p = _with(tmp_path, change)
    assert p.returncode == 2, p.stderr
    assert "targets.lambda-edge.functions.viewer-request.memory: 512 MB exceeds the 128 MB Lambda@Edge allows for viewer triggers" in p.stderr
    assert "viewer-request.timeout: 10 s exceeds the 5 s" in p.stderr
    assert "origin-request.timeout: 60 s exceeds the 30 s" in p.stderr
    assert "Traceback" not in p.stderr


def test_worker_config_over_the_variable_limit(tmp_path):
    def change(app):
        keys = [{"kty": "RSA", "kid": f"k{i}", "e": "AQAB",
                 "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}
                for i in range(12)]
        app["patterns"].append({"name": "many-keys", "type": "jwt-auth", "routes": ["/keys/*"], "algorithms": ["RS256"],
                                "jwks": {"keys": keys}})
    p = _with(tmp_path, change)
    assert p.returncode == 2, p.stderr
    assert "EDGEPORT_CONFIG binding would be" in p.stderr and "Cloudflare allows 5,120 B per variable" in p.stderr


def test_markdown_summary_for_a_pull_request():
    p = plan(ROOT, "prod", "--markdown")
    assert p.returncode == 0, p.stderr
    md = p.stdout
    assert md.startswith("### edgeport plan: stack `prod`, app `shop`")
    assert "| cloudflare | 5 | worker.mjs" in md and "| lambda-edge | 14 | viewer-request" in md and "| vercel | 8 |" in md
    assert "<details><summary>lambda-edge: 14 resources</summary>" in md
    assert "[secret]" in md and "REPLACE_WITH" not in md


def test_prod_plan_covers_every_pattern_on_every_target_that_hosts_it():
    p = plan_json(ROOT, "prod")
    types = {r["type"] for r in p["resources"]}
    # jwt-auth: secrets on every target; ab-test: a live store on every target; geo-route: a cache policy keyed on
    # the country; esi-compose: origin-request on the default behaviour; realtime-room: the Durable Object binding
    assert {"aws:secretsmanager/secret:Secret", "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable",
            "cloudflare:index/workersKv:WorkersKv", "aws:ssm/parameter:Parameter", "vercel:index/edgeConfigItem:EdgeConfigItem",
            "aws:cloudfront/cachePolicy:CachePolicy"} <= types
    script = next(r for r in p["resources"] if r["type"] == "cloudflare:index/workersScript:WorkersScript")
    assert [b["type"] for b in script["inputs"]["bindings"]] == ["json", "secret_text", "kv_namespace", "durable_object_namespace"]
    dist = next(r for r in p["resources"] if r["type"] == "aws:cloudfront/distribution:Distribution")["inputs"]
    # The guard (jwt-auth) runs on viewer-request in every behaviour, the default one included.
    assert [a["eventType"] for a in dist["defaultCacheBehavior"]["lambdaFunctionAssociations"]] == ["viewer-request", "origin-request"]
    behaviours = {b["pathPattern"]: [a["eventType"] for a in b["lambdaFunctionAssociations"]] for b in dist["orderedCacheBehaviors"]}
    assert behaviours["/checkout/*"] == ["viewer-request", "origin-request", "origin-response"]
    assert behaviours["/store/*"] == ["viewer-request", "origin-request"] and behaviours["/partner/*"] == ["viewer-request"]
    fns = {r["inputs"]["tags"]["edgeport:trigger"]: r["inputs"] for r in p["resources"] if r["type"] == "aws:lambda/function:Function"}
    assert (fns["origin-request"]["memorySize"], fns["origin-request"]["timeout"]) == (512, 15)
    assert dist["aliases"] == ["cdn.shop.example.com"]
    assert p["counts"] == {"cloudflare": 5, "lambda-edge": 14, "vercel": 8}
