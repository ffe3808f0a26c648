"""Prerequisite checks at plan time: the Cloudflare DNS record against a local recording server that checks the
documented request shape, the ACM certificate against moto in server mode with real imported/requested
certificates, and `edgeport plan` reporting both (exit 1 on a missing prerequisite, skipped without credentials)."""

from __future__ import annotations

import copy
import datetime
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import ROOT, credential_free_env, free_port, write_project
from edgeport.local.aws import LocalAws
from edgeport.prereq import check_prerequisites, errors
from edgeport.targets.cloudflare.prereq import check_dns
from edgeport.targets.lambda_edge.prereq import check_certificate, covers
from edgeport.spec import parse_app
from edgeport.targets.lambda_edge import DistributionSettings

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]
TOKEN = "cf-test-token-0123456789"
ZONE = "1" * 32
HOST = "shop.example.com"
BASE = {
    "name": "shop",
    "origins": {"default": "https://origin.example.com"},
    "targets": {"cloudflare": {"accountId": "0" * 32, "zoneId": ZONE, "hostname": HOST}},
    "patterns": [{"name": "landing", "type": "ab-test", "routes": ["/landing/*"],
                  "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]}],
}


def app(**cloudflare):
    raw = copy.deepcopy(BASE)
    raw["targets"]["cloudflare"].update(cloudflare)
    return parse_app(raw)


# ---------------------------------------------------------------- a recording Cloudflare API


class CloudflareApi:
    """api.cloudflare.com on loopback: answers List DNS Records (GET /client/v4/zones/{zone_id}/dns_records?name=)
    with the API's envelope, and records every request. A request of another shape gets the API's own errors
    (7003 no route, 10000 authentication), so a wrong client fails the test instead of passing by accident."""

    def __init__(self):
        self.records: dict[str, list[dict]] = {}  # name -> records
        self.requests: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                u = urlsplit(self.path)
                seen = {"method": "GET", "path": u.path, "query": parse_qs(u.query), "auth": self.headers.get("Authorization")}
                api.requests.append(seen)
                status, body = api.answer(seen)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/client/v4"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, seen: dict) -> tuple[int, dict]:
        m = re.fullmatch(r"/client/v4/zones/([0-9a-f]{32})/dns_records", seen["path"])
        if not m:
            return 400, self.failure(7003, "No route for that URI")
        if seen["auth"] != f"Bearer {TOKEN}":
            return 403, self.failure(10000, "Authentication error")
        names = seen["query"].get("name", [])
        found = self.records.get(names[0], []) if len(names) == 1 else sum(self.records.values(), [])
        return 200, {"success": True, "errors": [], "messages": [], "result": found,
                     "result_info": {"page": 1, "per_page": 100, "count": len(found), "total_count": len(found)}}

    @staticmethod
    def failure(code: int, message: str) -> dict:
        return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}

    def add(self, name: str, type_: str, content: str, proxied: bool) -> None:
        self.records.setdefault(name, []).append({"id": f"rec{len(self.requests)}{type_}", "zone_id": ZONE, "name": name,
                                                 "type": type_, "content": content, "proxied": proxied, "ttl": 1})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cf_api():
    api = CloudflareApi()
    yield api
    api.stop()


def env_for(api: CloudflareApi, token: str = TOKEN) -> dict:
    return {"CLOUDFLARE_API_TOKEN": token, "EDGEPORT_CLOUDFLARE_API": api.base}


def test_a_proxied_record_is_ok_and_the_request_has_the_documented_shape(cf_api):
    cf_api.add(HOST, "AAAA", "100::", True)
    cf_api.add(HOST, "TXT", "v=spf1 -all", False)  # not a record traffic follows: ignored
    [f] = check_dns(app(), env_for(cf_api))
    assert (f.level, f.message) == ("ok", f"{HOST} is proxied (AAAA 100::)")
    [req] = cf_api.requests
    assert req["path"] == f"/client/v4/zones/{ZONE}/dns_records" and req["auth"] == f"Bearer {TOKEN}"
    assert req["query"]["name"] == [HOST]


def test_no_record_is_an_error_that_offers_dns_true(cf_api):
    cf_api.add(f"www.{HOST}", "CNAME", HOST, True)
    cf_api.add(HOST, "MX", "mail.example.com", False)
    [f] = check_dns(app(), env_for(cf_api))
    assert f.level == "error" and f.path == "edgeport:app.targets.cloudflare.hostname"
    assert "has no A, AAAA or CNAME record" in f.message and "dns: true" in f.hint


def test_a_dns_only_record_is_an_error(cf_api):
    cf_api.add(HOST, "A", "203.0.113.7", True)
    cf_api.add(HOST, "AAAA", "2001:db8::7", False)  # IPv6 visitors would skip the Worker
    [f] = check_dns(app(), env_for(cf_api))
    assert f.level == "error" and "DNS-only (not proxied) record (AAAA 2001:db8::7)" in f.message
    assert "orange cloud" in f.hint


def test_dns_true_and_custom_domain_are_not_checked(cf_api):
    [f, gap] = check_dns(app(dns=True), env_for(cf_api))
    assert f.level == "skipped" and "edgeport creates a proxied AAAA 100:: record" in f.message
    # the routes cover /landing only: with an originless record every other path has nowhere to go
    assert gap.level == "warning" and gap.path == "edgeport:app.targets.cloudflare.dns"
    [f] = check_dns(app(customDomain=True), env_for(cf_api))
    assert f.level == "skipped" and "custom domain creates" in f.message
    assert cf_api.requests == []
    raw = copy.deepcopy(BASE)
    raw["targets"]["cloudflare"]["dns"] = True
    raw["patterns"][0]["routes"] = ["/"]  # "/" is the Workers route <host>/*: the Worker answers every path
    assert [f.level for f in check_dns(parse_app(raw), env_for(cf_api))] == ["skipped"]


def test_without_a_token_the_check_is_skipped_with_a_note(cf_api):
    [f] = check_dns(app(), {"EDGEPORT_CLOUDFLARE_API": cf_api.base})
    assert f.level == "skipped" and "no CLOUDFLARE_API_TOKEN" in f.message
    [f] = check_dns(app(), env_for(cf_api), offline=True)
    assert f.level == "skipped" and f.message.startswith("--offline")
    assert cf_api.requests == []


def test_api_failures_are_warnings_with_the_reason(cf_api):
    [f] = check_dns(app(), env_for(cf_api, token="wrong"))
    assert f.level == "warning" and "HTTP 403" in f.message and "Authentication error (code 10000)" in f.message
    closed = f"http://127.0.0.1:{free_port()}/client/v4"
    [f] = check_dns(app(), {"CLOUDFLARE_API_TOKEN": TOKEN, "EDGEPORT_CLOUDFLARE_API": closed})
    assert f.level == "warning" and "cannot reach" in f.message and "--offline" in f.hint


def test_a_wildcard_hostname_wants_a_proxied_wildcard_record(cf_api):
    [f] = check_dns(app(hostname="*.example.com"), env_for(cf_api))
    assert f.level == "warning" and "every subdomain" in f.message
    cf_api.add("*.example.com", "CNAME", "origin.example.com", True)
    [f] = check_dns(app(hostname="*.example.com"), env_for(cf_api))
    assert f.level == "ok"


# ---------------------------------------------------------------- ACM through moto


def self_signed(names: list[str]) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


@pytest.fixture(scope="module")
def moto():
    m = LocalAws().start()
    yield m
    m.stop()


@pytest.fixture
def acm(moto, monkeypatch):
    for k, v in {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "eu-west-1"}.items():  # any region: the check pins us-east-1
        monkeypatch.setenv(k, v)
    return moto.client("acm")


def imported(acm, names: list[str]) -> str:
    cert, key = self_signed(names)
    return acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]


def dist(arn: str, *aliases: str) -> DistributionSettings:
    return DistributionSettings(aliases=list(aliases), certificate_arn=arn)


def test_an_issued_certificate_covering_every_alias_is_ok(acm):
    arn = imported(acm, ["shop.example.com", "*.shop.example.com"])
    [f] = check_certificate(dist(arn, "shop.example.com", "cdn.shop.example.com"))
    assert (f.level, f.message) == ("ok", "the certificate covers shop.example.com, cdn.shop.example.com")


def test_a_wildcard_covers_one_level_only(acm):
    arn = imported(acm, ["*.shop.example.com"])
    [f] = check_certificate(dist(arn, "cdn.shop.example.com", "shop.example.com", "a.cdn.shop.example.com"))
    assert f.level == "error" and f.path == "edgeport:app.targets.lambda-edge.distribution.aliases"
    assert f.message == ("the certificate does not cover shop.example.com, a.cdn.shop.example.com "
                         "(it covers *.shop.example.com)")


def test_a_certificate_not_yet_issued_is_an_error(acm):
    arn = acm.request_certificate(DomainName="cdn.shop.example.com", ValidationMethod="DNS")["CertificateArn"]
    [f] = check_certificate(dist(arn, "cdn.shop.example.com"))
    assert f.level == "error" and "is PENDING_VALIDATION" in f.message and "validation" in f.hint


def test_an_unknown_certificate_is_an_error(acm):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    [f] = check_certificate(dist(arn, "cdn.shop.example.com"))
    assert f.level == "error" and f"no certificate {arn} in us-east-1" in f.message


def test_without_aws_credentials_the_check_is_skipped(monkeypatch, tmp_path):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    [f] = check_certificate(dist("arn:aws:acm:us-east-1:123456789012:certificate/0a1b", "cdn.shop.example.com"))
    assert f.level == "skipped" and f.message.startswith("no AWS credentials")


@pytest.mark.parametrize("name, host, ok", [
    ("shop.example.com", "shop.example.com", True),
    ("SHOP.example.com", "shop.example.com", True),
    ("*.example.com", "shop.example.com", True),
    ("*.example.com", "example.com", False),  # a level higher than the wildcard
    ("*.example.com", "a.shop.example.com", False),  # a level lower
    ("*.example.com", "*.example.com", True),  # a wildcard alias needs the wildcard name itself
    ("shop.example.com", "*.example.com", False),
    ("*.example.com", "*.shop.example.com", False),
    ("example.com", "shop.example.com", False),
])
def test_cloudfront_coverage_rules(name, host, ok):
    assert covers(name, host) is ok


# ---------------------------------------------------------------- through `edgeport plan`


def test_plan_reports_a_missing_prerequisite_and_exits_1(cf_api, tmp_path):
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    write_project(tmp_path, {"prod": yaml.safe_dump(doc, sort_keys=False)})
    zone = doc["config"]["edgeport:app"]["targets"]["cloudflare"]["zoneId"]
    cf_api.records = {}  # the prod hostname has no record
    env = {**credential_free_env(), **env_for(cf_api)}
    p = subprocess.run(EDGEPORT + ["plan", "--stack", "prod", "--json"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=180)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and doc["resources"], "the plan is still printed"
    dns, cert = doc["prerequisites"]
    assert (dns["level"], dns["file"], dns["path"]) == ("error", "stacks/Pulumi.prod.yaml", "edgeport:app.targets.cloudflare.hostname")
    assert dns["line"] and "shop.example.com has no A, AAAA or CNAME record" in dns["message"]
    assert cert["level"] == "skipped" and "no AWS credentials" in cert["message"]
    assert cf_api.requests[0]["path"] == f"/client/v4/zones/{zone}/dns_records"
    assert "error: 1 missing prerequisite: `pulumi up` would fail" in p.stderr
    assert "fix: set targets.cloudflare.dns: true" in p.stderr


def test_check_prerequisites_locates_findings_in_the_stack_file():
    from edgeport.spec.loader import load_stack

    st = load_stack("prod", ROOT)
    found = check_prerequisites(st.app, st.locate, env={}, offline=True)
    assert [(f.target, f.check, f.level) for f in found] == [("cloudflare", "dns", "skipped"),
                                                             ("lambda-edge", "certificate", "skipped")]
    assert all(f.file == "stacks/Pulumi.prod.yaml" and f.line for f in found)
    assert errors(found) == []
