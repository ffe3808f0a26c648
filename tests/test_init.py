"""`edgeport init`: a scaffolded project validates, plans offline and serves one request on each target at once; the
workflows it writes are the shipped ones; it refuses to overwrite anything and refuses unknown targets/patterns."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from conftest import ROOT, credential_free_env, request, stop_dev

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]


def cli(cwd, *args, env=None):
    return subprocess.run([*EDGEPORT, *args], cwd=cwd, env=env or credential_free_env(), capture_output=True, text=True,
                          timeout=300)


def test_a_scaffold_validates_plans_and_serves_every_target(tmp_path):
    r = cli(tmp_path, "init", "shop-edge", "--json")
    assert r.returncode == 0, r.stderr
    proj = tmp_path / "shop-edge"
    assert sorted(json.loads(r.stdout)["files"]) == sorted([
        "Pulumi.yaml", "__main__.py", "stacks/Pulumi.dev.yaml", ".gitignore", "requirements.txt", "README.md",
        ".github/workflows/deploy.yml", ".github/workflows/pr.yml", ".github/workflows/scheduled.yml"])
    for wf in ("deploy.yml", "pr.yml", "scheduled.yml"):
        assert (proj / ".github/workflows" / wf).read_text() == (ROOT / "examples/github/workflows" / wf).read_text()
    v = cli(proj, "validate", "--stack", "dev", "--json")
    assert v.returncode == 0, v.stderr
    assert {p["type"] for p in json.loads(v.stdout)["patterns"]} == {"jwt-auth", "ab-test", "geo-route", "esi-compose", "realtime-room"}
    p = cli(proj, "plan", "--stack", "dev", "--offline")
    assert p.returncode == 0, p.stderr
    env = {**os.environ, "EDGEPORT_SECRET_JWT_HMAC": secrets.token_urlsafe(40), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*EDGEPORT, "dev", "--stack", "dev", "--port", "0", "--json", "-q"], cwd=proj, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert set(ready["urls"]) == {"cloudflare", "lambda-edge", "vercel"}
        for url in ready["urls"].values():
            assert request(f"{url}/api/orders").status == 401  # the guard answers: the edge code runs
            assert request(f"{url}/about").status == 200
    finally:
        stop_dev(proc)


@pytest.mark.parametrize("targets_, patterns", [("vercel", "geo-route"), ("lambda-edge", "esi-compose,ab-test"),
                                                ("cloudflare", "realtime-room")])
def test_a_chosen_subset_validates(tmp_path, targets_, patterns):
    r = cli(tmp_path, "init", "proj", "--targets", targets_, "--patterns", patterns)
    assert r.returncode == 0, r.stderr
    v = cli(tmp_path / "proj", "validate", "--stack", "dev", "--json")
    assert v.returncode == 0, v.stderr
    assert json.loads(v.stdout)["targets"] == [targets_]


def test_init_never_overwrites_and_names_what_is_in_the_way(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "README.md").write_text("mine\n")
    r = cli(tmp_path, "init", "proj")
    assert r.returncode == 1 and "already has README.md" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "proj" / "README.md").read_text() == "mine\n" and not (tmp_path / "proj" / "Pulumi.yaml").exists()


@pytest.mark.parametrize("args, message", [(["--targets", "fastly"], "unknown: fastly"),
                                           (["--patterns", "waf"], "unknown: waf"),
                                           (["--name", "Bad Name"], "use lower-case letters")])
def test_bad_choices_are_refused(tmp_path, args, message):
    r = cli(tmp_path, "init", "proj", *args)
    assert r.returncode == 1 and message in r.stderr and not (tmp_path / "proj").exists()
