"""`edgeport conformance`: run the scenario suite against the stack's targets.

Registered on the main command group by edgeport.cli (main.add_command(conformance_command)).
It also works on its own, so it handles edgeport errors itself: message on stderr (and a
JSON error object with --json), exit 2 for malformed scenario files or stack, 1 otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import targets
from ..errors import EdgeportError, LocalSecretError, SpecError

TARGET_CHOICES = list(targets.NAMES)


@click.command("conformance")
@click.option("--stack", "-s", "stack_name", required=True, metavar="NAME", help="Stack to use: reads Pulumi.NAME.yaml in the stackConfigDir of Pulumi.yaml.")
@click.option("--target", "-t", "targets", multiple=True, type=click.Choice(TARGET_CHOICES),
              help="Run on this target only (repeatable; default: every target the stack declares).")
@click.option("--pattern", "-p", "patterns", multiple=True, metavar="NAME|TYPE",
              help="Run the scenarios of this pattern only, by name (api-auth) or type (jwt-auth); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout.")
@click.option("--scenarios", "scenarios_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Scenario directory (default: conformance/scenarios of the project, else the scenarios edgeport ships).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Build directory (default: .edgeport/build/<stack>).")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory holding Pulumi.yaml (default: this directory or a parent).")
def conformance_command(stack_name: str, targets: tuple[str, ...], patterns: tuple[str, ...], as_json: bool,
                        scenarios_dir: Path | None, out_dir: Path | None, project_dir: Path | None) -> None:
    """Run the declarative conformance scenarios (conformance/scenarios/*.yaml) against
    the built bundles in each target's local runtime, and print a pattern x scenario x
    target table: pass, FAIL (with a diff of expected and actual), declared-difference
    (an intended platform difference, with its reason) or n/a (the target does not run
    the pattern, and why). Exit 1 when anything fails."""
    from .report import render_failures, render_summary, render_table
    from .runner import run_conformance
    from .scenarios import ScenarioError

    def progress(msg: str) -> None:
        click.secho(msg, fg="bright_black", err=True)

    try:
        report = run_conformance(stack_name, project_dir=project_dir, targets=list(targets) or None,
                                 patterns=list(patterns) or None, scenarios_dir=scenarios_dir, out_dir=out_dir,
                                 progress=progress)
    except EdgeportError as e:
        if as_json:
            payload: dict = {"ok": False, "error": str(e)}
            if isinstance(e, (ScenarioError, SpecError, LocalSecretError)):
                payload["issues"] = [i.to_json() for i in e.issues]
            click.echo(json.dumps(payload, indent=2))
        click.secho(f"error: {e}", fg="red", err=True)
        click.get_current_context().exit(e.exit_code)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(render_table(report))
        failures = render_failures(report)
        if failures:
            click.echo("\n" + failures)
        for n in report.notes:
            click.secho(f"note: {n}", fg="yellow")
        click.echo("\n" + render_summary(report))
    if not report.ok:
        click.get_current_context().exit(1)
