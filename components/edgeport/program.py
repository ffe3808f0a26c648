"""The Pulumi program behind `pulumi up` (and `edgeport plan`, which runs it under mocks)."""

from __future__ import annotations

from pathlib import Path

import pulumi

from .build import build_app, default_out_dir
from .components import EdgeApp
from .errors import EdgeportError, SpecError
from .spec.loader import Stack, locator, parse_app, read_stack_file, stack_file
from .spec.models import App


def _declared(project_dir: Path, stack: str, raw: object) -> tuple[App, str, dict | None]:
    """The validated App from the Pulumi config, with the stack file's name and line numbers for errors."""
    path = stack_file(project_dir, stack)
    rel = str(path.relative_to(project_dir)) if path.is_relative_to(project_dir) else str(path)
    # `pulumi up` does not go through load_stack: refuse a plain-text secret in the stack file here too (one parse
    # gives the line numbers and the secrets).
    lines, leaks = read_stack_file(path, stack, rel) if path.exists() else (None, [])
    try:
        app = parse_app(raw, file=rel, lines=lines)
    except SpecError as e:
        raise SpecError([*e.issues, *leaks]) from None
    if leaks:
        raise SpecError(leaks)
    return app, rel, lines


def program(project_dir: Path | None = None, loaded: Stack | None = None) -> EdgeApp:
    """`loaded` is the stack `edgeport plan` has already read and validated (so the file is read once per command);
    under `pulumi up` the declaration comes from the Pulumi config."""
    project_dir = project_dir or Path.cwd()
    stack = pulumi.get_stack()
    cfg = pulumi.Config("edgeport")
    if loaded is not None and loaded.name == stack:
        app, locate, units = loaded.app, loaded.locate, loaded.units  # units: worked out (and checked) by load_stack
    else:
        app, rel, lines = _declared(project_dir, stack, cfg.require_object("app"))
        locate, units = locator(rel, lines), None
    secrets = {s: cfg.require_secret(s) for s in app.secret_names()}
    build = build_app(app, stack, default_out_dir(project_dir, stack), locate, units=units)
    edge = EdgeApp(app.name, {"app": app, "stack": stack, "secrets": secrets}, build=build, project_dir=project_dir,
                   validated=True)
    for target, outs in edge.outputs.items():
        pulumi.export(target.replace("-", "_"), outs)
    return edge


def main() -> None:
    try:
        program()
    except EdgeportError as e:
        raise pulumi.RunError(str(e)) from None
