"""The Cloudflare resources of a stack: the Worker script with its bindings, its routes, the KV namespace of live
settings, and the optional custom domain and DNS record (pulumi-cloudflare's resources, registered through sdk.py:
the same requests as the generated SDK without its 1-2 s import)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

import pulumi

from ...errors import EdgeportError
from ...spec import runtime
from ...spec.secret_refs import env_name
from ..base import pattern_resource, resource_slug
from . import sdk as cloudflare  # the subset of pulumi_cloudflare edgeport uses (tests swap in the real SDK)
from . import (NAME, LIVE_BINDING, MAIN_MODULE, ORIGINLESS_RECORD, ROOM_CLASS, ROOMS_BINDING,
               current_migration_tag, has_rooms, live_key, pending_migrations, script_name, worker_routes)

if TYPE_CHECKING:
    from ...build.artifacts import Artifact
    from ...spec.models import App


class CloudflareWorker(pulumi.ComponentResource):
    """The stack's Worker with its bindings and routes."""

    script_name: pulumi.Output[str]

    def __init__(self, name: str, app: "App", stack: str, artifact: "Artifact", secrets: Mapping[str, pulumi.Input[str]],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("edgeport:cloudflare:Worker", name, None, opts)
        t = app.targets.cloudflare
        child = pulumi.ResourceOptions(parent=self)
        # The script holds every room's Durable Object storage and the KV namespace the live settings: replacing or
        # deleting either loses data (App.protects).
        keep = pulumi.ResourceOptions(parent=self, protect=app.protects())
        bindings: list[dict[str, Any]] = []  # the config is in the script (build/engine.py), not a binding
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
                cloudflare.WorkersKv(rname, account_id=t.account_id, namespace_id=kv.id, key_name=live_key(app, stack, p),
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


def dns_record(name: str, t, opts: pulumi.ResourceOptions):
    """The proxied originless record for `targets.cloudflare.dns: true` (validation refuses it with customDomain,
    which creates its own record, and with a wildcard hostname)."""
    # ttl is required; 1 means "automatic" (pulumi_cloudflare 6.x dns_record.py, `ttl`).
    return cloudflare.DnsRecord(name, zone_id=t.zone_id, name=t.hostname, ttl=1, proxied=True,
                                comment="edgeport: Workers routes need a proxied record", opts=opts, **ORIGINLESS_RECORD)


def materialize(name: str, app: "App", stack: str, artifacts: list["Artifact"], secrets: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> dict[str, Any]:
    w = CloudflareWorker(name, app, stack, artifacts[0], secrets, opts)
    return {"script_name": w.script_name, "routes": [r.pattern for r in w.routes]}
