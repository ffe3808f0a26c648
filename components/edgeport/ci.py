"""`edgeport ci`: the logic of the GitOps workflows (examples/github/workflows/), kept here so it is tested.

    edgeport ci stacks [--touched DIR] [--lines]     the project's stacks (a workflow matrix), or the valid ones
                                                     `ci pr --out DIR` planned
    edgeport ci pr --base REF --out DIR [--state-dir DIR] [--annotations] [--json]
        the stacks a pull request touches (git diff REF...HEAD), each validated (GitHub annotations) and planned
        offline (against DIR/<stack>.json, a `pulumi stack export`, when there is one: the change set); one comment
        body per stack in DIR/<stack>.md, marked for an in-place update
    edgeport ci comment --stack S --body FILE --repo OWNER/NAME --pr N
        create the pull request's comment for the stack, or update the one carrying its marker

Which changes touch which stacks: a stack file touches its stack; the project's own code and pins (Pulumi.yaml,
__main__.py, requirements files, pyproject.toml, and functions/, components/ and policy/ - edgeport's own checkout
has the first two, a project may keep a policy pack) touch every stack; anything else touches none.
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
# The API refuses longer comment bodies: "Body is too long (maximum is 65536 characters)" (a 422 from
# POST /repos/{owner}/{repo}/issues/{n}/comments, e.g. github.com/telia-oss/github-pr-resource/issues/259).
MAX_BODY = 65536
SUMMARY = "summary.json"  # what `ci pr` planned, beside the comment bodies (`ci stacks --touched DIR` reads it)
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


def comment_body(stack: str, markdown: str, issues: list[str], why: str, error: str | None = None) -> str:
    head = MARKER.format(stack=stack)
    if issues:
        body = (f"{head}\n### edgeport: stack `{stack}` is invalid\n\nTouched by `{why}`.\n\n"
                + "\n".join(f"- `{i.splitlines()[0]}`" for i in issues) + "\n")
    elif error is not None:
        fence = "````" if "```" in error else "```"
        body = (f"{head}\n### edgeport: the plan of stack `{stack}` failed\n\nTouched by `{why}`.\n\n{fence}\n"
                f"{error}\n{fence}\n")
    else:
        body = f"{head}\n{markdown.rstrip()}\n\n<sub>Touched by `{why}`.</sub>\n"
    if len(body) > MAX_BODY:
        cut = "\n\n... (cut: the comment would exceed GitHub's 65,536 characters; the job log has everything)\n"
        kept = body[:MAX_BODY - len(cut) - 200].rsplit("\n", 1)[0]
        body = kept + "\n\n</details>" * (kept.count("<details>") - kept.count("</details>")) + cut
    return body


def annotation(issue, level: str = "error") -> str:
    """A GitHub Actions workflow command: an error (or warning) shown on the file and line
    (docs.github.com/actions/reference/workflows-and-actions/workflow-commands#setting-an-error-message and
    #setting-a-warning-message)."""
    def esc(s: str) -> str:  # data: %, CR, LF; properties also : and ,
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    props = ",".join(f"{k}={esc(str(v)).replace(':', '%3A').replace(',', '%2C')}"
                     for k, v in (("file", issue.file), ("line", issue.line)) if v)
    text = (f"{issue.path}: " if issue.path else "") + issue.message + (f" (fix: {issue.hint})" if issue.hint else "")
    return f"::{level} {props}::{esc(text)}" if props else f"::{level}::{esc(text)}"


@click.group("ci")
def ci_command() -> None:
    """What the GitOps workflows run (examples/github/workflows/, docs/gitops.md)."""


@ci_command.command("stacks")
@click.option("--touched", "touched_dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Only the valid stacks `edgeport ci pr --out DIR` planned (from DIR/summary.json).")
@click.option("--lines", is_flag=True, help="One stack per line (for a shell loop) instead of a JSON list.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def ci_stacks(touched_dir: Path | None, lines: bool, project_dir: Path | None) -> None:
    """The project's stacks as a JSON list (a workflow matrix)."""
    from .spec.loader import find_project_dir

    if touched_dir is not None:
        try:
            summary = json.loads((touched_dir / SUMMARY).read_text())
            names = sorted(s for s, e in summary["stacks"].items() if e.get("valid"))
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as e:
            raise EdgeportError(f"--touched {touched_dir}: no summary of `edgeport ci pr --out {touched_dir}` "
                                f"({type(e).__name__}: {e})") from None
    else:
        names = stacks(project_dir or find_project_dir())
    click.echo("\n".join(names) if lines else json.dumps(names))


@ci_command.command("pr")
@click.option("--base", required=True, metavar="REF", help="The pull request's base, e.g. origin/main.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the comment bodies (<stack>.md).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of `pulumi stack export` files (<stack>.json): plan those stacks against them.")
@click.option("--annotations", is_flag=True, help="Print invalid declarations as GitHub error annotations (file:line).")
@click.option("--json", "as_json", is_flag=True, help="A JSON summary on stdout.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.pass_context
def ci_pr(ctx: click.Context, base: str, out_dir: Path, state_dir: Path | None, annotations: bool, as_json: bool,
          project_dir: Path | None) -> None:
    """Validate and plan (offline) every stack the pull request touches; write one comment body per stack.
    Exit 2 when a touched stack is invalid, 1 when a plan fails (the other stacks are still planned)."""
    from .spec.loader import find_project_dir

    pdir = project_dir or find_project_dir()
    if state_dir is not None and not state_dir.is_dir():
        raise EdgeportError(f"--state-dir {state_dir}: no such directory")
    files = changed_files(pdir, base)
    names, why = touched(pdir, files)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"base": base, "changed": files, "stacks": {}}
    codes = [0]
    for s in names:
        state = state_dir / f"{s}.json" if state_dir is not None and (state_dir / f"{s}.json").is_file() else None
        body, entry, code, notes = _pr_stack(s, pdir, why[s], state)
        if annotations:
            for line in notes:
                click.echo(line)
        (out_dir / f"{s}.md").write_text(body)
        entry["comment"] = str(out_dir / f"{s}.md")
        summary["stacks"][s] = entry
        codes.append(code)
    (out_dir / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not annotations:
        click.echo(f"{len(names)} stack(s) touched: {', '.join(names) or 'none'}")
    if max(codes):
        ctx.exit(2 if 2 in codes else 1)


def _pr_stack(stack: str, pdir: Path, why: str, state: Path | None) -> tuple[str, dict[str, Any], int, list[str]]:
    """(comment body, summary entry, exit code, annotations) for one touched stack."""
    from . import targets
    from .errors import SpecError
    from .plan import run_plan
    from .plan_render import render_markdown
    from .spec.loader import load_stack

    entry: dict[str, Any] = {"valid": True, "because": why, "against": str(state) if state else None}
    try:
        st = load_stack(stack, pdir)
    except SpecError as e:
        entry.update(valid=False, issues=[i.to_json() for i in e.issues])
        return comment_body(stack, "", [i.format() for i in e.issues], why), entry, 2, [annotation(i) for i in e.issues]
    notes = [annotation(st.locate(i), "warning") for i in targets.advisories(st.app)]
    stack_file = st.file.relative_to(pdir).as_posix() if st.file and st.file.is_relative_to(pdir) else None
    try:
        plan = run_plan(st)
        if state is not None:
            from . import plan_diff

            cs = plan_diff.compare(plan.to_json(), plan_diff.load_state(state))
            markdown = plan_diff.render_markdown(cs, plan.warnings)
            entry["summary"] = cs.summary()
        else:
            markdown = render_markdown(plan)
    except EdgeportError as e:
        entry.update(error=str(e))
        failed = _Located(stack_file, None, f"the plan of stack {stack} failed: {e}")
        return comment_body(stack, "", [], why, error=str(e)), entry, 1, notes + [annotation(failed)]
    entry["resources"] = len(plan.resources)
    notes += [annotation(_Located(stack_file, None, w), "warning") for w in plan.warnings]
    return comment_body(stack, markdown, [], why), entry, 0, notes


class _Located:
    """An annotation's text with a file but no key path (a plan failure, a warning)."""

    def __init__(self, file: str | None, line: int | None, message: str):
        self.file, self.line, self.path, self.message, self.hint = file, line, "", message, ""


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
