"""Day-2 operations on Lambda@Edge against moto in server mode (boto3 pointed at it with AWS_ENDPOINT_URL): SSM live
settings, status with a real CloudFront distribution and its Lambda associations, logs from several Regions merged
by time (paginated, throttling retried through a proxy that answers ThrottlingException first), teardown-check with
an associated function, a deletable one and one whose replicas remain (the refusal injected by the same proxy), and
missing credentials."""

from __future__ import annotations

import http.client
import io
import json
import os
import sys
import subprocess
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from conftest import write_project
from edgeport.local.aws import LocalAws
from edgeport.ops import MissingCredentials
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
FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def aws():
    a = LocalAws().start()
    yield a
    a.stop()


@pytest.fixture
def env(aws):
    return {**FAKE, "AWS_ENDPOINT_URL": aws.endpoint}


def app():
    return parse_app(APP)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", "exports.handler = async (e) => e.Records[0].cf.request;")
    return buf.getvalue()


def make_function(aws, name: str, trigger: str, stack: str = "prod", app_name: str = "shop") -> str:
    iam, lam = aws.client("iam"), aws.client("lambda")
    try:
        role = iam.create_role(RoleName="edge", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="edge")["Role"]["Arn"]
    fn = lam.create_function(FunctionName=name, Runtime="nodejs22.x", Role=role, Handler="index.handler",
                             Code={"ZipFile": _zip()}, Publish=True,
                             Tags={"edgeport:app": app_name, "edgeport:stack": stack, "edgeport:trigger": trigger})
    return f"{fn['FunctionArn'].rsplit(':', 1)[0] if fn['FunctionArn'].count(':') > 6 else fn['FunctionArn']}:{fn['Version']}"


def make_distribution(proxy, associations: dict[str, str], behaviours: dict[str, dict[str, str]] | None = None) -> str:
    """A distribution created through the proxy (which keeps its Lambda associations for moto: Proxy)."""
    import boto3
    def assoc(m):
        return {"Quantity": len(m), "Items": [{"LambdaFunctionARN": arn, "EventType": ev} for ev, arn in m.items()]}

    base = {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}
    config = {
        "CallerReference": str(time.time_ns()), "Comment": "edgeport shop", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {**base, "LambdaFunctionAssociations": assoc(associations)},
    }
    if behaviours:
        config["CacheBehaviors"] = {"Quantity": len(behaviours), "Items": [
            {**base, "PathPattern": p, "LambdaFunctionAssociations": assoc(m)} for p, m in behaviours.items()]}
    cf = boto3.client("cloudfront", region_name="us-east-1", endpoint_url=proxy.url, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    return cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


# ---------------------------------------------------------------- live settings


def test_ssm_set_get_dry_run_and_missing(aws, env):
    a = app()
    p = a.patterns[1]
    key = "/edgeport/shop/prod/ab/landing"
    got = ops.live_get(a, "prod", p, env)
    assert got["missing"] and got["value"] is None and got["key"] == key and got["region"] == "us-east-1"
    dry = ops.live_set(a, "prod", p, {"control": 10, "redesign": 90}, env, dry_run=True)
    assert dry["written"] is False and ops.live_get(a, "prod", p, env)["missing"]
    out = ops.live_set(a, "prod", p, {"control": 10, "redesign": 90}, env)
    assert out["written"] and out["before"] is None and out["version"] == 1
    assert aws.client("ssm").get_parameter(Name=key)["Parameter"]["Value"] == '{"control":10,"redesign":90}'
    again = ops.live_set(a, "prod", p, {"control": 50, "redesign": 50}, env)
    assert again["before"] == {"control": 10, "redesign": 90} and again["version"] == 2


def test_missing_credentials_name_the_fix(aws):
    bare = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": aws.endpoint}
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AWS_")}
    os.environ.update({k: v for k, v in bare.items() if k != "AWS_ENDPOINT_URL"})
    try:
        with pytest.raises(MissingCredentials, match="no AWS credentials") as e:
            ops.live_get(app(), "prod", app().patterns[1], bare)
        assert "AWS_PROFILE" in e.value.hint
    finally:
        for k in bare:
            os.environ.pop(k, None)
        os.environ.update(saved)


# ---------------------------------------------------------------- status and teardown


def test_status_finds_the_functions_by_tag_and_the_distribution_by_association(aws, env, proxy):
    vr = make_function(aws, "st-shop-viewer-request", "viewer-request", stack="st")
    make_function(aws, "st-other-app", "viewer-request", stack="st", app_name="someone-else")
    did = make_distribution(proxy, {"viewer-request": vr})
    out = ops.status(app(), "st", {**env, "AWS_ENDPOINT_URL": proxy.url})
    assert [f["name"] for f in out["functions"]] == ["st-shop-viewer-request"]
    assert out["functions"][0]["versions"] == ["1"]
    [d] = out["distributions"]
    assert d["id"] == did and d["associations"] == [{"behaviour": "*", "event": "viewer-request", "arn": vr,
                                                    "function": "st-shop-viewer-request", "version": "1"}]
    # The stack declares origin-request and origin-response too (the A/B test switches origins and sets its cookie).
    assert out["declared"]["triggers"] == ["viewer-request", "origin-request", "origin-response"]
    assert "trigger origin-request is declared but no distribution runs the stack's function for it" in out["drift"]


def test_teardown_lists_what_blocks_and_deletes_what_nothing_blocks(aws, env, proxy):
    used = make_function(aws, "td-shop-viewer-request", "viewer-request", stack="td")
    make_function(aws, "td-shop-origin-request-old", "origin-request", stack="td")
    make_function(aws, "td-shop-origin-response-old", "origin-response", stack="td")
    make_distribution(proxy, {}, {"/api/*": {"viewer-request": used}})
    check = ops.teardown(app(), "td", {**env, "AWS_ENDPOINT_URL": proxy.url})
    states = {f["name"]: f["state"] for f in check["functions"]}
    assert states == {"td-shop-viewer-request": "associated", "td-shop-origin-request-old": "deletable",
                      "td-shop-origin-response-old": "deletable"}
    assert check["blocking"] == 1 and any("remove the association" in a for a in check["advice"])
    # Through the proxy, AWS refuses to delete one of them: its replicas remain.
    proxy.refuse_delete = {"td-shop-origin-response-old"}
    done = ops.teardown(app(), "td", {**env, "AWS_ENDPOINT_URL": proxy.url}, delete=True)
    states = {f["name"]: f["state"] for f in done["functions"]}
    assert states == {"td-shop-viewer-request": "associated", "td-shop-origin-request-old": "deleted",
                      "td-shop-origin-response-old": "replicas-remain"}
    assert done["blocking"] == 2 and any("replicas" in a for a in done["advice"])
    names = [f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]]
    assert "td-shop-origin-request-old" not in names and "td-shop-origin-response-old" in names


# ---------------------------------------------------------------- logs across Regions


class Proxy:
    """In front of moto: answers the first `throttle` FilterLogEvents calls with AWS's ThrottlingException (HTTP 400,
    JSON protocol), and DeleteFunction of the functions in `refuse_delete` with the replicated-function refusal
    (InvalidParameterValueException); forwards everything else.

    moto 5.2 drops a distribution's LambdaFunctionAssociations (its model hard-codes Quantity 0; see
    tests/test_lambda_attach.py), so the proxy keeps those of each CreateDistribution request and puts them back into
    ListDistributions answers, as CloudFront returns them."""

    def __init__(self, upstream: str):
        self.upstream, self.throttle, self.refuse_delete, self.throttled = upstream, 0, set(), 0
        self.associations: dict[str, dict[str, object]] = {}  # distribution id -> behaviour path -> XML element
        proxy = self

        class H(BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                if target.endswith("FilterLogEvents") and proxy.throttle > 0:
                    proxy.throttle -= 1
                    proxy.throttled += 1
                    return self._send(400, {"__type": "ThrottlingException", "message": "Rate exceeded"},
                                      {"x-amzn-ErrorType": "ThrottlingException"})
                name = self.path.split("/functions/")[-1].split("?")[0].split("/")[0] if "/functions/" in self.path else ""
                if self.command == "DELETE" and name in proxy.refuse_delete:
                    return self._send(400, {"Type": "User", "message": f"Lambda was unable to delete {name} because it "
                                                                        "is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas."},
                                      {"x-amzn-ErrorType": "InvalidParameterValueException"})
                # http.client, not urllib: urllib adds a form Content-Type to a body that has none, and moto then
                # takes the request for another protocol.
                up = urlsplit(proxy.upstream)
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body or None,
                                 headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                    r = conn.getresponse()
                    status, data, headers = r.status, r.read(), r.headers
                finally:
                    conn.close()
                path = self.path.split("?")[0]
                if path.endswith("/distribution") and self.command == "POST" and status < 300:
                    proxy.remember(body, data)
                elif path.endswith("/distribution") and self.command == "GET" and status == 200:
                    data = proxy.restore(data)
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status, payload, headers):
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/x-amz-json-1.1", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _behaviours(root, ns):
        out = {"*": root.find(f"{ns}DefaultCacheBehavior")}
        for b in root.findall(f"{ns}CacheBehaviors/{ns}Items/{ns}CacheBehavior"):
            out[b.findtext(f"{ns}PathPattern")] = b
        return out

    def remember(self, request: bytes, answer: bytes) -> None:
        import xml.etree.ElementTree as ET

        cfg, ans = ET.fromstring(request), ET.fromstring(answer)
        ns = cfg.tag[: cfg.tag.index("}") + 1] if cfg.tag.startswith("{") else ""
        did = ans.findtext(f"{ns}Id")
        self.associations[did] = {p: b.find(f"{ns}LambdaFunctionAssociations")
                                  for p, b in self._behaviours(cfg, ns).items() if b is not None}

    def restore(self, answer: bytes) -> bytes:
        import xml.etree.ElementTree as ET

        root = ET.fromstring(answer)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        ET.register_namespace("", ns.strip("{}"))
        for summary in root.iter(f"{ns}DistributionSummary"):
            kept = self.associations.get(summary.findtext(f"{ns}Id"), {})
            for path, b in self._behaviours(summary, ns).items():
                if b is None or kept.get(path) is None:
                    continue
                old = b.find(f"{ns}LambdaFunctionAssociations")
                if old is not None:
                    b.remove(old)
                b.append(kept[path])
        return ET.tostring(root, xml_declaration=True, encoding="utf-8")


@pytest.fixture
def proxy(aws):
    p = Proxy(aws.endpoint)
    yield p
    p.server.shutdown()
    p.server.server_close()


def test_logs_merge_every_region_by_time_with_pagination_and_throttling(aws, env, proxy):
    make_function(aws, "lg-shop-viewer-request", "viewer-request", stack="lg")
    group = "/aws/lambda/us-east-1.lg-shop-viewer-request"
    t0 = int(time.time() * 1000) - 60_000
    regions = {"us-east-1": 0, "eu-west-1": 1, "ap-southeast-2": 2}
    for region, offset in regions.items():
        import boto3

        c = boto3.client("logs", region_name=region, endpoint_url=aws.endpoint, aws_access_key_id="testing",
                         aws_secret_access_key="testing")
        c.create_log_group(logGroupName=group)
        c.create_log_stream(logGroupName=group, logStreamName="s")
        c.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": t0 + i * 30 + offset * 10, "message": f"{region} #{i} {'redesign' if i % 2 else 'control'}"}
            for i in range(40)])
        c.create_log_group(logGroupName="/aws/lambda/us-east-1.unrelated")
    proxy.throttle = 2
    out = ops.logs(app(), "lg", {**env, "AWS_ENDPOINT_URL": proxy.url}, t0, None, None)
    assert proxy.throttled == 2, "throttled calls are retried by botocore's standard mode"
    assert len(out["events"]) == 120 and {e["region"] for e in out["events"]} == set(regions)
    stamps = [e["timestamp"] for e in out["events"]]
    assert stamps == sorted(stamps)
    assert [e["region"] for e in out["events"][:3]] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    assert {g["group"] for g in out["groups"]} == {group} and out["regions_searched"] > 10
    window = ops.logs(app(), "lg", env, t0 + 600, t0 + 900, "redesign")
    assert window["events"] and all("redesign" in e["message"] and t0 + 600 <= e["timestamp"] <= t0 + 900 for e in window["events"])


def test_the_cli_commands_work_against_moto(aws, env, tmp_path):
    """`edgeport status`, `teardown-check` and `experiment` end to end as a pipeline runs them (--json)."""
    import yaml

    stack = "cli"
    write_project(tmp_path, {stack: yaml.safe_dump({"config": {"edgeport:app": APP}})})
    make_function(aws, "cli-shop-viewer-request", "viewer-request", stack=stack)
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
    assert "testing" not in e.stdout + e.stderr
