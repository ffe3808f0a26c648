"""The Pulumi program behind `pulumi up` (and `edgeport plan`, which runs it under mocks)."""

from __future__ import annotations

from pathlib import Path

import pulumi

from .build import build_app, default_out_dir
from .components import EdgeApp
from .errors import EdgeportError
from .spec.loader import file_lines, parse_app, stack_file


def program(project_dir: Path | None = None) -> EdgeApp:
    project_dir = project_dir or Path.cwd()
    stack = pulumi.get_stack()
    cfg = pulumi.Config("edgeport")
    raw = cfg.require_object("app")
    path = stack_file(project_dir, stack)
    app = parse_app(raw, file=f"stacks/{path.name}", lines=file_lines(path) if path.exists() else None)
    secrets = {s: cfg.require_secret(s) for s in app.secret_names()}
    build = build_app(app, stack, default_out_dir(project_dir, stack))
    edge = EdgeApp(app.name, {"app": app, "stack": stack, "secrets": secrets}, build=build, project_dir=project_dir)
    for target, outs in edge.outputs.items():
        pulumi.export(target.replace("-", "_"), outs)
    return edge


def main() -> None:
    try:
        program()
    except EdgeportError as e:
        raise pulumi.RunError(str(e)) from None
