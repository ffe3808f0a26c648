"""Day-2 operations on Lambda@Edge (edgeport.targets.lambda_edge.ops) against moto in server mode: boto3 is pointed
at it through AWS_ENDPOINT_URL, by way of tests/aws_proxy.py, which counts the calls, answers chosen ones with AWS
errors (throttling, the replicated-function refusal, access denied) and keeps the Lambda associations moto drops.

Covered: SSM live settings (get, set, dry run, missing, errors); status with real CloudFront distributions (functions
by tag, versions, associations per behaviour, drift against the declaration, an existing distribution); logs from
three Regions merged by time (paginated, throttling retried, window and text filter, Regions without EC2); teardown
(associated, deletable, deleted, replicas-remain); missing credentials; the CLI commands end to end."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import boto3
import pytest

from aws_proxy import Proxy
from conftest import write_project
from edgeport.local.aws import LocalAws
from edgeport.ops import MissingCredentials, OpsError
from edgeport.spec import parse_app
from edgeport.targets.lambda_edge import ops

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]
APP = {
    "name": "shop", "origins": {"default": "https://origin.example.com", "beta": "https://beta.example.com"},
    "targets": {"lambda-edge": {}},
    "patterns": [
        {"name": "auth", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "k"},
        {"name": "landing", "type": "ab-test", "routes": ["/landing/*"],
         "variants": [{"name": "control", "weight": 50}, {"name": "redesign", "weight": 50, "origin": "beta"}]},
    ],
}
FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def aws():
    a = LocalAws().start()
    yield a
    a.stop()


@pytest.fixture(scope="module")
def proxy(aws):
    p = Proxy(aws.endpoint)
    yield p
    p.close()


@pytest.fixture
def env(proxy):
    proxy.failures.clear()
    proxy.calls.clear()
    return {**FAKE, "AWS_ENDPOINT_URL": proxy.url}


def app(**lambda_edge):
    spec = copy.deepcopy(APP)
    spec["targets"]["lambda-edge"] = lambda_edge
    return parse_app(spec)


def client(proxy, service: str, region: str = "us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=proxy.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _zip(text: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", f"exports.handler = async (e) => e.Records[0].cf.request; // {text}")
    return buf.getvalue()


def make_function(proxy, name: str, trigger: str, stack: str, app_name: str = "shop") -> str:
    """A published function tagged as edgeport tags them; returns the ARN of version 1."""
    iam, lam = client(proxy, "iam"), client(proxy, "lambda")
    try:
        role = iam.create_role(RoleName="edge", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="edge")["Role"]["Arn"]
    fn = lam.create_function(FunctionName=name, Runtime="nodejs22.x", Role=role, Handler="index.handler",
                             Code={"ZipFile": _zip()}, Publish=True,
                             Tags={"edgeport:app": app_name, "edgeport:stack": stack, "edgeport:trigger": trigger})
    return f"{ops._base(fn['FunctionArn'])}:{fn['Version']}"


def publish(proxy, name: str) -> str:
    fn = client(proxy, "lambda").update_function_code(FunctionName=name, ZipFile=_zip(str(time.time_ns())), Publish=True)
    return f"{ops._base(fn['FunctionArn'])}:{fn['Version']}"


def make_distribution(proxy, default: dict[str, str], behaviours: dict[str, dict[str, str]] | None = None) -> str:
    """A distribution whose default behaviour and path behaviours run {event: versioned ARN}."""
    def assoc(m):
        return {"Quantity": len(m), "Items": [{"LambdaFunctionARN": arn, "EventType": ev} for ev, arn in m.items()]}

    base = {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}
    config = {
        "CallerReference": str(time.time_ns()), "Comment": "edgeport shop", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {**base, "LambdaFunctionAssociations": assoc(default)},
    }
    if behaviours:
        config["CacheBehaviors"] = {"Quantity": len(behaviours), "Items": [
            {**base, "PathPattern": p, "LambdaFunctionAssociations": assoc(m)} for p, m in behaviours.items()]}
    return client(proxy, "cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


# ---------------------------------------------------------------- live settings, errors, credentials


def test_live_settings_get_set_dry_run_and_missing(proxy, env):
    a = app()
    p = a.patterns[1]
    key = "/edgeport/shop/prod/ab/landing"
    got = ops.live_get(a, "prod", p, env)
    assert got == {"store": "SSM parameter", "key": key, "region": "us-east-1", "value": None, "raw": None,
                   "version": None, "missing": True}
    dry = ops.live_set(a, "prod", p, {"control": 10, "redesign": 90}, env, dry_run=True)
    assert dry["written"] is False and dry["before"] is None and ops.live_get(a, "prod", p, env)["missing"]
    assert proxy.calls["PutParameter"] == 0
    out = ops.live_set(a, "prod", p, {"control": 10, "redesign": 90}, env)
    assert out["written"] and out["before"] is None and out["after"] == {"control": 10, "redesign": 90} and out["version"] == 1
    assert client(proxy, "ssm").get_parameter(Name=key)["Parameter"]["Value"] == '{"control":10,"redesign":90}'
    again = ops.live_set(a, "prod", p, {"control": 50, "redesign": 50}, env)
    assert again["before"] == {"control": 10, "redesign": 90} and again["version"] == 2
    got = ops.live_get(a, "prod", p, env)
    assert got["value"] == {"control": 50, "redesign": 50} and got["raw"] == '{"control":50,"redesign":50}'
    assert got["version"] == 2 and got["missing"] is False
    # A value someone wrote by hand that is not JSON comes back as text.
    client(proxy, "ssm").put_parameter(Name=key, Value="oops", Type="String", Overwrite=True)
    assert ops.live_get(a, "prod", p, env)["value"] == "oops"


def test_aws_errors_name_the_operation_and_code_and_calls_are_bounded(proxy, env):
    a = app()
    proxy.fail("PutParameter", "AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized "
               "to perform: ssm:PutParameter", times=None)
    with pytest.raises(OpsError, match=r"PutParameter /edgeport/shop/err/ab/landing: AccessDeniedException: User") as e:
        ops.live_set(a, "err", a.patterns[1], {"control": 1, "redesign": 1}, env)
    assert "permission for PutParameter" in e.value.hint and "testing" not in str(e.value)
    assert proxy.calls["PutParameter"] == 1, "an access error is not retried"
    c = ops._client("logs", "eu-west-1", env)
    assert c.meta.endpoint_url == proxy.url and c.meta.region_name == "eu-west-1"
    assert c.meta.config.retries == {"total_max_attempts": 5, "mode": "standard"}
    assert (c.meta.config.connect_timeout, c.meta.config.read_timeout) == (5, 20)


def test_missing_credentials_name_the_fix(proxy, monkeypatch, tmp_path):
    proxy.calls.clear()
    for k in list(os.environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url}
    a = app()
    for call in (lambda: ops.live_get(a, "prod", a.patterns[1], env), lambda: ops.status(a, "prod", env),
                 lambda: ops.logs(a, "prod", env, 0, None, None), lambda: ops.teardown(a, "prod", env)):
        with pytest.raises(MissingCredentials, match="lambda-edge: no AWS credentials") as e:
            call()
        assert "AWS_PROFILE" in e.value.hint and "AWS_ACCESS_KEY_ID" in e.value.hint and "OIDC" in e.value.hint
    with pytest.raises(MissingCredentials, match="unusable: ProfileNotFound"):
        ops.live_get(a, "prod", a.patterns[1], {**env, "AWS_PROFILE": "nope"})
    with pytest.raises(MissingCredentials, match="incomplete"):
        ops.status(a, "prod", {**env, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"})
    assert sum(proxy.calls.values()) == 0, "nothing reached AWS"


# ---------------------------------------------------------------- status


def test_status_finds_functions_by_tag_and_distributions_by_association_and_reports_drift(proxy, env):
    vr = make_function(proxy, "st-shop-viewer-request", "viewer-request", stack="st")
    orq = make_function(proxy, "st-shop-origin-request", "origin-request", stack="st")
    make_function(proxy, "st-other-app", "viewer-request", stack="st", app_name="someone-else")
    make_function(proxy, "st-other-stack", "viewer-request", stack="st2")
    did = make_distribution(proxy, {"viewer-request": vr}, {
        "/landing/*": {"viewer-request": vr, "origin-request": orq},
        "/extra/*": {"viewer-request": vr, "origin-request": orq}})
    vr2 = publish(proxy, "st-shop-viewer-request")  # published but not associated: a deploy that did not finish
    assert vr2.endswith(":2")
    out = ops.status(app(), "st", env)
    assert [(f["name"], f["trigger"], f["versions"], f["latest"], f["associated"]) for f in out["functions"]] == [
        ("st-shop-origin-request", "origin-request", ["1"], "1", True),
        ("st-shop-viewer-request", "viewer-request", ["1", "2"], "2", True)]
    [d] = out["distributions"]
    assert d["id"] == did and d["status"] in ("InProgress", "Deployed") and d["domain"].endswith(".cloudfront.net")
    assert d["aliases"] == [] and d["enabled"] is True
    assert {"behaviour": "*", "event": "viewer-request", "arn": vr, "function": "st-shop-viewer-request",
            "version": "1"} in d["associations"]
    assert sorted((a["behaviour"], a["event"]) for a in d["associations"]) == [
        ("*", "viewer-request"), ("/extra/*", "origin-request"), ("/extra/*", "viewer-request"),
        ("/landing/*", "origin-request"), ("/landing/*", "viewer-request")]
    # The stack declares origin-response too (the A/B test sets its cookie there) and a guard on /api/*.
    assert out["declared"]["triggers"] == ["viewer-request", "origin-request", "origin-response"]
    assert out["declared"]["distribution"] is None
    drift = out["drift"]
    assert "no function of the stack is tagged for trigger origin-response (not deployed yet?)" in drift
    assert "trigger origin-response is declared but no distribution runs the stack's function for it" in drift
    assert f"distribution {did}: behaviour /api/* does not run the stack's viewer-request function" in drift
    assert f"distribution {did}: behaviour /extra/* runs the stack's function on origin-request, which the stack does not declare there" in drift
    assert (f"distribution {did}: behaviour /landing/* runs version 1 of st-shop-viewer-request, whose latest published "
            "version is 2") in drift
    assert not any("/landing/* does not run" in x for x in drift)


def test_status_of_an_existing_distribution(proxy, env):
    vr = make_function(proxy, "ex-shop-viewer-request", "viewer-request", stack="ex")
    orq = make_function(proxy, "ex-shop-origin-request", "origin-request", stack="ex")
    ors = make_function(proxy, "ex-shop-origin-response", "origin-response", stack="ex")
    did = make_distribution(proxy, {"viewer-request": vr}, {
        "/landing/*": {"viewer-request": vr, "origin-request": orq, "origin-response": ors},
        "/static/*": {"viewer-request": vr}})  # the guard runs on every behaviour of a distribution edgeport edits
    out = ops.status(app(existingDistributionId=did), "ex", env)
    assert out["declared"]["distribution"] == did
    assert {"behaviour": "every", "event": "viewer-request"} in out["declared"]["associations"]
    assert [d["id"] for d in out["distributions"]] == [did]
    assert [x for x in out["drift"] if "InProgress" not in x] == []  # in sync (moto may still say InProgress)
    # Declared elsewhere: the distribution found is not the declared one, which does not exist.
    out = ops.status(app(existingDistributionId="E2QWRUHEXAMPLE"), "ex", env)
    assert "distribution E2QWRUHEXAMPLE (existingDistributionId) was not found" in out["drift"]
    assert f"distribution {did} runs the stack's functions but is not the declared E2QWRUHEXAMPLE" in out["drift"]


# ---------------------------------------------------------------- logs across Regions


def test_logs_merge_every_region_by_time_with_pagination_and_throttling(proxy, env, monkeypatch):
    make_function(proxy, "lg-shop-viewer-request", "viewer-request", stack="lg")
    group = "/aws/lambda/us-east-1.lg-shop-viewer-request"
    t0 = int(time.time() * 1000) - 60_000
    regions = {"us-east-1": 0, "eu-west-1": 1, "ap-southeast-2": 2}
    for region, offset in regions.items():
        c = client(proxy, "logs", region)
        c.create_log_group(logGroupName=group)
        for s in ("a", "b"):  # two streams per group, events alternating between them
            c.create_log_stream(logGroupName=group, logStreamName=f"{region}/{s}")
            c.put_log_events(logGroupName=group, logStreamName=f"{region}/{s}", logEvents=[
                {"timestamp": t0 + i * 30 + offset * 10,
                 "message": f'{region} #{i} variant="{"redesign" if i % 4 in (1, 2) else "control"}"'}
                for i in range(40) if (i % 2 == 0) == (s == "a")])
        # A longer name sharing the prefix, and another function's group: neither is read.
        c.create_log_group(logGroupName=group + "-other")
        c.create_log_stream(logGroupName=group + "-other", logStreamName="x")
        c.put_log_events(logGroupName=group + "-other", logStreamName="x", logEvents=[{"timestamp": t0, "message": "other"}])
        c.create_log_group(logGroupName="/aws/lambda/us-east-1.unrelated")
    monkeypatch.setattr(ops, "LOG_PAGE", 7)
    proxy.fail("FilterLogEvents", "ThrottlingException", "Rate exceeded", times=2)
    out = ops.logs(app(), "lg", env, t0, None, None)
    # 3 groups x 40 events at 7 a page: 6 pages each, plus the two throttled calls botocore retried.
    assert proxy.calls["FilterLogEvents"] == 3 * 6 + 2
    assert len(out["events"]) == 120 and {e["region"] for e in out["events"]} == set(regions)
    stamps = [e["timestamp"] for e in out["events"]]
    assert stamps == sorted(stamps)
    assert [e["region"] for e in out["events"][:6]] == ["us-east-1", "eu-west-1", "ap-southeast-2"] * 2
    assert out["events"][0] == {"timestamp": t0, "region": "us-east-1", "group": group, "stream": "us-east-1/a",
                                "message": 'us-east-1 #0 variant="control"'}
    assert sorted(g["region"] for g in out["groups"]) == sorted(regions) and {g["group"] for g in out["groups"]} == {group}
    assert out["regions_source"] == "ec2:DescribeRegions" and out["regions_searched"] > 10
    assert out["regions_failed"] == {} and out["truncated"] == [] and out["functions"] == ["lg-shop-viewer-request"]

    # A window and a text with a double quote (sent as the quoted term variant=, matched exactly here).
    window = ops.logs(app(), "lg", env, t0 + 600, t0 + 900, 'variant="redesign"')
    expected = sorted((t0 + i * 30 + off * 10, r) for r, off in regions.items() for i in range(40)
                      if i % 4 in (1, 2) and t0 + 600 <= t0 + i * 30 + off * 10 <= t0 + 900)
    assert [(e["timestamp"], e["region"]) for e in window["events"]] == expected and expected
    assert ops.filter_pattern('variant="redesign"') == '"variant="' and ops.filter_pattern('"') is None

    # Without ec2:DescribeRegions the Regions come from botocore's endpoint data.
    proxy.fail("DescribeRegions", "UnauthorizedOperation", "You are not authorized to perform this operation.")
    fallback = ops.logs(app(), "lg", env, t0, t0 + 30, "control")
    assert fallback["regions_source"] == "botocore endpoint data"
    assert [e["region"] for e in fallback["events"]] == ["us-east-1", "eu-west-1", "ap-southeast-2"]


def test_logs_fail_when_every_region_fails_and_when_no_function_exists(proxy, env):
    make_function(proxy, "lf-shop-viewer-request", "viewer-request", stack="lf")
    proxy.fail("DescribeLogGroups", "AccessDeniedException", "not authorized to perform logs:DescribeLogGroups", times=None)
    with pytest.raises(OpsError, match="AccessDeniedException: not authorized") as e:
        ops.logs(app(), "lf", env, 0, None, None)
    assert "permission" in e.value.hint
    proxy.failures.clear()
    empty = ops.logs(app(), "nothing-here", env, 0, None, None)
    assert empty["events"] == [] and empty["regions_searched"] == 0 and "no Lambda@Edge function" in empty["note"]


# ---------------------------------------------------------------- teardown


def test_teardown_lists_what_blocks_and_deletes_what_nothing_blocks(proxy, env):
    used = make_function(proxy, "td-shop-viewer-request", "viewer-request", stack="td")
    make_function(proxy, "td-shop-origin-request-old", "origin-request", stack="td")
    replicated = make_function(proxy, "td-shop-origin-response-old", "origin-response", stack="td")
    did = make_distribution(proxy, {}, {"/api/*": {"viewer-request": used}})
    check = ops.teardown(app(), "td", env)
    assert {f["name"]: (f["state"], f["associated_with"]) for f in check["functions"]} == {
        "td-shop-viewer-request": ("associated", [f"{did} /api/* viewer-request (version 1)"]),
        "td-shop-origin-request-old": ("deletable", []), "td-shop-origin-response-old": ("deletable", [])}
    assert check["blocking"] == 1 and any("remove its association" in a for a in check["advice"])
    assert any("--delete deletes them" in a for a in check["advice"])
    assert not any(k.startswith("DeleteFunction") for k in proxy.calls), "a check deletes nothing"

    # AWS refuses one deletion as it does while CloudFront's replicas remain (error code and message as AWS sends them).
    base = ops._base(replicated)
    proxy.fail(f"DeleteFunction:{base}", "InvalidParameterValueException", f"Lambda was unable to delete {replicated} "
               "because it is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas.",
               times=None)
    done = ops.teardown(app(), "td", env, delete=True)
    assert {f["name"]: f["state"] for f in done["functions"]} == {
        "td-shop-viewer-request": "associated", "td-shop-origin-request-old": "deleted",
        "td-shop-origin-response-old": "replicas-remain"}
    assert done["blocking"] == 2 and any("replicas" in a and "--delete later" in a for a in done["advice"])
    names = {f["FunctionName"] for f in client(proxy, "lambda").list_functions()["Functions"]}
    assert "td-shop-origin-request-old" not in names and {"td-shop-origin-response-old", "td-shop-viewer-request"} <= names

    # Hours later the replicas are gone: the next --delete removes it.
    proxy.failures.clear()
    later = ops.teardown(app(), "td", env, delete=True)
    assert {f["name"]: f["state"] for f in later["functions"]} == {
        "td-shop-viewer-request": "associated", "td-shop-origin-response-old": "deleted"}
    # Any other refusal is an error naming the call.
    make_function(proxy, "td-shop-origin-request-older", "origin-request", stack="td")
    proxy.fail("DeleteFunction:" + ops._base(make_function(proxy, "td-x", "origin-request", stack="td")),
               "AccessDeniedException", "not authorized to perform lambda:DeleteFunction", times=None)
    with pytest.raises(OpsError, match="DeleteFunction td-x: AccessDeniedException"):
        ops.teardown(app(), "td", env, delete=True)


# ---------------------------------------------------------------- the commands


def test_the_cli_commands_work_against_moto(proxy, env, tmp_path):
    """`edgeport status`, `teardown-check` and `experiment set` end to end, as a pipeline runs them."""
    import yaml

    stack = "cli"
    write_project(tmp_path, {stack: yaml.safe_dump({"config": {"edgeport:app": APP}})})
    make_function(proxy, "cli-shop-viewer-request", "viewer-request", stack=stack)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}

    def cli(*args):
        return subprocess.run([*EDGEPORT, *args, "--stack", stack], cwd=tmp_path, env={**base_env, **env},
                              capture_output=True, text=True, timeout=180)

    s = cli("status", "--json")
    assert s.returncode == 3, s.stderr  # no distribution: differs from the declaration
    assert "no CloudFront distribution runs the stack's functions" in json.loads(s.stdout)["targets"][0]["drift"]
    t = cli("teardown-check", "--json")
    assert t.returncode == 0 and json.loads(t.stdout)["targets"][0]["functions"][0]["state"] == "deletable"
    e = cli("experiment", "set", "landing", "--ratios", "control=70,redesign=30")
    assert e.returncode == 0, e.stderr
    assert "lambda-edge  written: SSM parameter /edgeport/shop/cli/ab/landing (was nothing)" in e.stdout
    assert "in effect everywhere within 60 s" in e.stdout  # SSM at once + liveTtl 60
    assert "testing-secret" not in e.stdout + e.stderr + s.stdout + s.stderr + t.stdout + t.stderr
