"""`edgeport plan` end to end (a subprocess each: Pulumi's mocks are process-global): stable URNs,
renames through aliases, limits before anything is created, the pull-request summary."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, credential_free_env, write_project

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]


def plan(cwd, stack, *flags):
    return subprocess.run(EDGEPORT + ["plan", "--stack", stack, *flags], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env=credential_free_env())


def plan_json(cwd, stack):
    p = plan(cwd, stack, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def dev_raw():
    return yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())


def _concurrently(cwd, stack, *flag_sets):
    """Several plan runs at once (each a process: Pulumi's mocks are process-global)."""
    procs = [subprocess.Popen(EDGEPORT + ["plan", "--stack", stack, *flags], cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=credential_free_env()) for flags in flag_sets]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    return [out for out, _ in outs]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_two_runs_give_byte_identical_output(stack):
    # Mock registrations arrive in a different order on every run; the plan must not show it, or a
    # pull-request comment changes on every push.
    j1, j2, m1, m2 = _concurrently(ROOT, stack, ["--json"], ["--json"], ["--markdown"], ["--markdown"])
    timing = re.compile(r'\n  "seconds": [0-9.]+,')
    assert timing.sub("", j1) == timing.sub("", j2)
    assert m1 == m2
    assert "Ellipsis" not in j1 + m1
    doc = json.loads(j1)
    urns = [r["urn"] for r in doc["resources"]]
    assert len(urns) == len(set(urns)) == 28  # with a guard the Worker needs one route, "/*"
    targets = [r["target"] for r in doc["resources"] if r["target"]]
    assert targets == sorted(targets, key=["cloudflare", "lambda-edge", "vercel"].index), "targets in one fixed order"
    assert list(doc["counts"]) == ["cloudflare", "lambda-edge", "vercel"]
    seen: set[str] = set()
    for r in doc["resources"]:
        assert r["parentUrn"] is None or r["parentUrn"] in seen, f"{r['urn']} comes before its parent"
        seen.add(r["urn"])


def test_an_alias_with_only_a_type_keeps_the_name():
    # pulumi_cloudflare registers WorkersScript with Alias(type_="cloudflare:index/workerScript:WorkerScript"): every
    # other field is the sentinel `...` ("as now"), so the old URN differs in the type only.
    doc = plan_json(ROOT, "dev")
    script = next(r for r in doc["resources"] if r["type"] == "cloudflare:index/workersScript:WorkersScript")
    assert script["aliases"] == [script["urn"].replace("$cloudflare:index/workersScript:WorkersScript::",
                                                       "$cloudflare:index/workerScript:WorkerScript::")]


def test_alias_urns_follow_pulumis_alias_rules():
    import pulumi

    from edgeport.plan import _alias_spec, _Registry

    reg = _Registry("prod")
    kid = ("t:m:Kid", "shop-kid")
    reg.parents[kid] = ("edgeport:index:EdgeApp", "shop")
    reg.aliases[kid] = [_alias_spec(a) for a in (
        pulumi.Alias(name="old-kid"), pulumi.Alias(type_="t:m:OldKid"), pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE),
        pulumi.Alias(stack="staging"), "urn:pulumi:prod::edgeport::t:m:Kid::given", pulumi.Alias())]
    assert reg.urn(kid) == "urn:pulumi:prod::edgeport::edgeport:index:EdgeApp$t:m:Kid::shop-kid"
    assert reg.alias_urns(kid) == sorted([
        "urn:pulumi:prod::edgeport::edgeport:index:EdgeApp$t:m:Kid::old-kid",
        "urn:pulumi:prod::edgeport::edgeport:index:EdgeApp$t:m:OldKid::shop-kid",
        "urn:pulumi:prod::edgeport::t:m:Kid::shop-kid",
        "urn:pulumi:staging::edgeport::edgeport:index:EdgeApp$t:m:Kid::shop-kid",
        "urn:pulumi:prod::edgeport::t:m:Kid::given",
    ])  # Alias() with every field left at its sentinel names the resource as it is: no alias


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


def _project_with(tmp_path, change):
    doc = dev_raw()
    change(doc["config"]["edgeport:app"])
    write_project(tmp_path, {"t": yaml.safe_dump(doc)})


def _with(tmp_path, change):
    _project_with(tmp_path, change)
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


def test_a_worker_config_over_5_kb_plans_since_it_rides_in_the_script(tmp_path):
    """The config once travelled as a JSON binding, limited to 5 KB per variable; it is now part of the script,
    whose size budget applies."""
    def change(app):
        keys = [{"kty": "RSA", "kid": f"k{i}", "e": "AQAB",
                 "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}
                for i in range(12)]
        app["patterns"].append({"name": "many-keys", "type": "jwt-auth", "routes": ["/keys/*"], "algorithms": ["RS256"],
                                "jwks": {"keys": keys}})
    p = _with(tmp_path, change)
    assert p.returncode == 0, p.stderr
    assert "binding would be" not in p.stderr


@pytest.mark.parametrize("command", ["validate", "build"])
def test_platform_limits_are_caught_before_anything_builds(tmp_path, command):
    """validate and build refuse what plan refuses (#11): the quotas are static, so every command checks them."""
    def change(app):
        app["targets"]["lambda-edge"]["functions"] = {"viewer-request": {"memory": 512}}
    _project_with(tmp_path, change)
    p = subprocess.run(EDGEPORT + [command, "--stack", "t"], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                       env=credential_free_env())
    assert p.returncode == 2, p.stderr
    assert "stacks/Pulumi.t.yaml:" in p.stderr and "512 MB exceeds the 128 MB" in p.stderr
    assert not (tmp_path / ".edgeport" / "build" / "t").exists(), "nothing is built for a stack over a limit"


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
    assert [b["type"] for b in script["inputs"]["bindings"]] == ["secret_text", "kv_namespace", "durable_object_namespace"]
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


def test_dns_true_plans_a_proxied_originless_record(tmp_path):
    def change(app):
        app["targets"]["cloudflare"]["dns"] = True
    _project_with(tmp_path, change)
    p = plan(tmp_path, "t", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    [record] = [r for r in doc["resources"] if r["type"] == "cloudflare:index/dnsRecord:DnsRecord"]
    assert record["target"] == "cloudflare" and record["name"] == "shop-cloudflare-dns"
    assert {k: record["inputs"][k] for k in ("zoneId", "name", "type", "content", "proxied", "ttl")} == {
        "zoneId": "0" * 32, "name": "shop.example.com", "type": "AAAA", "content": "100::", "proxied": True, "ttl": 1}
    # the SDK's Alias(type_=...) from its 5.x name: same name, old type
    assert record["aliases"] == [record["urn"].replace("$cloudflare:index/dnsRecord:DnsRecord::", "$cloudflare:index/record:Record::")]
    [dns] = [f for f in doc["prerequisites"] if f["check"] == "dns"]
    assert dns["level"] == "skipped" and "edgeport creates a proxied AAAA 100:: record" in dns["message"]


# The program as `pulumi up` runs it: the declaration from the Pulumi config, the stack file only for line numbers and
# plain-text secrets (edgeport.program._declared), under the mocks in a fresh interpreter.
_PULUMI_UP = r"""
import json, sys
from pathlib import Path
import pulumi, yaml
from pulumi.runtime.mocks import _sync_await
from pulumi.runtime.stack import run_pulumi_func
from edgeport.errors import SpecError
from edgeport.plan import recording_mocks
from edgeport.program import program
project, stack = Path(sys.argv[1]), sys.argv[2]
path = (project / "stacks" / f"Pulumi.{stack}.yaml").resolve()
config = yaml.safe_load(path.read_text())["config"]
reads, real = [], Path.read_text
def counting(self, *a, **kw):
    reads.append(Path(self).resolve() == path)
    return real(self, *a, **kw)
Path.read_text = counting
pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
pulumi.runtime.set_mocks(recording_mocks(), project="edgeport", stack=stack, preview=False)
issues = []
def run():
    try:
        program(project)
    except SpecError as e:
        issues.extend(i.format() for i in e.issues)
_sync_await(run_pulumi_func(run))
print(json.dumps({"issues": issues, "reads": sum(reads)}))
"""


def test_pulumi_up_reads_the_stack_file_once_for_lines_and_plain_text_secrets(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("leeway: 30", "leeway: 9999")
    text += "  edgeport:jwt_hmac: plain-text\n"
    write_project(tmp_path, {"t": text})
    out = subprocess.run([sys.executable, "-c", _PULUMI_UP, str(tmp_path), "t"], capture_output=True, text=True,
                         timeout=180, env=credential_free_env())
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    lines = text.splitlines()
    leeway = next(i for i, line in enumerate(lines, 1) if "leeway: 9999" in line)
    assert got["issues"][0].startswith(f"stacks/Pulumi.t.yaml:{leeway}: edgeport:app.patterns[0].leeway:"), got
    assert got["issues"][1].startswith(f"stacks/Pulumi.t.yaml:{len(lines)}: edgeport:jwt_hmac:"), got
    assert len(got["issues"]) == 2 and got["reads"] == 1, got
