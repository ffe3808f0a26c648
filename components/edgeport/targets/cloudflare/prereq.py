"""Cloudflare prerequisites `edgeport plan` checks (see edgeport.prereq): the hostname's proxied DNS record."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping

from ... import __version__
from ...prereq import TIMEOUT, Finding
from ...spec import runtime
from ...spec.validate import ROOT

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
CLOUDFLARE_API_ENV = "EDGEPORT_CLOUDFLARE_API"  # another base URL (tests use a local recording server)
CLOUDFLARE_TOKEN_ENV = "CLOUDFLARE_API_TOKEN"  # the provider's own variable: the token `pulumi up` deploys with
# "Only records used for IP address resolution - A, AAAA, and CNAME records - can be proxied"; a DNS-only record
# answers with the target's own address "and does not route HTTP/HTTPS traffic through its network"
# (developers.cloudflare.com/dns/proxy-status/).
PROXIABLE = ("A", "AAAA", "CNAME")


def check(app, env: Mapping[str, str], offline: bool = False) -> list[Finding]:
    return check_dns(app, env, offline)


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
    (targets/cloudflare/__init__.py: worker_routes, _route_path)."""
    everything = runtime.guards_every_request(app, "cloudflare") or any(
        r.rstrip("*").rstrip("/") == "" for p in app.patterns if "cloudflare" in app.pattern_targets(p) for r in p.routes)
    if everything:
        return []
    return [Finding("cloudflare", "dns", "warning", f"dns: true points {app.targets.cloudflare.hostname} at no origin "
                    "(AAAA 100::), and the Workers routes do not cover every path: other paths will fail",
                    f"{ROOT}.targets.cloudflare.dns",
                    "route / or /* to the Worker, or create a proxied record pointing at your origin and remove dns")]
