"""`edgeport ci`: the logic of the GitOps workflows (examples/github/workflows/), kept here so it is tested.

    edgeport ci stacks [--json]                      the project's stacks (a workflow matrix)
    edgeport ci pr --base REF --out DIR [--annotations] [--json]
        the stacks a pull request touches (git diff REF...HEAD), each validated (GitHub annotations) and planned
        offline; one comment body per stack in DIR/<stack>.md, marked for an in-place update
    edgeport ci comment --stack S --body FILE --repo OWNER/NAME --pr N
        create the pull request's comment for the stack, or update the one carrying its marker

Which changes touch which stacks: a stack file touches its stack; the project's own code and pins (Pulumi.yaml,
__main__.py, requirements files, pyproject.toml, and edgeport's functions/ and components/ when the project is
edgeport's own checkout) touch every stack; anything else touches none.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import click

from .errors import EdgeportError

MARKER = "<!-- edgeport-plan:{stack} -->"
EVERY_STACK = ("Pulumi.yaml", "__main__.py", "requirements.txt", "requirements.lock", "pyproject.toml")
EVERY_STACK_DIRS = ("functions/", "components/", "policy/")
GITHUB_API = "https://api.github.com"


def stacks(project_dir: Path) -> list[str]:
    from .spec.loader import stack_dir

    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stack_dir(project_dir).glob("Pulumi.*.yaml"))


def changed_files(project_dir: Path, base: str) -> list[str]:
    """Files changed between the merge base of `base` and HEAD, relative to the repository root."""
    r = subprocess.run(["git", "diff", "--name-only", f"{base}...HEAD"], cwd=project_dir, capture_output=True, text=True)
    if r.returncode != 0:
        raise EdgeportError(f"git diff {base}...HEAD failed: {r.stderr.strip() or r.stdout.strip()} "
                            "(fetch the base branch first, e.g. actions/checkout with fetch-depth: 0)")
    return [line for line in r.stdout.splitlines() if line]


def touched(project_dir: Path, files: list[str]) -> tuple[list[str], dict[str, str]]:
    """(touched stacks, why each is touched)."""
    from .spec.loader import stack_dir

    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=project_dir, capture_output=True, text=True).stdout.strip()
    root = Path(top or project_dir).resolve()
    sdir = stack_dir(project_dir).resolve()
    every = sorted(stacks(project_dir))
    why: dict[str, str] = {}
    for f in files:
        path = (root / f).resolve()
        rel = path.relative_to(project_dir.resolve()).as_posix() if path.is_relative_to(project_dir.resolve()) else None
        if path.parent == sdir and path.name.startswith("Pulumi.") and path.name.endswith(".yaml"):
            s = path.name[len("Pulumi."):-len(".yaml")]
            if s in every:
                why.setdefault(s, f)
        elif rel is not None and (rel in EVERY_STACK or rel.startswith(EVERY_STACK_DIRS)):
            for s in every:
                why.setdefault(s, f)
    return sorted(why), why


def comment_body(stack: str, markdown: str, issues: list[str], why: str) -> str:
    head = MARKER.format(stack=stack)
    if issues:
        return (f"{head}\n### edgeport: stack `{stack}` is invalid\n\nTouched by `{why}`.\n\n"
                + "\n".join(f"- `{i.splitlines()[0]}`" for i in issues) + "\n")
    return f"{head}\n{markdown.rstrip()}\n\n<sub>Touched by `{why}`.</sub>\n"


def annotation(issue) -> str:
    """A GitHub Actions workflow command: an error shown on the file and line
    (docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-error-message)."""
    def esc(s: str) -> str:  # data: %, CR, LF; properties also : and ,
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    props = ",".join(f"{k}={esc(str(v)).replace(':', '%3A').replace(',', '%2C')}"
                     for k, v in (("file", issue.file), ("line", issue.line)) if v)
    text = f"{issue.path}: {issue.message}" + (f" (fix: {issue.hint})" if issue.hint else "")
    return f"::error {props}::{esc(text)}" if props else f"::error::{esc(text)}"


@click.group("ci")
def ci_command() -> None:
    """What the GitOps workflows run (examples/github/workflows/, docs/gitops.md)."""


@ci_command.command("stacks")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def ci_stacks(project_dir: Path | None) -> None:
    """The project's stacks as a JSON list (a workflow matrix)."""
    from .spec.loader import find_project_dir

    click.echo(json.dumps(stacks(project_dir or find_project_dir())))


@ci_command.command("pr")
@click.option("--base", required=True, metavar="REF", help="The pull request's base, e.g. origin/main.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the comment bodies (<stack>.md).")
@click.option("--annotations", is_flag=True, help="Print invalid declarations as GitHub error annotations (file:line).")
@click.option("--json", "as_json", is_flag=True, help="A JSON summary on stdout.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.pass_context
def ci_pr(ctx: click.Context, base: str, out_dir: Path, annotations: bool, as_json: bool, project_dir: Path | None) -> None:
    """Validate and plan (offline) every stack the pull request touches; write one comment body per stack.
    Exit 2 when a touched stack is invalid."""
    from .errors import SpecError
    from .plan import run_plan
    from .plan_render import render_markdown
    from .spec.loader import find_project_dir, load_stack

    pdir = project_dir or find_project_dir()
    files = changed_files(pdir, base)
    names, why = touched(pdir, files)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"base": base, "changed": files, "stacks": {}}
    invalid = False
    for s in names:
        try:
            st = load_stack(s, pdir)
            plan = run_plan(st)
            body = comment_body(s, render_markdown(plan), [], why[s])
            summary["stacks"][s] = {"valid": True, "because": why[s], "resources": len(plan.resources)}
        except SpecError as e:
            invalid = True
            if annotations:
                for i in e.issues:
                    click.echo(annotation(i))
            body = comment_body(s, "", [i.format() for i in e.issues], why[s])
            summary["stacks"][s] = {"valid": False, "because": why[s], "issues": [i.to_json() for i in e.issues]}
        (out_dir / f"{s}.md").write_text(body)
        summary["stacks"][s]["comment"] = str(out_dir / f"{s}.md")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not annotations:
        click.echo(f"{len(names)} stack(s) touched: {', '.join(names) or 'none'}")
    if invalid:
        ctx.exit(2)


@ci_command.command("comment")
@click.option("--stack", "stack_name", required=True)
@click.option("--body", "body_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--repo", required=True, metavar="OWNER/NAME")
@click.option("--pr", "number", type=int, required=True)
def ci_comment(stack_name: str, body_file: Path, repo: str, number: int) -> None:
    """Create the stack's plan comment on the pull request, or update the one carrying its marker (GITHUB_TOKEN;
    GITHUB_API_URL as Actions sets it)."""
    from .ops import OpsError, require
    from .ops.http import JsonApi

    env = os.environ
    try:
        api = JsonApi(env.get("GITHUB_API_URL") or GITHUB_API, require(env, "GITHUB_TOKEN", "github", "pull-requests: write"),
                      name="the GitHub API", headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        marker = MARKER.format(stack=stack_name)
        body = body_file.read_text()
        if marker not in body:
            body = f"{marker}\n{body}"
        # List issue comments (paginated, per_page up to 100), create one, update one:
        # docs.github.com/rest/issues/comments (GET/POST /repos/{owner}/{repo}/issues/{n}/comments,
        # PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}).
        found = None
        for page in range(1, 51):
            got = api.request("GET", f"/repos/{repo}/issues/{number}/comments", query={"per_page": "100", "page": str(page)})
            found = next((c for c in got or [] if marker in (c.get("body") or "")), None)
            if found or not got or len(got) < 100:
                break
        if found:
            api.request("PATCH", f"/repos/{repo}/issues/comments/{found['id']}", json_body={"body": body})
            click.echo(f"updated comment {found['id']} for stack {stack_name}")
        else:
            made = api.request("POST", f"/repos/{repo}/issues/{number}/comments", json_body={"body": body})
            click.echo(f"created comment {made.get('id')} for stack {stack_name}")
    except OpsError as e:
        raise EdgeportError(f"{e}" + (f" (fix: {e.hint})" if e.hint else "")) from None
