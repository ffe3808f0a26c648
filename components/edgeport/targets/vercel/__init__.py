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
from typing import TYPE_CHECKING, Literal, Mapping

from pydantic import Field

from ...errors import SpecIssue
from ...patterns import kind_of
from ...spec import runtime
from ...spec.secret_refs import env_name
from ...spec.types import ROOT, Model
from ..base import Budget, BundleUnit, HeaderLimit, header_issues, routes_for

if TYPE_CHECKING:
    from ...errors import Problems
    from ...spec.models import App

NAME = "vercel"
LABEL = "Vercel Routing Middleware"
DEFAULT_PORT = 8788
COMPONENT_TYPE = "edgeport:vercel:Middleware"  # the Pulumi component the resources module makes
# Component output -> (key in materialize's result, Python type, description); see cloudflare/__init__.py.
OUTPUTS = {
    "vercel_url": ("url", "str", "URL of the Vercel deployment."),
    "vercel_project_id": ("project_id", "str", "Vercel project id."),
}
ENTRY = "middleware.js"
LOCAL_RUNTIME = "Vercel's edge-runtime"  # what `edgeport dev` and the tests run the middleware in
# How to write a setting that fails its pattern (edgeport.spec.loader shows it as the fix), by camelCase key.
HINTS = {
    "teamId": "Vercel team ids look like team_abc123 (Team Settings > General)",
    "projectId": "Vercel project ids look like prj_abc123 (Project Settings > General)",
}
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


def bundle_footer(unit) -> str:
    """What follows the engine in middleware.js: the static config object. "The `config` object must be a
    constant: the matcher values are read at build time" (vercel.com/docs/routing-middleware/api#config-object)."""
    return f"export const config = {json.dumps({'matcher': unit.matcher or ['/:path*']}, separators=(',', ':'))};"


def matchers(app: "App") -> list[str]:
    """`config.matcher` of the middleware: the declared routes, or every path when a guard must see every request."""
    if runtime.guards_every_request(app, NAME):
        return [EVERY_PATH]
    return [matcher(r) for r in routes_for(app, NAME)]


def secret_refs(app: "App", stack: str) -> dict[str, dict[str, str]]:
    return {s: {"env": env_name(s)} for s in app.secrets_for(NAME)}


def vercel_json(app: "App") -> str:
    origin = app.origins["default"]
    return json.dumps({"rewrites": [{"source": "/:path*", "destination": f"{origin}/:path*"}]}, indent=2) + "\n"


EDGE_CONFIG_ENV = "EDGE_CONFIG"  # the connection string the middleware reads live settings with


def edge_config_name(app: "App", stack: str) -> str:
    """The Edge Config's name (the API's `slug`: ^[\\w-]+$, at most 64 characters, not unique per account;
    vercel.com/docs/rest-api/edge-config/create-an-edge-config)."""
    return f"{app.name}-{stack}"[:64]


def project_ref(app: "App", stack: str) -> str:
    """The project the deployment goes to: its declared id, or the name edgeport creates it under."""
    t = app.targets.vercel
    return t.project_id or t.project_name or f"{app.name}-{stack}"


def live_key(app: "App", stack: str, pattern) -> str:
    return f"{kind_of(pattern).live_tag}-{pattern.stable_id}"


def live_keys(app: "App", stack: str) -> dict[str, str]:
    return {p.name: live_key(app, stack, p) for p in runtime.live_patterns(app, NAME)}


def local_settings(app: "App", stack: str) -> dict:
    return {
        "edgeConfig": bool(live_keys(app, stack)),
        "live": {live_key(app, stack, p): json.dumps(runtime.live_default(p)) for p in runtime.live_patterns(app, NAME)},
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
    cfg = runtime.runtime_config(app, stack, NAME, secrets=secret_refs(app, stack), live_keys=live_keys(app, stack))
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


# ---------------------------------------------------------------- settings


class VercelTarget(Model):
    """A Vercel project whose Routing Middleware runs the patterns."""

    team_id: str | None = Field(default=None, pattern=r"^team_[A-Za-z0-9]+$")
    project_id: str | None = Field(default=None, pattern=r"^prj_[A-Za-z0-9]+$")
    project_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
    plan: Literal["hobby", "pro", "enterprise"] = "hobby"
    domain: str | None = Field(default=None, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                               description="production domain to add to the project (a ProjectDomain); the exported url "
                                           "uses it")


Settings = VercelTarget


def validate(app: "App", problems: "Problems") -> None:
    """Rules on the vercel settings that span fields."""
    vc = app.targets.vercel
    if vc.project_id and vc.project_name:
        problems.add(f"{ROOT}.targets.vercel", "sets both projectId and projectName",
                     "keep projectId to use an existing project, or projectName to let edgeport create one")


def local_stores(runner):
    """The Edge Config stand-in lives in the host; it can be made slow or unreachable when the stack has one."""
    from ...local.runner import HostStores

    return HostStores(runner, NAME, switchable=bool(runner.build.local.get(NAME, {}).get("edgeConfig")))
