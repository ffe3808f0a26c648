"""Day-2 operations against local recording stand-ins of the Cloudflare and Vercel APIs (api_recorders.py) and
moto in server mode for AWS: `experiment get|set` (documented request shapes, preflight before any write, partial
writes reported with the way back), `status`, `logs`, credentials never printed, and the API client's retry,
timeout and error paths."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from api_recorders import CloudflareApi, VercelApi
from conftest import credential_free_env, write_project
from edgeport.ops import MissingCredentials, OpsError
from edgeport.ops.http import ApiError, JsonApi
from edgeport.spec import parse_app
from edgeport.targets.cloudflare import ops as cf_ops
from edgeport.targets.vercel import ops as vc_ops

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]
CF_TOKEN = "cf-token-must-never-be-printed-0123"
VC_TOKEN = "vc-token-must-never-be-printed-4567"
ACCOUNT, ZONE, TEAM = "a" * 32, "b" * 32, "team_abc123"
STACK_YAML = f"""
config:
  edgeport:app:
    name: shop
    origins: {{default: "https://origin.example.com", beta: "https://beta.origin.example.com"}}
    targets:
      cloudflare: {{accountId: "{ACCOUNT}", zoneId: "{ZONE}", hostname: shop.example.com}}
      vercel: {{teamId: {TEAM}, projectName: shop-edge}}
    patterns:
      - name: landing
        type: ab-test
        routes: ["/landing", "/landing/*"]
        liveTtl: 30
        variants:
          - {{name: control, weight: 50}}
          - {{name: redesign, weight: 50, origin: beta}}
      - name: fixed
        type: ab-test
        routes: ["/fixed/*"]
        live: false
        variants: [{{name: x, weight: 50}}, {{name: y, weight: 50}}]
"""
APP = {
    "name": "shop",
    "origins": {"default": "https://origin.example.com", "beta": "https://beta.origin.example.com"},
    "targets": {"cloudflare": {"accountId": ACCOUNT, "zoneId": ZONE, "hostname": "shop.example.com"},
                "vercel": {"teamId": TEAM, "projectName": "shop-edge"}},
    "patterns": [{"name": "landing", "type": "ab-test", "routes": ["/landing", "/landing/*"], "liveTtl": 30,
                  "variants": [{"name": "control", "weight": 50}, {"name": "redesign", "weight": 50, "origin": "beta"}]}],
}
CF_KEY, VC_KEY = "ab/landing", "ab-landing"


@pytest.fixture
def cf():
    api = CloudflareApi(CF_TOKEN, ACCOUNT, ZONE)
    for i in range(130):  # the stack's namespace is on the second page of 100
        api.add_namespace(f"other-{i}")
    api.add_namespace("shop-prod-live", {CF_KEY: '{"control":50,"redesign":50}'})
    yield api
    api.stop()


@pytest.fixture
def vc():
    api = VercelApi(VC_TOKEN, team=TEAM)
    api.add_config("someone-else")
    api.add_config("shop-prod")
    yield api
    api.stop()


def env_for(cf=None, vc=None, **extra) -> dict[str, str]:
    env = credential_free_env()
    env.pop("VERCEL_API_TOKEN", None)
    if cf:
        env.update(CLOUDFLARE_API_TOKEN=CF_TOKEN, EDGEPORT_CLOUDFLARE_API=cf.base)
    if vc:
        env.update(VERCEL_API_TOKEN=VC_TOKEN, EDGEPORT_VERCEL_API=vc.url)
    env.update(extra)
    return env


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path, {"prod": STACK_YAML})


def run(project, *args, env):
    return subprocess.run([*EDGEPORT, *args, "--project-dir", str(project)], capture_output=True, text=True, env=env, timeout=120)


def app_and_pattern():
    app = parse_app(APP)
    return app, app.patterns[0]


# ---------------------------------------------------------------- the documented request shapes


def test_cloudflare_write_is_a_put_of_the_raw_value_to_the_percent_encoded_key(cf):
    app, p = app_and_pattern()
    out = cf_ops.live_set(app, "prod", p, {"control": 70, "redesign": 30}, env_for(cf=cf))
    assert out["written"] and out["before"] == {"control": 50, "redesign": 50} and out["key"] == CF_KEY
    [put] = cf.calls("PUT")
    ns = next(i for i, n in cf.namespaces.items() if n["title"] == "shop-prod-live")
    # developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/values/methods/update/
    assert put["path"] == f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces/{ns}/values/ab%2Flanding"
    assert put["headers"]["authorization"] == f"Bearer {CF_TOKEN}"
    assert put["headers"]["content-type"].startswith("text/plain")
    assert put["body"] == b'{"control":70,"redesign":30}'
    lists = [r for r in cf.calls("GET") if r["path"].endswith("/storage/kv/namespaces")]
    assert [(r["query"]["page"], r["query"]["per_page"]) for r in lists] == [("1", "100"), ("2", "100")]  # 131 namespaces
    assert cf.namespaces[ns]["values"][CF_KEY] == b'{"control":70,"redesign":30}'


def test_cloudflare_read_of_a_missing_key_is_nothing_stored_not_an_error(cf):
    app, p = app_and_pattern()
    ns = next(i for i, n in cf.namespaces.items() if n["title"] == "shop-prod-live")
    del cf.namespaces[ns]["values"][CF_KEY]
    got = cf_ops.live_get(app, "prod", p, env_for(cf=cf))
    assert got["missing"] and got["value"] is None


def test_cloudflare_without_the_namespace_says_to_deploy_first(cf):
    app, p = app_and_pattern()
    with pytest.raises(OpsError, match="no KV namespace titled 'shop-staging-live'") as e:
        cf_ops.live_get(app, "staging", p, env_for(cf=cf))
    assert "pulumi up -s staging" in e.value.hint


def test_vercel_write_is_one_upsert_in_a_batch_patch_with_the_team(vc):
    app, p = app_and_pattern()
    out = vc_ops.live_set(app, "prod", p, {"control": 10, "redesign": 90}, env_for(vc=vc))
    assert out["written"] and out["before"] is None
    [patch] = vc.calls("PATCH")
    cid = next(i for i, c in vc.configs.items() if c["slug"] == "shop-prod")
    # vercel.com/docs/rest-api/edge-config/update-edge-config-items-in-batch
    assert patch["path"] == f"/v1/edge-config/{cid}/items" and patch["query"] == {"teamId": TEAM}
    assert json.loads(patch["body"]) == {"items": [{"operation": "upsert", "key": VC_KEY, "value": {"control": 10, "redesign": 90}}]}
    assert patch["headers"]["authorization"] == f"Bearer {VC_TOKEN}"
    assert all(r["query"].get("teamId") == TEAM for r in vc.requests)
    assert vc_ops.live_get(app, "prod", p, env_for(vc=vc))["value"] == {"control": 10, "redesign": 90}


def test_vercel_two_edge_configs_with_the_stack_s_name_is_an_error_naming_both(vc):
    app, p = app_and_pattern()
    vc.add_config("shop-prod")
    with pytest.raises(OpsError, match="2 Edge Configs are named 'shop-prod'"):
        vc_ops.live_get(app, "prod", p, env_for(vc=vc))


def test_missing_tokens_name_the_variable_and_the_permission():
    app, p = app_and_pattern()
    with pytest.raises(MissingCredentials, match="no CLOUDFLARE_API_TOKEN") as e:
        cf_ops.live_get(app, "prod", p, env_for())
    assert "Workers KV Storage Read" in e.value.hint
    with pytest.raises(MissingCredentials, match="no VERCEL_API_TOKEN"):
        vc_ops.live_set(app, "prod", p, {"control": 1, "redesign": 1}, env_for())


# ---------------------------------------------------------------- retries, timeouts, errors


def test_429_with_retry_after_is_retried_and_then_succeeds(cf):
    slept = []
    api = JsonApi(cf.base, CF_TOKEN, name="x", sleep=slept.append)
    cf.fail(2, 429, {"Retry-After": "2"})
    api.request("GET", f"/accounts/{ACCOUNT}/workers/scripts")
    assert api.attempts == 3 and slept == [2.0, 2.0]


def test_retry_after_is_capped_and_retries_are_bounded(cf):
    slept = []
    api = JsonApi(cf.base, CF_TOKEN, name="the Cloudflare API", retries=2, sleep=slept.append)
    cf.fail(5, 503, {"Retry-After": "3600"})
    with pytest.raises(ApiError, match="HTTP 503 from the Cloudflare API") as e:
        api.request("GET", f"/accounts/{ACCOUNT}/workers/scripts")
    assert e.value.status == 503 and api.attempts == 3 and slept == [5.0, 5.0]


def test_a_client_error_is_not_retried_and_carries_the_api_s_message(cf):
    api = JsonApi(cf.base, CF_TOKEN, name="the Cloudflare API", sleep=lambda s: None)
    with pytest.raises(ApiError, match=r"HTTP 400 .*No route for that URI \(code 7003\)"):
        api.request("GET", "/nowhere")
    assert api.attempts == 1


def test_a_silent_server_times_out_and_gives_up_after_the_retries(cf):
    cf.delay = 3.0
    api = JsonApi(cf.base, CF_TOKEN, name="the Cloudflare API", timeout=0.3, retries=1, sleep=lambda s: None)
    with pytest.raises(ApiError, match="no answer from the Cloudflare API .* after 2 attempt"):
        api.request("GET", f"/accounts/{ACCOUNT}/workers/scripts")
    assert api.attempts == 2


def test_the_overall_deadline_bounds_the_waits(cf):
    slept = []
    api = JsonApi(cf.base, CF_TOKEN, name="the Cloudflare API", retries=10, deadline=4.0, sleep=slept.append)
    cf.fail(20, 429, {"Retry-After": "3"})
    with pytest.raises(ApiError, match="still not answering after 4 s"):
        api.request("GET", f"/accounts/{ACCOUNT}/workers/scripts")
    assert sum(slept) <= 4.0


def test_refused_connections_are_retried_then_reported(cf):
    base = cf.base
    cf.stop()
    api = JsonApi(base, CF_TOKEN, name="the Cloudflare API", retries=2, sleep=lambda s: None)
    with pytest.raises(ApiError, match="no answer .* after 3 attempt"):
        api.request("GET", "/accounts/x/workers/scripts")


def test_the_token_is_not_in_the_client_s_repr():
    assert CF_TOKEN not in repr(JsonApi("https://api.example", CF_TOKEN, name="x"))


# ---------------------------------------------------------------- experiment set/get through the CLI


def test_set_writes_every_target_and_says_when_it_is_in_effect(project, cf, vc):
    r = run(project, "experiment", "set", "landing", "--stack", "prod", "--ratios", "control=70,redesign=30",
            env=env_for(cf, vc))
    assert r.returncode == 0, r.stderr
    assert "landing: control=70 redesign=30 (70% / 30%)" in r.stdout
    assert "cloudflare   written: Workers KV ab/landing (was control=50 redesign=50" in r.stdout
    assert "vercel       written: Edge Config ab-landing (was nothing)" in r.stdout
    # KV's up-to-60 s propagation + liveTtl 30; Edge Config's few seconds (10) + 30.
    assert "within 90 s" in r.stdout and "within 40 s" in r.stdout
    assert len(cf.calls("PUT")) == 1 and len(vc.calls("PATCH")) == 1
    assert CF_TOKEN not in r.stdout + r.stderr and VC_TOKEN not in r.stdout + r.stderr
    g = run(project, "experiment", "get", "landing", "--stack", "prod", "--json", env=env_for(cf, vc))
    got = json.loads(g.stdout)
    assert g.returncode == 0 and [t["effective"] for t in got["targets"]] == [{"control": 70, "redesign": 30}] * 2


def test_a_target_failing_its_preflight_means_nothing_is_written_anywhere(project, cf):
    r = run(project, "experiment", "set", "landing", "--stack", "prod", "--ratios", "control=70,redesign=30", "--json",
            env=env_for(cf))  # no VERCEL_API_TOKEN
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["written"] == [] and not cf.calls("PUT")
    vercel = next(t for t in out["targets"] if t["target"] == "vercel")
    assert not vercel["ok"] and "no VERCEL_API_TOKEN" in vercel["error"] and "export VERCEL_API_TOKEN" in vercel["hint"]
    assert "nothing was written" in r.stderr


def test_a_write_failing_after_another_succeeded_says_where_and_how_to_undo(project, cf, vc):
    # The preflight passes (list + item read); the write's PATCH fails.
    orig_answer = vc.answer

    def answer(seen):
        if seen["method"] == "PATCH":
            return 500, vc.failure(500)
        return orig_answer(seen)

    vc.answer = answer
    r = run(project, "experiment", "set", "landing", "--stack", "prod", "--ratios", "control=70,redesign=30", "--json",
            env=env_for(cf, vc))
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["written"] == ["cloudflare"]
    assert out["restore"] == ("edgeport experiment set landing --stack prod --ratios control=50,redesign=50 "
                              "--target cloudflare")
    assert "written on cloudflare only" in r.stderr and "HTTP 500" in json.dumps(out["targets"])


def test_dry_run_reads_everything_and_writes_nothing(project, cf, vc):
    r = run(project, "experiment", "set", "landing", "--stack", "prod", "--ratios", "control=0,redesign=100",
            "--dry-run", env=env_for(cf, vc))
    assert r.returncode == 0 and "would write" in r.stdout and "dry run: nothing written" in r.stdout
    assert not cf.calls("PUT") and not vc.calls("PATCH")


@pytest.mark.parametrize("ratios, message", [
    ("control=70,nope=30", "'nope' is not a variant of landing (variants: control, redesign)"),
    ("control=70", "give every variant of landing a weight (missing: redesign"),
    ("control=-1,redesign=2", "the weight of control must be a finite number >= 0"),
    ("control=0,redesign=0", "at least one weight must be above 0"),
    ("control=abc,redesign=1", "the weight of control must be a number"),
    ("control=1,control=2,redesign=1", "control is given twice"),
    ("control,redesign=1", "'control' is not VARIANT=WEIGHT"),
])
def test_bad_ratios_are_refused_before_any_request(project, cf, vc, ratios, message):
    r = run(project, "experiment", "set", "landing", "--stack", "prod", "--ratios", ratios, env=env_for(cf, vc))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not cf.requests and not vc.requests


def test_a_pattern_without_live_settings_is_named_with_the_fix(project):
    r = run(project, "experiment", "get", "fixed", "--stack", "prod", env=env_for())
    assert r.returncode == 2 and "'fixed' has no live settings (set `live: true`" in r.stderr
    r = run(project, "experiment", "get", "nope", "--stack", "prod", env=env_for())
    assert r.returncode == 2 and "patterns with live settings: landing" in r.stderr


def test_get_shows_a_stored_value_the_edge_ignores_and_what_applies_instead(project, cf, vc):
    ns = next(i for i, n in cf.namespaces.items() if n["title"] == "shop-prod-live")
    cf.namespaces[ns]["values"][CF_KEY] = b'{"control": 50, "gone": 50}'
    r = run(project, "experiment", "get", "landing", "--stack", "prod", "--target", "cloudflare", env=env_for(cf, vc))
    assert r.returncode == 0
    assert "the stored value is ignored ('gone' is not a variant of landing" in r.stdout
    assert not vc.requests


# ---------------------------------------------------------------- status and logs


def test_status_compares_what_is_live_with_the_declaration_and_never_shows_env_values(project, cf, vc):
    cf.scripts.append({"id": "shop-prod", "modified_on": "2026-12-01T00:00:00Z", "migration_tag": None})
    cf.routes += [{"id": "r1", "pattern": "shop.example.com/fixed/*", "script": "shop-prod"},
                  {"id": "r2", "pattern": "shop.example.com/old/*", "script": "shop-prod"}]
    vc.projects["prj_1"] = {"id": "prj_1", "name": "shop-edge"}
    vc.deployments.append({"uid": "dpl_1", "url": "shop-edge-abc.vercel.app", "state": "READY", "created": 5,
                           "projectId": "prj_1", "target": "production"})
    vc.envs["prj_1"] = [{"key": "OTHER", "value": "SECRET-ENV-VALUE", "type": "encrypted", "target": ["production"]}]
    r = run(project, "status", "--stack", "prod", "--json", env=env_for(cf, vc))
    out = json.loads(r.stdout)
    assert r.returncode == 3, r.stderr
    cft = next(t for t in out["targets"] if t["target"] == "cloudflare")
    # worker_routes(): "/landing" and "/landing/*" share one route "shop.example.com/landing*"
    assert cft["script"]["deployed"] and "route shop.example.com/landing* is declared but not live" in cft["drift"]
    assert "route shop.example.com/old/* runs shop-prod but is not declared" in cft["drift"]
    vct = next(t for t in out["targets"] if t["target"] == "vercel")
    assert vct["deployment"]["id"] == "dpl_1" and vct["env"] == ["OTHER"]
    assert "environment variable EDGE_CONFIG is declared but not set" in vct["drift"]
    assert "SECRET-ENV-VALUE" not in r.stdout and VC_TOKEN not in r.stdout + r.stderr


def test_status_in_sync_exits_0(project, cf, vc):
    cf.scripts.append({"id": "shop-prod", "modified_on": "x", "migration_tag": None})
    cf.routes += [{"id": f"r{i}", "pattern": f"shop.example.com{p}", "script": "shop-prod"}
                  for i, p in enumerate(["/landing*", "/fixed*"])]
    r = run(project, "status", "--stack", "prod", "--target", "cloudflare", env=env_for(cf, vc))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in sync with the declaration" in r.stdout


def test_logs_merge_vercel_runtime_logs_and_say_how_to_tail_cloudflare(project, cf, vc):
    now = int(time.time() * 1000)
    vc.projects["prj_1"] = {"id": "prj_1", "name": "shop-edge"}
    vc.deployments.append({"uid": "dpl_1", "url": "u", "state": "READY", "created": 5, "projectId": "prj_1", "target": "production"})
    vc.logs["dpl_1"] = [
        {"level": "info", "message": "edgeport: landing -> redesign", "rowId": "1", "source": "edge-middleware",
         "timestampInMs": now - 5000, "domain": "d", "messageTruncated": False, "requestMethod": "GET",
         "requestPath": "/landing", "responseStatusCode": 200},
        {"level": "info", "message": "too old", "rowId": "2", "source": "edge-middleware", "timestampInMs": now - 3_600_000,
         "domain": "d", "messageTruncated": False, "requestMethod": "GET", "requestPath": "/", "responseStatusCode": 200},
        {"level": "error", "message": "edgeport: live setting unavailable", "rowId": "3", "source": "edge-middleware",
         "timestampInMs": now - 9000, "domain": "d", "messageTruncated": False, "requestMethod": "GET",
         "requestPath": "/landing", "responseStatusCode": 200},
    ]
    r = run(project, "logs", "--stack", "prod", "--since", "10m", "--json", env=env_for(cf, vc))
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["message"] for e in events] == ["edgeport: live setting unavailable", "edgeport: landing -> redesign"]
    assert "npx wrangler tail shop-prod" in r.stderr
    r = run(project, "logs", "--stack", "prod", "--since", "10m", "--filter", "redesign", "--target", "vercel", env=env_for(cf, vc))
    assert r.stdout.count("\n") == 1 and "landing -> redesign" in r.stdout


def test_logs_bad_since_is_a_usage_error(project):
    r = run(project, "logs", "--stack", "prod", "--since", "yesterday", env=env_for())
    assert r.returncode == 2 and "neither a duration" in r.stderr
