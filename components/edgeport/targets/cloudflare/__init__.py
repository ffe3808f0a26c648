"""Cloudflare Workers: one module Worker per stack, a WorkersRoute per declared route.

Config is declared in the module itself (the build injects it, as on the other targets; a JSON binding would be
limited to 5 KB per variable, developers.cloudflare.com/workers/platform/limits/#environment-variables), each secret
is a secret_text binding whose value is a Pulumi secret. With pulumi-cloudflare v6 a secret lives
on the script, so rotating it redeploys the Worker (terraform-provider-cloudflare
#5892); that is expected.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from ...errors import EdgeportError, SpecIssue
from ...patterns import kind_of
from ...spec import runtime
from ...spec.secret_refs import env_name
from ...spec.types import ROOT, Model
from ..base import Budget, BundleUnit, HeaderLimit, header_issues, routes_for

if TYPE_CHECKING:
    from ...errors import Problems
    from ...spec.models import App

NAME = "cloudflare"
LABEL = "Cloudflare Workers"
DEFAULT_PORT = 8787  # `edgeport dev`, as wrangler dev
COMPONENT_TYPE = "edgeport:cloudflare:Worker"  # the Pulumi component the resources module makes
# Component output -> (key in materialize's result, Python type, description). Every edgeport component exposes
# every target's outputs (None where the target is not used); provider/schema.json is generated from these.
OUTPUTS = {
    "cloudflare_script": ("script_name", "str", "Name of the Worker script."),
    "cloudflare_routes": ("routes", "list[str]", "Workers route patterns."),
}
LOCAL_RUNTIME = "workerd (Miniflare)"  # what `edgeport dev` and the tests run the Worker in
# The local host's environment: no request.cf fetch from Cloudflare and no wrangler metrics (nothing leaves the
# machine; the host sets request.cf itself).
LOCAL_ENV = {"CLOUDFLARE_CF_FETCH_ENABLED": "false", "WRANGLER_SEND_METRICS": "false"}
MAIN_MODULE = "worker.mjs"
LIVE_BINDING = "EDGEPORT_LIVE"  # KV namespace with live settings (A/B ratios)
ROOMS_BINDING = "EDGEPORT_ROOMS"  # Durable Object namespace, one object per room
ROOM_CLASS = "EdgeportRoom"  # exported by functions/platforms/cloudflare/adapter.ts, whether or not rooms are declared

# The Durable Object migrations edgeport ships, oldest first, each with its tag. Cloudflare keeps the last applied
# tag on the script and refuses an upload whose migration does not start from it ("Migration tag precondition
# failed", workers-sdk #705, #6953; pulumi-cloudflare #1215), while the provider sends the configured migrations
# on every upload (terraform-provider-cloudflare internal/services/workers_script, Create and Update). So, as
# wrangler does (workers-sdk getMigrationsToUpload), only the steps after the script's current tag are sent, read
# from the account's scripts at plan time (`migration_tag`, cloudflare_workers_scripts data source, v5.9.0+).
# A later rename of the class is a new step {"renamed_classes": [{"from": ..., "to": ...}]}; the class is never
# deleted by edgeport: removing the room pattern drops only the binding, the class stays exported and its
# storage stays (docs/targets.md).
MIGRATIONS: list[tuple[str, dict[str, Any]]] = [("edgeport-v1", {"new_sqlite_classes": [ROOM_CLASS]})]


def pending_migrations(current_tag: str | None) -> dict[str, Any] | None:
    """The `migrations` input for an upload onto a script whose migration tag is `current_tag` (None: a new
    script, or one without Durable Objects): None when it is up to date."""
    tags = [tag for tag, _ in MIGRATIONS]
    if current_tag and current_tag not in tags:
        raise EdgeportError(f"the Worker's Durable Object migration tag is {current_tag!r}, which edgeport did not write "
                            f"(edgeport's tags: {', '.join(tags)}); set targets.cloudflare.scriptName to a script "
                            f"edgeport manages, or migrate this one to {tags[-1]!r} with wrangler first")
    steps = MIGRATIONS[tags.index(current_tag) + 1:] if current_tag else MIGRATIONS
    if not steps:
        return None
    old = {"old_tag": current_tag} if current_tag else {}
    if len(steps) == 1:
        return {**old, "new_tag": steps[0][0], **steps[0][1]}
    return {**old, "new_tag": steps[-1][0], "steps": [body for _, body in steps]}


def current_migration_tag(scripts: Any, name: str) -> str | None:
    """The migration tag of script `name` among the account's scripts (the data source's `results`)."""
    for s in scripts or []:
        if _field(s, "id") == name:
            return _field(s, "migration_tag") or None
    return None


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
# The workerd functions/package.json pins, and the newest compatibility date that binary accepts: it refuses a later
# one at start-up ('This Worker requires compatibility date "2026-12-01", but the newest date supported by this
# server binary is "2026-05-03"', measured with the pinned build; tests/test_layering.py checks both facts against
# the installed runtime). A later date would deploy to Cloudflare, which runs newer builds, but could not run in
# `edgeport dev`, the tests or conformance.
PINNED_WORKERD = "1.20260426.1"
NEWEST_LOCAL_DATE = "2026-05-03"
DEFAULT_COMPATIBILITY_DATE = "2026-04-01"

# How to write a setting that fails its pattern (edgeport.spec.loader shows it as the fix), by camelCase key.
HINTS = {
    "accountId": "copy the 32-character account id from the Cloudflare dashboard (Workers & Pages > Account details)",
    "zoneId": "copy the 32-character zone id from the zone's Overview page",
    "hostname": "use a lower-case host name such as shop.example.com (optionally *.example.com)",
    "compatibilityDate": f"use a date such as {DEFAULT_COMPATIBILITY_DATE}",
}

BUDGETS = {
    "free": Budget(3 * 1024 * 1024, "gzip", "Workers Free: 3 MB after gzip"),
    "paid": Budget(10 * 1024 * 1024, "gzip", "Workers Paid: 10 MB after gzip"),
}


def script_name(app: "App", stack: str) -> str:
    t = app.targets.cloudflare
    return (t.script_name if t and t.script_name else f"{app.name}-{stack}")[:54]


def secret_refs(app: "App", stack: str) -> dict[str, dict[str, str]]:
    return {s: {"env": env_name(s)} for s in app.secrets_for(NAME)}


def live_key(app: "App", stack: str, pattern) -> str:
    return f"{kind_of(pattern).live_tag}/{pattern.stable_id}"


def live_keys(app: "App", stack: str) -> dict[str, str]:
    return {p.name: live_key(app, stack, p) for p in runtime.live_patterns(app, NAME)}


def has_rooms(app: "App") -> bool:
    return runtime.needs(app, NAME, "durable-objects")


def local_settings(app: "App", stack: str) -> dict[str, Any]:
    """What the local host needs besides the bundle: runtime settings, bindings and seeded live values."""
    t = app.targets.cloudflare
    return {
        "compatibilityDate": t.compatibility_date,
        "compatibilityFlags": [],
        # A wildcard zone host is served locally as one of its subdomains, so the route patterns still apply.
        "hostname": f"local.{t.hostname[2:]}" if t.hostname.startswith("*.") else t.hostname,
        "kv": [LIVE_BINDING] if live_keys(app, stack) else [],
        "durableObjects": {ROOMS_BINDING: ROOM_CLASS} if has_rooms(app) else {},
        "live": {live_key(app, stack, p): json.dumps(runtime.live_default(p)) for p in runtime.live_patterns(app, NAME)},
        "routes": worker_routes(app),
    }


# Cloudflare's sources disagree: the Workers limits table (developers.cloudflare.com/workers/platform/limits) gives
# 128 KB of request headers; Fundamentals > "Connection limits" gives 32 KB in total and 16 KB per header. Sized
# against the smaller figures (KB read as 1,000 B), so a stack that passes fits under either.
REQUEST_HEADERS = HeaderLimit(32_000, 16_000, "request headers",
                              "Cloudflare connection limits: 16 KB per header, 32 KB total; the Workers limits table's 128 KB is not relied on")


def check_limits(app: "App", stack: str, units: list[BundleUnit]) -> list[SpecIssue]:
    # The config is part of the script, so the script size budget (BUDGETS, checked on the built bundle) covers it.
    return header_issues(app, NAME, REQUEST_HEADERS)


def bundles(app: "App", stack: str) -> list[BundleUnit]:
    cfg = runtime.runtime_config(app, stack, NAME, secrets=secret_refs(app, stack), live_keys=live_keys(app, stack))
    return [BundleUnit(NAME, None, f"{NAME}/{MAIN_MODULE}", cfg, inline_config=True, budget=BUDGETS[app.targets.cloudflare.plan])]


def _route_path(route: str) -> str:
    """The Workers route path for a declared route. Cloudflare matches a route against the whole URL including
    the query string, with "*" only at the end (developers.cloudflare.com/workers/configuration/routing/routes/,
    "Matching behavior"): "/account" would miss "/account?x=1", so every path ends in "*" - "/account" ->
    "/account*", "/api/*" -> "/api*" (also "/api"), "/" -> "/*". The Worker may see more than its patterns
    cover; the engine passes what no pattern covers on to the origin."""
    base = route.rstrip("*").rstrip("/")
    return f"{base}*" if base else "/*"


def worker_routes(app: "App") -> list[str]:
    """The Workers route patterns, one source for the WorkersRoute resources and the local zone emulation."""
    host = app.targets.cloudflare.hostname
    if runtime.guards_every_request(app, NAME):
        return [f"{host}/*"]
    paths = sorted({_route_path(r) for r in routes_for(app, NAME)})
    # A pattern another one covers adds nothing ("/landing*" covers "/landing/*").
    kept = [p for p in paths if not any(q != p and p.startswith(q[:-1]) for q in paths)]
    return [f"{host}{p}" for p in kept]


# Workers routes run only on a hostname with a proxied DNS record ("To add a route, you must have: ... A DNS record
# set up for the domain or subdomain proxied by Cloudflare", developers.cloudflare.com/workers/configuration/routing/
# routes/). A Worker that is the hostname's only origin gets the originless record that page mentions: AAAA 100::,
# the IPv6 discard prefix (RFC 6666), proxied, so requests end at Cloudflare's edge and never at that address. (The
# page now recommends a Workers custom domain for such hostnames instead: `customDomain: true`.)
ORIGINLESS_RECORD = {"type": "AAAA", "content": "100::"}


# ---------------------------------------------------------------- settings


class CloudflareTarget(Model):
    """A Worker on a Cloudflare zone."""

    account_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="Cloudflare account id (32 hex characters)")
    zone_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="zone id of the hostname (32 hex characters)")
    hostname: str = Field(
        pattern=r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="host the routes attach to, e.g. shop.example.com",
    )
    script_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,52}[a-z0-9]$")
    compatibility_date: str = Field(default=DEFAULT_COMPATIBILITY_DATE, pattern=r"^\d{4}-\d{2}-\d{2}$")
    plan: Literal["free", "paid"] = "free"
    custom_domain: bool = Field(default=False, description="also serve the Worker on the hostname as a Workers custom "
                                "domain (Cloudflare creates the DNS record and certificate; the Worker is the origin)")
    dns: bool = Field(default=False, description="create the proxied DNS record the Workers routes need for the hostname "
                      "(AAAA 100::, an originless record); leave false when the hostname already has one")


Settings = CloudflareTarget


def validate(app: "App", problems: "Problems") -> None:
    """Rules on the cloudflare settings that span fields."""
    cf = app.targets.cloudflare
    path = f"{ROOT}.targets.{NAME}"
    if cf is None:
        return
    if cf.compatibility_date > NEWEST_LOCAL_DATE:
        problems.add(f"{path}.compatibilityDate", f"{cf.compatibility_date} is after {NEWEST_LOCAL_DATE}, the newest date "
                     f"the pinned workerd {PINNED_WORKERD} supports: the Worker could not run in `edgeport dev`, the "
                     "tests or conformance", f"use {NEWEST_LOCAL_DATE} or earlier (or upgrade workerd and miniflare)")
    wildcard = cf.hostname.startswith("*.")
    if cf.custom_domain and wildcard:
        problems.add(f"{path}.customDomain", f"a Workers custom domain needs an exact hostname, not {cf.hostname!r}",
                     "set hostname to one host name, or remove customDomain")
    if cf.dns and cf.custom_domain:
        # A custom domain creates its own DNS record and refuses a hostname that already has an A/AAAA/CNAME record
        # (code 100117, workers-sdk #9878; developers.cloudflare.com/workers/configuration/routing/custom-domains/).
        problems.add(f"{path}.dns", "dns: true and customDomain: true would both create the hostname's DNS record; "
                     "Cloudflare refuses the custom domain when a record exists (code 100117)",
                     "remove dns: the custom domain creates the record itself")
    if cf.dns and wildcard:
        problems.add(f"{path}.dns", f"dns: true cannot create a record for the wildcard hostname {cf.hostname!r}: each "
                     "subdomain the routes serve needs its own proxied record",
                     "create proxied records for the subdomains you serve (or a proxied wildcard record) and remove dns")
