"""The Pulumi program behind `pulumi up` (and `edgeport plan`, which runs it under mocks)."""

from __future__ import annotations

from pathlib import Path

import pulumi

from .build import build_app, default_out_dir
from .components import EdgeApp
from .errors import EdgeportError, SpecError
from .spec.loader import file_lines, locator, parse_app, stack_file, stack_file_secret_issues


def program(project_dir: Path | None = None) -> EdgeApp:
    project_dir = project_dir or Path.cwd()
    stack = pulumi.get_stack()
    cfg = pulumi.Config("edgeport")
    raw = cfg.require_object("app")
    path = stack_file(project_dir, stack)
    rel = f"stacks/{path.name}"
    lines = file_lines(path) if path.exists() else None
    # `pulumi up` does not go through load_stack: refuse a plain-text secret in the stack file here too.
    leaks = stack_file_secret_issues(path, stack, rel) if path.exists() else []
    try:
        app = parse_app(raw, file=rel, lines=lines)
    except SpecError as e:
        raise SpecError([*e.issues, *leaks]) from None
    if leaks:
        raise SpecError(leaks)
    secrets = {s: cfg.require_secret(s) for s in app.secret_names()}
    build = build_app(app, stack, default_out_dir(project_dir, stack), locator(rel, lines))
    edge = EdgeApp(app.name, {"app": app, "stack": stack, "secrets": secrets}, build=build, project_dir=project_dir)
    for target, outs in edge.outputs.items():
        pulumi.export(target.replace("-", "_"), outs)
    return edge


def main() -> None:
    try:
        program()
    except EdgeportError as e:
        raise pulumi.RunError(str(e)) from None
