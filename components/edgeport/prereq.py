"""Prerequisites a deploy relies on but does not create, checked by `edgeport plan` when credentials are present.

- Cloudflare: Workers routes run only on a hostname whose DNS record is proxied ("orange-clouded"): "To add a
  route, you must have: ... A DNS record set up for the domain or subdomain proxied by Cloudflare"
  (developers.cloudflare.com/workers/configuration/routing/routes/). Without one the hostname does not resolve;
  with a DNS-only record requests go straight to its target and the Worker - the jwt-auth guard included -
  never runs. Not checked when edgeport or a Workers custom domain creates the record (`dns`, `customDomain`).
- Lambda@Edge: an alternate domain name needs "a trusted, valid SSL/TLS certificate that covers the alternate
  domain name", requested or imported in us-east-1 (CloudFront Developer Guide, "Use custom URLs by adding
  alternate domain names (CNAMEs)" > Requirements, and "Requirements for using SSL/TLS certificates with
  CloudFront"). CloudFront refuses the distribution update otherwise.

A finding the deploy would fail on, or that leaves the edge code bypassed, is an error (`edgeport plan` exits 1).
What could not be checked (no credentials, an unreachable API, a token without read access) is a note or a
warning: the plan itself stays offline-capable, and a missing permission is not a missing prerequisite.
No Pulumi import: plain urllib for Cloudflare, boto3 for ACM.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Mapping

from . import __version__
from .errors import SpecIssue
from .spec import runtime
from .spec.validate import ROOT

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
CLOUDFLARE_API_ENV = "EDGEPORT_CLOUDFLARE_API"  # another base URL (tests use a local recording server)
CLOUDFLARE_TOKEN_ENV = "CLOUDFLARE_API_TOKEN"  # the provider's own variable: the token `pulumi up` deploys with
TIMEOUT = 10.0  # seconds per request
ACM_REGION = "us-east-1"  # CloudFront uses ACM certificates from us-east-1 only
# "Only records used for IP address resolution - A, AAAA, and CNAME records - can be proxied"; a DNS-only record
# answers with the target's own address "and does not route HTTP/HTTPS traffic through its network"
# (developers.cloudflare.com/dns/proxy-status/).
PROXIABLE = ("A", "AAAA", "CNAME")
LEVELS = ("error", "warning", "ok", "skipped")


@dataclass(frozen=True)
class Finding:
    """One prerequisite check: what was found, where it is declared, and how to fix it."""

    target: str  # cloudflare | lambda-edge
    check: str  # dns | certificate
    level: str  # one of LEVELS
    message: str
    path: str  # key path under edgeport:app
    hint: str = ""
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def where(self) -> str:
        loc = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{loc}{self.path}"

    def format(self) -> str:
        text = f"{self.level}: {self.target} {self.check}: {self.where()}: {self.message}"
        return text + (f"\n    fix: {self.hint}" if self.hint else "")


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]


def check_prerequisites(app, locate: Callable[[SpecIssue], SpecIssue] | None = None, env: Mapping[str, str] | None = None,
                        offline: bool = False) -> list[Finding]:
    """Every prerequisite check for the app's targets, in target order, each located in the stack file."""
    env = os.environ if env is None else env
    found: list[Finding] = []
    if app.targets.cloudflare:
        found += check_dns(app, env, offline)
    le = app.targets.lambda_edge
    if le and le.distribution and le.distribution.certificate_arn:
        found += check_certificate(le.distribution, offline)
    return [_located(f, locate) for f in found] if locate else found


def _located(f: Finding, locate: Callable[[SpecIssue], SpecIssue]) -> Finding:
    issue = locate(SpecIssue(f.path, f.message, f.hint))
    return replace(f, file=issue.file, line=issue.line)


# ---------------------------------------------------------------- Cloudflare DNS


class CloudflareApiError(Exception):
    """The Cloudflare API could not answer: unreachable, refused, or not its JSON envelope."""

    def __init__(self, message: str, reached: bool = True):
        super().__init__(message)
        self.reached = reached  # False: no answer at all (network), True: the API said no


def cloudflare_get(path: str, query: Mapping[str, str], token: str, base: str = CLOUDFLARE_API) -> Any:
    """GET one Cloudflare API v4 resource and return its `result`. Every answer, errors included, is the envelope
    {"success": bool, "errors": [{"code", "message"}], "messages": [...], "result": ...} (cloudflare/api-schemas
    openapi.json: dns-records_api-response-common, dns-records_dns_response_collection)."""
    url = f"{base.rstrip('/')}{path}?{urllib.parse.urlencode(query)}"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                                               "User-Agent": f"edgeport/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as res:
            body = _json(res.read())
    except urllib.error.HTTPError as e:
        raise CloudflareApiError(f"HTTP {e.code} from {base}: {_api_errors(_json(e.read())) or e.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:  # refused, DNS, TLS, timeout, cut off
        raise CloudflareApiError(f"cannot reach {base}: {getattr(e, 'reason', e)}", reached=False) from None
    if not isinstance(body, dict) or "success" not in body:
        raise CloudflareApiError(f"{base} did not answer with the Cloudflare API's JSON envelope")
    if not body["success"]:
        raise CloudflareApiError(_api_errors(body) or "the API reported a failure without an error message")
    return body.get("result")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _api_errors(body: Any) -> str:
    errs = body.get("errors") if isinstance(body, dict) else None
    return "; ".join(f"{e.get('message')} (code {e.get('code')})" for e in errs or [] if isinstance(e, dict))


def list_dns_records(zone_id: str, name: str, token: str, base: str = CLOUDFLARE_API) -> list[dict[str, Any]]:
    """The zone's DNS records named `name` (List DNS Records: GET /zones/{zone_id}/dns_records?name=<name>,
    developers.cloudflare.com/api/resources/dns/subresources/records/methods/list/; `name` is the record name in
    Punycode, cloudflare/cloudflare-python src/cloudflare/types/dns/record_list_params.py). One page of 100 is
    plenty: a name holds a handful of A/AAAA/CNAME records at most."""
    result = cloudflare_get(f"/zones/{zone_id}/dns_records", {"name": name, "per_page": "100"}, token, base)
    if not isinstance(result, list):
        raise CloudflareApiError("the DNS records answer has no list of records")
    return [r for r in result if isinstance(r, dict)]


def check_dns(app, env: Mapping[str, str], offline: bool = False) -> list[Finding]:
    cf = app.targets.cloudflare
    path = f"{ROOT}.targets.cloudflare.hostname"
    if cf.custom_domain:
        return [Finding("cloudflare", "dns", "skipped", f"customDomain: true: the Workers custom domain creates the DNS "
                        f"record of {cf.hostname}", path)]
    if cf.dns:
        return [Finding("cloudflare", "dns", "skipped", f"dns: true: edgeport creates a proxied AAAA 100:: record for "
                        f"{cf.hostname}", f"{ROOT}.targets.cloudflare.dns"), *_originless_gaps(app)]
    token = env.get(CLOUDFLARE_TOKEN_ENV)
    if offline or not token:
        why = "--offline" if offline else f"no {CLOUDFLARE_TOKEN_ENV}"
        return [Finding("cloudflare", "dns", "skipped", f"{why}: not checked that {cf.hostname} has a proxied DNS record",
                        path, f"set {CLOUDFLARE_TOKEN_ENV} (a token with Zone > DNS > Read) to check it")]
    try:
        records = list_dns_records(cf.zone_id, cf.hostname, token, env.get(CLOUDFLARE_API_ENV) or CLOUDFLARE_API)
    except CloudflareApiError as e:
        hint = (f"check zoneId and that {CLOUDFLARE_TOKEN_ENV} may read the zone's DNS (Zone > DNS > Read)" if e.reached
                else "check the network (or plan with --offline to skip the check)")
        return [Finding("cloudflare", "dns", "warning", f"could not check the DNS records of {cf.hostname}: {e}", path, hint)]
    return [judge_dns(cf.hostname, records, path)]


def judge_dns(host: str, records: list[dict[str, Any]], path: str) -> Finding:
    """Whether the records for `host` let its Workers routes run."""
    mine = [r for r in records if str(r.get("name", "")).lower() == host and r.get("type") in PROXIABLE]
    if not mine and host.startswith("*."):
        # Subdomains may have records of their own, which cannot be listed without knowing the subdomains.
        return Finding("cloudflare", "dns", "warning", f"no proxied wildcard record {host}: every subdomain the routes "
                       "serve needs a proxied record of its own", path,
                       f"add a proxied (orange-cloud) record {host}, or one per subdomain you serve")
    if not mine:
        return Finding("cloudflare", "dns", "error", f"{host} has no A, AAAA or CNAME record: Workers routes run only on "
                       "a proxied hostname, so requests to it fail to resolve and the Worker never runs", path,
                       "set targets.cloudflare.dns: true to let edgeport create a proxied AAAA 100:: record, or add a "
                       "proxied (orange-cloud) record for it in the Cloudflare dashboard")
    direct = [r for r in mine if r.get("proxied") is not True]
    if direct:
        shown = ", ".join(f"{r.get('type')} {r.get('content')}" for r in direct)
        return Finding("cloudflare", "dns", "error", f"{host} has a DNS-only (not proxied) record ({shown}): requests "
                       "go straight to it and the Worker, guards included, never runs", path,
                       "turn on the proxy (orange cloud) for that record in the Cloudflare dashboard")
    shown = ", ".join(sorted(f"{r.get('type')} {r.get('content')}" for r in mine))
    return Finding("cloudflare", "dns", "ok", f"{host} is proxied ({shown})", path)


def _originless_gaps(app) -> list[Finding]:
    """With the originless record the Worker is the hostname's only origin: a path outside its routes has nowhere
    to go. A route covers every path when a guard puts the Worker on `<host>/*` or a pattern routes `/` or `/*`
    (targets/cloudflare.py: worker_routes, _route_path)."""
    everything = runtime.guards_every_request(app, "cloudflare") or any(
        r.rstrip("*").rstrip("/") == "" for p in app.patterns if "cloudflare" in app.pattern_targets(p) for r in p.routes)
    if everything:
        return []
    return [Finding("cloudflare", "dns", "warning", f"dns: true points {app.targets.cloudflare.hostname} at no origin "
                    "(AAAA 100::), and the Workers routes do not cover every path: other paths will fail",
                    f"{ROOT}.targets.cloudflare.dns",
                    "route / or /* to the Worker, or create a proxied record pointing at your origin and remove dns")]


# ---------------------------------------------------------------- ACM certificate


def covers(name: str, host: str) -> bool:
    """Whether a certificate name covers a CloudFront alternate domain name. Equal names do; a wildcard
    `*.example.com` covers one label in its place (`a.example.com`) and "you can't add alternate domain names
    that are at levels higher or lower than the wildcard", so neither example.com nor a.b.example.com (CloudFront
    Developer Guide, "Use custom URLs by adding alternate domain names (CNAMEs)" > Requirements > wildcards).
    DNS names compare case-insensitively."""
    name, host = name.lower().rstrip("."), host.lower().rstrip(".")
    if name == host:
        return True
    if not name.startswith("*."):
        return False
    label, _, rest = host.partition(".")
    return bool(label) and label != "*" and rest == name[2:]


def _aws_credentials_found() -> bool:
    """Whether boto3 finds credentials (environment, profile, SSO, instance role) - the ones `pulumi up` uses."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session().get_credentials() is not None
    except BotoCoreError:
        return False


def describe_certificate(arn: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, retries={"max_attempts": 2})
    return boto3.client("acm", region_name=ACM_REGION, config=config).describe_certificate(CertificateArn=arn)["Certificate"]


def check_certificate(dist, offline: bool = False) -> list[Finding]:
    """boto3 takes credentials and endpoint from the process environment, as the AWS provider does."""
    from botocore.exceptions import BotoCoreError, ClientError

    path = f"{ROOT}.targets.lambda-edge.distribution.certificateArn"
    arn = dist.certificate_arn
    if offline or not _aws_credentials_found():
        why = "--offline" if offline else "no AWS credentials"
        return [Finding("lambda-edge", "certificate", "skipped", f"{why}: not checked that {arn} is issued and covers "
                        "the aliases", path, "run with the AWS credentials you deploy with to check it")]
    try:
        cert = describe_certificate(arn)
    except ClientError as e:
        err = e.response.get("Error", {})
        if err.get("Code") == "ResourceNotFoundException":
            return [Finding("lambda-edge", "certificate", "error", f"no certificate {arn} in {ACM_REGION} for the account of "
                            "your AWS credentials", path, "request or import the certificate in us-east-1 (CloudFront uses "
                            "no other region) in the account you deploy to, and set its ARN")]
        return [Finding("lambda-edge", "certificate", "warning", f"could not check {arn}: {err.get('Code')}: "
                         f"{err.get('Message')}", path, "allow acm:DescribeCertificate to check it")]
    except BotoCoreError as e:
        return [Finding("lambda-edge", "certificate", "warning", f"could not reach ACM to check {arn}: {e}", path)]
    return judge_certificate(cert, list(dist.aliases), path)


def judge_certificate(cert: Mapping[str, Any], aliases: list[str], path: str) -> list[Finding]:
    status = cert.get("Status")
    if status != "ISSUED":
        return [Finding("lambda-edge", "certificate", "error", f"the certificate is {status}, and CloudFront accepts only an "
                        "issued one", path, _status_hint(status))]
    names = [cert.get("DomainName", ""), *(cert.get("SubjectAlternativeNames") or [])]
    names = sorted({n for n in names if n})
    missing = [a for a in aliases if not any(covers(n, a) for n in names)]
    if missing:
        return [Finding("lambda-edge", "certificate", "error", f"the certificate does not cover {', '.join(missing)} "
                        f"(it covers {', '.join(names) or 'no names'})", f"{ROOT}.targets.lambda-edge.distribution.aliases",
                        "use a certificate whose names include each alias (a wildcard covers one level only), or remove "
                        "the alias")]
    covered = f"covers {', '.join(aliases)}" if aliases else "is issued (no aliases to cover)"
    return [Finding("lambda-edge", "certificate", "ok", f"the certificate {covered}", path)]


def _status_hint(status: Any) -> str:
    if status == "PENDING_VALIDATION":
        return "finish the certificate's domain validation (the DNS records ACM asks for), then plan again"
    if status in ("EXPIRED", "REVOKED", "INACTIVE"):
        return "request or import a new certificate in us-east-1 and set its ARN"
    return "request a new certificate in us-east-1 (this one cannot be issued) and set its ARN"
