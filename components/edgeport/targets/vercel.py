"""Vercel: a project whose Routing Middleware runs the patterns, in front of the origin.

The deployment carries `middleware.js` (config inlined, `config.matcher` as a
literal) and a `vercel.json` that rewrites every path to the default origin, so
the middleware's next() continues to the origin. Secrets are sensitive project
environment variables, created before the deployment (Vercel bakes env vars in
at build time).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import pulumi

from ..patterns import kind_of
from ..spec import runtime
from ..spec.secret_refs import env_name
from ..errors import SpecIssue
from .base import Budget, BundleUnit, HeaderLimit, header_issues, pattern_resource, resource_slug, routes_for

if TYPE_CHECKING:
    from ..build.artifacts import Artifact
    from ..spec.models import App

NAME = "vercel"
ENTRY = "middleware.js"
ENV_TARGETS = ["production", "preview"]  # sensitive variables cannot target development

BUDGETS = {
    "hobby": Budget(1024 * 1024, "gzip", "Vercel Hobby: 1 MB Edge code after gzip"),
    "pro": Budget(2 * 1024 * 1024, "gzip", "Vercel Pro: 2 MB Edge code after gzip"),
    "enterprise": Budget(4 * 1024 * 1024, "gzip", "Vercel Enterprise: 4 MB Edge code after gzip"),
}


# Every path, including ones path-to-regexp's ":path*" would miss ("//api/x" has an empty segment).
EVERY_PATH = "/(.*)"


def matcher(route: str) -> str:
    """A route as a Vercel matcher (path-to-regexp). Prefixes become `(.*)` suffixes."""
    return route[:-1] + "(.*)" if route.endswith("*") else route


def matchers(app: "App") -> list[str]:
    """`config.matcher` of the middleware: the declared routes, or every path when a guard must see every request."""
    if runtime.guards_every_request(app, NAME):
        return [EVERY_PATH]
    return [matcher(r) for r in routes_for(app, NAME)]


def secret_refs(app: "App") -> dict[str, dict[str, str]]:
    return {s: {"env": env_name(s)} for s in app.secrets_for(NAME)}


def vercel_json(app: "App") -> str:
    origin = app.origins["default"]
    return json.dumps({"rewrites": [{"source": "/:path*", "destination": f"{origin}/:path*"}]}, indent=2) + "\n"


EDGE_CONFIG_ENV = "EDGE_CONFIG"  # the connection string the middleware reads live settings with


def live_key(pattern) -> str:
    return f"{kind_of(pattern).live_tag}-{pattern.stable_id}"


def live_keys(app: "App") -> dict[str, str]:
    return {p.name: live_key(p) for p in runtime.live_patterns(app, NAME)}


def local_settings(app: "App", stack: str) -> dict:
    return {
        "edgeConfig": bool(live_keys(app)),
        "live": {live_key(p): json.dumps(runtime.live_default(p)) for p in runtime.live_patterns(app, NAME)},
    }


EDGE_CONFIG_LIMIT = {"hobby": 8 * 1024, "pro": 64 * 1024, "enterprise": 512 * 1024}  # store size per plan
# Vercel docs, errors/REQUEST_HEADER_TOO_LARGE (updated 2025-10-06): each request header at most 16 KB, all headers
# including their names at most 32 KB, for functions and Routing Middleware. KB read as 1,000 B, the smaller reading.
REQUEST_HEADERS = HeaderLimit(32_000, 16_000, "request headers", "Vercel REQUEST_HEADER_TOO_LARGE: 16 KB per header, 32 KB total")


def check_limits(app: "App", stack: str, units: list[BundleUnit]) -> list[SpecIssue]:
    issues = []
    plan = app.targets.vercel.plan
    size = sum(len(k) + len(v) for k, v in local_settings(app, stack)["live"].items())
    if size > EDGE_CONFIG_LIMIT[plan]:
        issues.append(SpecIssue("edgeport:app.targets.vercel.plan", f"the live settings need {size:,} B of Edge Config; "
                                f"the {plan} plan allows {EDGE_CONFIG_LIMIT[plan]:,} B per store",
                                "use fewer live A/B tests on vercel (live: false) or a larger plan"))
    issues += header_issues(app, NAME, REQUEST_HEADERS)
    return issues


def bundles(app: "App", stack: str) -> list[BundleUnit]:
    cfg = runtime.runtime_config(app, stack, NAME, secrets=secret_refs(app), live_keys=live_keys(app))
    return [
        BundleUnit(
            NAME, None, f"{NAME}/{ENTRY}", cfg, inline_config=True, budget=BUDGETS[app.targets.vercel.plan],
            matcher=matchers(app), extra_files={f"{NAME}/vercel.json": vercel_json(app)},
        )
    ]


def deployment_files(directory: Path) -> dict[str, str]:
    """Vercel's file map: local path -> '<size>~<sha1>' (the provider uploads by path)."""
    out: dict[str, str] = {}
    for root, _dirs, files in os.walk(directory):
        for f in sorted(files):
            p = Path(root) / f
            data = p.read_bytes()
            out[_program_relative(p)] = f"{len(data)}~{hashlib.sha1(data).hexdigest()}"
    return dict(sorted(out.items()))


ROTATION_META = "edgeport-secrets"


def secrets_digest(values: Mapping[str, str]) -> str:
    """A short digest of the sensitive variables' values, for the deployment's `meta`. Vercel bakes variables
    in at build time, and terraform-provider-vercel replaces a Deployment only when `files`, `environment` or
    `meta` change (vercel/resource_deployment.go), not when a project variable does: without this a rotated
    secret would stay live in the running deployment. 64 bits of SHA-256 over high-entropy values say nothing
    about them, and the value is still handled as a Pulumi secret."""
    h = hashlib.sha256()
    for k in sorted(values):
        h.update(f"{k}={values[k]}\n".encode())
    return h.hexdigest()[:16]


def production_url(domains: list[str] | None, project_name: str | None, fallback: str | None) -> str | None:
    """The deployment's public production address: the project's own `<name>.vercel.app` when Vercel assigned
    it, else the shortest *.vercel.app domain it assigned (Vercel adds a suffix when the name is taken), else
    the deployment URL. Deployment URLs sit behind Deployment Protection by default (standard_protection_new);
    production domains do not (terraform-provider-vercel docs/resources/project.md)."""
    names = sorted(domains or [], key=lambda d: (len(d), d))
    if project_name and f"{project_name}.vercel.app" in names:
        return f"https://{project_name}.vercel.app"
    own = [d for d in names if d.endswith(".vercel.app")]
    return f"https://{own[0]}" if own else (f"https://{fallback}" if fallback else None)


def _program_relative(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p.resolve())


class VercelMiddleware(pulumi.ComponentResource):
    """Project (or an existing one), sensitive env vars and the middleware deployment."""

    url: pulumi.Output[str]
    project_id: pulumi.Output[str]

    def __init__(self, name: str, app: "App", stack: str, artifact: "Artifact", secrets: Mapping[str, pulumi.Input[str]],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("edgeport:vercel:Middleware", name, None, opts)
        import pulumiverse_vercel as vercel

        t = app.targets.vercel
        child = pulumi.ResourceOptions(parent=self)
        project_name = None if t.project_id else (t.project_name or f"{app.name}-{stack}")
        if t.project_id:
            project_id: pulumi.Input[str] = t.project_id
        else:
            project = vercel.Project(f"{name}-project", name=project_name, framework=None, team_id=t.team_id, opts=child)
            project_id = project.id
        sensitive: dict[str, pulumi.Input[str]] = {env_name(s): secrets[s] for s in artifact.secret_names}
        taken: set[str] = set()
        env_vars = [
            vercel.ProjectEnvironmentVariable(
                f"{name}-env-{resource_slug(s, taken)}",
                project_id=project_id,
                team_id=t.team_id,
                key=env_name(s),
                value=pulumi.Output.secret(secrets[s]),
                sensitive=True,
                targets=ENV_TARGETS,
                opts=child,
            )
            for s in artifact.secret_names
        ]
        live = runtime.live_patterns(app, NAME)
        if live:
            # The store holds the live settings (App.protects).
            store = vercel.EdgeConfig(f"{name}-edge-config", name=f"{app.name}-{stack}"[:64], team_id=t.team_id,
                                      opts=pulumi.ResourceOptions(parent=self, protect=app.protects()))
            for p in live:
                rname, ropts = pattern_resource(f"{name}-live", p, taken, self)
                # Seeds the declared ratios once; later edits in Edge Config are live settings, not drift.
                vercel.EdgeConfigItem(rname, edge_config_id=store.id, team_id=t.team_id, key=live_key(p),
                                      value_json=runtime.live_default(p),
                                      opts=pulumi.ResourceOptions.merge(ropts, pulumi.ResourceOptions(ignore_changes=["value_json"])))
            token = vercel.EdgeConfigToken(f"{name}-edge-config-token", edge_config_id=store.id, team_id=t.team_id,
                                           label=f"edgeport {app.name}/{stack} middleware", opts=child)
            env_vars.append(vercel.ProjectEnvironmentVariable(
                f"{name}-env-edge-config", project_id=project_id, team_id=t.team_id, key=EDGE_CONFIG_ENV,
                value=pulumi.Output.secret(token.connection_string), sensitive=True, targets=ENV_TARGETS, opts=child))
            sensitive[EDGE_CONFIG_ENV] = token.connection_string
        bundle_dir = artifact.path.parent
        # A changed sensitive value changes `meta`, which replaces the deployment: the new value goes live.
        digest = pulumi.Output.all(**sensitive).apply(secrets_digest) if sensitive else None
        deployment = vercel.Deployment(
            f"{name}-deployment",
            project_id=project_id,
            team_id=t.team_id,
            files=deployment_files(bundle_dir),
            path_prefix=_program_relative(bundle_dir),
            production=True,
            meta={ROTATION_META: pulumi.Output.secret(digest)} if digest is not None else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=env_vars),
        )
        if t.domain:
            vercel.ProjectDomain(f"{name}-domain", project_id=project_id, team_id=t.team_id, domain=t.domain, opts=child)
            self.url = pulumi.Output.from_input(f"https://{t.domain}")
        else:
            self.url = pulumi.Output.all(deployment.domains, deployment.url).apply(
                lambda v: production_url(v[0], project_name, v[1]))
        self.deployment_url = deployment.url.apply(lambda u: f"https://{u}" if u else None)
        self.project_id = pulumi.Output.from_input(project_id)
        self.register_outputs({"url": self.url, "deployment_url": self.deployment_url, "project_id": self.project_id})


def materialize(name: str, app: "App", stack: str, artifacts: list["Artifact"], secrets: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> dict:
    m = VercelMiddleware(name, app, stack, artifacts[0], secrets, opts)
    return {"url": m.url, "deployment_url": m.deployment_url, "project_id": m.project_id}
