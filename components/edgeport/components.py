"""Pulumi components: EdgeApp turns a validated App and its built bundles into provider resources.

Each target's resources are created by that target's module (edgeport.targets.*)
as a child component of EdgeApp, so the resource tree reads
EdgeApp -> <target component> -> provider resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pulumi

from .build import BuildResult, build_app, default_out_dir
from .errors import EdgeportError
from .spec.models import App
from .spec.validate import check_secret_value, validate_app
from .targets import profile


@dataclass
class EdgeAppArgs:
    """Inputs of EdgeApp.

    app: the validated declaration (from YAML via edgeport.spec.parse_app, or built in Python).
    stack: the stack name (names resources and secrets).
    secrets: secret name -> value; pass Pulumi secrets (pulumi.Config().require_secret).
    build: bundles already built for this app and stack; built into .edgeport/build/<stack> when omitted.
    """

    app: App
    stack: str
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    build: BuildResult | None = None
    project_dir: Path = field(default_factory=Path.cwd)


def _checked(name: str, value: pulumi.Input[str], app: App) -> pulumi.Output[str]:
    def check(v: str) -> str:
        problems = check_secret_value(name, v, app)
        if problems:
            raise EdgeportError("; ".join(problems))
        return v

    return pulumi.Output.secret(pulumi.Output.from_input(value).apply(check))


class EdgeApp(pulumi.ComponentResource):
    """A whole edgeport stack: every pattern materialized on every target it declares."""

    outputs: dict[str, Any]

    def __init__(self, name: str, args: EdgeAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("edgeport:index:EdgeApp", name, None, opts)
        app = args.app
        validate_app(app).raise_if_any()  # an App built in Python gets the same checks as YAML
        missing = [s for s in app.secret_names() if s not in args.secrets]
        if missing:
            raise EdgeportError(f"no value for secret{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                                + "; ".join(f"pulumi config set --secret {m} <value>" for m in missing))
        build = args.build or build_app(app, args.stack, default_out_dir(args.project_dir, args.stack))
        secrets = {s: _checked(s, args.secrets[s], app) for s in app.secret_names()}
        self.outputs = {}
        for target in app.targets.names():
            artifacts = build.for_target(target)
            if not artifacts:
                continue
            self.outputs[target] = profile(target).materialize(
                f"{name}-{target}", app, args.stack, artifacts, secrets, pulumi.ResourceOptions(parent=self))
        self.register_outputs({k.replace("-", "_"): v for k, v in self.outputs.items()})
