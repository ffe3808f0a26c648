"""The Vercel resources of a stack: the project (or an existing one), the sensitive environment variables holding
secrets, the Edge Config of live settings, the deployment carrying middleware.js, and the optional domain
(pulumiverse-vercel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import pulumi

from ...spec import runtime
from ...spec.secret_refs import env_name
from ..base import pattern_resource, resource_slug
from . import (EDGE_CONFIG_ENV, edge_config_name, ENV_TARGETS, NAME, ROTATION_META, _program_relative, deployment_files, live_key,
               production_url, secrets_digest)

if TYPE_CHECKING:
    from ...build.artifacts import Artifact
    from ...spec.models import App




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
            store = vercel.EdgeConfig(f"{name}-edge-config", name=edge_config_name(app, stack), team_id=t.team_id,
                                      opts=pulumi.ResourceOptions(parent=self, protect=app.protects()))
            for p in live:
                rname, ropts = pattern_resource(f"{name}-live", p, taken, self)
                # Seeds the declared ratios once; later edits in Edge Config are live settings, not drift.
                vercel.EdgeConfigItem(rname, edge_config_id=store.id, team_id=t.team_id, key=live_key(app, stack, p),
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
