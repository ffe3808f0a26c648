"""Cloudflare Workers: one module Worker per stack, a WorkersRoute per declared route.

Config travels as the EDGEPORT_CONFIG JSON binding, each secret as a secret_text
binding whose value is a Pulumi secret. With pulumi-cloudflare v6 a secret lives
on the script, so rotating it redeploys the Worker (terraform-provider-cloudflare
#5892); that is expected.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

import pulumi

from ..patterns import kind_of
from ..spec import runtime
from ..spec.secret_refs import env_name
from ..errors import EdgeportError, SpecIssue
from .base import Budget, BundleUnit, HeaderLimit, header_issues, pattern_resource, resource_slug, routes_for

if TYPE_CHECKING:
    from ..build.artifacts import Artifact
    from ..spec.models import App

NAME = "cloudflare"
MAIN_MODULE = "worker.mjs"
CONFIG_BINDING = "EDGEPORT_CONFIG"
LIVE_BINDING = "EDGEPORT_LIVE"  # KV namespace with live settings (A/B ratios)
ROOMS_BINDING = "EDGEPORT_ROOMS"  # Durable Object namespace, one object per room
ROOM_CLASS = "EdgeportRoom"  # exported by functions/src/adapters/cloudflare.ts, whether or not rooms are declared

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
# Keep in step with the pinned workerd (1.20260426.1): a local runtime refuses dates after its build.
DEFAULT_COMPATIBILITY_DATE = "2026-04-01"

BUDGETS = {
    "free": Budget(3 * 1024 * 1024, "gzip", "Workers Free: 3 MB after gzip"),
    "paid": Budget(10 * 1024 * 1024, "gzip", "Workers Paid: 10 MB after gzip"),
}


def script_name(app: "App", stack: str) -> str:
    t = app.targets.cloudflare
    return (t.script_name if t and t.script_name else f"{app.name}-{stack}")[:54]


def secret_refs(app: "App") -> dict[str, dict[str, str]]:
    return {s: {"env": env_name(s)} for s in app.secrets_for(NAME)}


def live_key(pattern) -> str:
    return f"{kind_of(pattern).live_tag}/{pattern.stable_id}"


def live_keys(app: "App") -> dict[str, str]:
    return {p.name: live_key(p) for p in runtime.live_patterns(app, NAME)}


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
        "kv": [LIVE_BINDING] if live_keys(app) else [],
        "durableObjects": {ROOMS_BINDING: ROOM_CLASS} if has_rooms(app) else {},
        "live": {live_key(p): json.dumps(runtime.live_default(p)) for p in runtime.live_patterns(app, NAME)},
        "routes": worker_routes(app),
    }


ENV_VAR_LIMIT = 5 * 1024  # bytes per environment variable, JSON bindings included (Workers limits)
# Cloudflare's sources disagree: the Workers limits table (developers.cloudflare.com/workers/platform/limits) gives
# 128 KB of request headers; Fundamentals > "Connection limits" gives 32 KB in total and 16 KB per header. Sized
# against the smaller figures (KB read as 1,000 B), so a stack that passes fits under either.
REQUEST_HEADERS = HeaderLimit(32_000, 16_000, "request headers",
                              "Cloudflare connection limits: 16 KB per header, 32 KB total; the Workers limits table's 128 KB is not relied on")


def config_json(config: dict[str, Any]) -> str:
    """The EDGEPORT_CONFIG binding as sent: compact JSON."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def check_limits(app: "App", stack: str, units: list[BundleUnit]) -> list[SpecIssue]:
    issues = []
    for u in units:
        size = len(config_json(u.config).encode())
        if size > ENV_VAR_LIMIT:
            issues.append(SpecIssue("edgeport:app.patterns", f"the Worker's {CONFIG_BINDING} binding would be {size:,} B; "
                                    f"Cloudflare allows {ENV_VAR_LIMIT:,} B per variable",
                                    "move some patterns to their own stack, or shorten large settings such as jwks"))
    issues += header_issues(app, NAME, REQUEST_HEADERS)
    return issues


def bundles(app: "App", stack: str) -> list[BundleUnit]:
    cfg = runtime.runtime_config(app, stack, NAME, secrets=secret_refs(app), live_keys=live_keys(app))
    return [BundleUnit(NAME, None, f"{NAME}/{MAIN_MODULE}", cfg, inline_config=False, budget=BUDGETS[app.targets.cloudflare.plan])]


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


class CloudflareWorker(pulumi.ComponentResource):
    """The stack's Worker with its bindings and routes."""

    script_name: pulumi.Output[str]

    def __init__(self, name: str, app: "App", stack: str, artifact: "Artifact", secrets: Mapping[str, pulumi.Input[str]],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("edgeport:cloudflare:Worker", name, None, opts)
        import pulumi_cloudflare as cloudflare

        t = app.targets.cloudflare
        child = pulumi.ResourceOptions(parent=self)
        # The script holds every room's Durable Object storage and the KV namespace the live settings: replacing or
        # deleting either loses data (App.protects).
        keep = pulumi.ResourceOptions(parent=self, protect=app.protects())
        bindings: list[dict[str, Any]] = [
            {"name": CONFIG_BINDING, "type": "json", "json": config_json(artifact.config)}
        ]
        for s in artifact.secret_names:
            bindings.append({"name": env_name(s), "type": "secret_text", "text": pulumi.Output.secret(secrets[s])})
        self.live_namespace = None
        live = runtime.live_patterns(app, NAME)
        if live:
            kv = cloudflare.WorkersKvNamespace(f"{name}-live", account_id=t.account_id,
                                               title=f"{script_name(app, stack)}-live", opts=keep)
            taken: set[str] = set()
            for p in live:
                rname, ropts = pattern_resource(f"{name}-live", p, taken, self)
                # Seeds the declared ratios once; later edits in KV are live settings, not drift.
                cloudflare.WorkersKv(rname, account_id=t.account_id, namespace_id=kv.id, key_name=live_key(p),
                                     value=json.dumps(runtime.live_default(p)),
                                     opts=pulumi.ResourceOptions.merge(ropts, pulumi.ResourceOptions(ignore_changes=["value"])))
            bindings.append({"name": LIVE_BINDING, "type": "kv_namespace", "namespace_id": kv.id})
            self.live_namespace = kv
        extra: dict[str, Any] = {}
        if has_rooms(app):
            bindings.append({"name": ROOMS_BINDING, "type": "durable_object_namespace", "class_name": ROOM_CLASS})
            name_ = script_name(app, stack)
            scripts = cloudflare.get_workers_scripts_output(account_id=t.account_id, opts=pulumi.InvokeOptions(parent=self))
            extra["migrations"] = scripts.results.apply(lambda rs: pending_migrations(current_migration_tag(rs, name_)))
        script = cloudflare.WorkersScript(
            f"{name}-script",
            account_id=t.account_id,
            script_name=script_name(app, stack),
            content=artifact.code,
            main_module=MAIN_MODULE,
            compatibility_date=t.compatibility_date,
            bindings=bindings,
            **extra,
            opts=keep,
        )
        taken = set()
        self.routes = [
            cloudflare.WorkersRoute(
                f"{name}-route-{resource_slug(pattern[len(t.hostname):], taken)}",
                zone_id=t.zone_id,
                pattern=pattern,
                script=script.script_name,
                opts=child,
            )
            for pattern in worker_routes(app)
        ]
        if t.custom_domain:
            if t.hostname.startswith("*."):
                raise EdgeportError("targets.cloudflare.customDomain needs a hostname without a wildcard")
            cloudflare.WorkersCustomDomain(f"{name}-domain", account_id=t.account_id, zone_id=t.zone_id, hostname=t.hostname,
                                           service=script.script_name, opts=child)
        if t.dns:
            dns_record(f"{name}-dns", t, child)
        self.script_name = script.script_name
        self.register_outputs({"script_name": script.script_name, "routes": [r.pattern for r in self.routes]})


# Workers routes run only on a hostname with a proxied DNS record ("To add a route, you must have: ... A DNS record
# set up for the domain or subdomain proxied by Cloudflare", developers.cloudflare.com/workers/configuration/routing/
# routes/). A Worker that is the hostname's only origin gets the originless record that page mentions: AAAA 100::,
# the IPv6 discard prefix (RFC 6666), proxied, so requests end at Cloudflare's edge and never at that address. (The
# page now recommends a Workers custom domain for such hostnames instead: `customDomain: true`.)
ORIGINLESS_RECORD = {"type": "AAAA", "content": "100::"}


def dns_record(name: str, t, opts: pulumi.ResourceOptions):
    """The proxied originless record for `targets.cloudflare.dns: true` (validation refuses it with customDomain,
    which creates its own record, and with a wildcard hostname)."""
    import pulumi_cloudflare as cloudflare

    # ttl is required; 1 means "automatic" (pulumi_cloudflare 6.x dns_record.py, `ttl`).
    return cloudflare.DnsRecord(name, zone_id=t.zone_id, name=t.hostname, ttl=1, proxied=True,
                                comment="edgeport: Workers routes need a proxied record", opts=opts, **ORIGINLESS_RECORD)


def materialize(name: str, app: "App", stack: str, artifacts: list["Artifact"], secrets: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> dict[str, Any]:
    w = CloudflareWorker(name, app, stack, artifacts[0], secrets, opts)
    return {"script_name": w.script_name, "routes": [r.pattern for r in w.routes]}
