"""The command line: exit codes, messages naming the key, --json for pipelines."""

from __future__ import annotations

import json
import subprocess
import sys

import jwt as pyjwt
import pytest
from click.testing import CliRunner

from conftest import ROOT, credential_free_env, write_project
from edgeport.cli import main

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]

BAD = """\
config:
  edgeport:app:
    name: shop
    origins:
      default: https://origin.example.com
    targets:
      vercel: {}
      lambda-edge: {}
    patterns:
      - name: api
        type: jwt-auth
        routes: ["/api/*"]
        algorithms: [HS256]
      - name: rooms
        type: realtime-room
        routes: ["/ws/*"]
"""


def run(*args, cwd=ROOT):
    return CliRunner().invoke(main, list(args) + ["--project-dir", str(cwd)] if args and args[0] not in ("capabilities",) else list(args),
                              catch_exceptions=False)


def test_validate_ok():
    r = run("validate", "--stack", "dev")
    assert r.exit_code == 0, r.output
    assert "ok: stacks/Pulumi.dev.yaml" in r.output and "api-auth" in r.output


def test_validate_lists_every_problem_and_exits_2(tmp_path):
    write_project(tmp_path, {"bad": BAD})
    r = run("validate", "--stack", "bad", cwd=tmp_path)
    assert r.exit_code == 2
    assert "3 problems" in r.output
    assert "stacks/Pulumi.bad.yaml:10: edgeport:app.patterns[0]: HS256 needs an HMAC key" in r.output
    assert "stacks/Pulumi.bad.yaml:14: edgeport:app.patterns[1]: realtime-room cannot run on lambda-edge" in r.output
    assert "Traceback" not in r.output


def test_validate_json(tmp_path):
    write_project(tmp_path, {"bad": BAD})
    r = run("validate", "--stack", "bad", "--json", cwd=tmp_path)
    assert r.exit_code == 2
    payload = json.loads(r.stdout)
    assert payload["ok"] is False
    assert {i["path"] for i in payload["issues"]} == {"edgeport:app.patterns[0]", "edgeport:app.patterns[1]"}
    assert all(i["line"] and i["file"] == "stacks/Pulumi.bad.yaml" for i in payload["issues"])


def test_unknown_stack_names_the_file_and_the_stacks():
    r = run("validate", "--stack", "nope")
    assert r.exit_code == 1
    assert "stacks/Pulumi.nope.yaml does not exist (stacks here: dev, prod)" in r.output


def test_build_json(tmp_path):
    r = run("build", "--stack", "dev", "--out", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)
    assert [(a["target"], a["event"]) for a in payload["artifacts"]] == [
        ("cloudflare", None), ("lambda-edge", "viewer-request"), ("lambda-edge", "origin-request"),
        ("lambda-edge", "origin-response"), ("vercel", None)]
    assert all(a["bytes"] > 0 and not a["overBudget"] for a in payload["artifacts"])


def test_build_table(tmp_path):
    r = run("build", "--stack", "dev", "--out", str(tmp_path))
    assert r.exit_code == 0
    head, *rows = r.stdout.splitlines()[:6]
    assert head.split() == ["target", "trigger", "bytes", "gzip", "zip", "budget", "used"]
    assert [row.split()[:2] for row in rows] == [["cloudflare", "-"], ["lambda-edge", "viewer-request"],
                                                 ["lambda-edge", "origin-request"], ["lambda-edge", "origin-response"],
                                                 ["vercel", "-"]]


def test_plan_lists_resources_per_target_offline():
    env = {k: v for k, v in credential_free_env().items() if not k.startswith(("VERCEL_", "PULUMI_"))}
    p = subprocess.run(EDGEPORT + ["plan", "--stack", "dev", "--json"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    types = {t: sorted({r["type"] for r in plan["resources"] if r["target"] == t}) for t in ("cloudflare", "lambda-edge", "vercel")}
    assert types["cloudflare"] == ["cloudflare:index/workersKv:WorkersKv", "cloudflare:index/workersKvNamespace:WorkersKvNamespace",
                                   "cloudflare:index/workersRoute:WorkersRoute", "cloudflare:index/workersScript:WorkersScript",
                                   "edgeport:cloudflare:Worker"]
    assert {"aws:lambda/function:Function", "aws:cloudfront/distribution:Distribution", "aws:iam/role:Role",
            "aws:secretsmanager/secret:Secret", "pulumi:providers:aws"} <= set(types["lambda-edge"])
    assert types["vercel"] == ["edgeport:vercel:Middleware", "vercel:index/deployment:Deployment", "vercel:index/edgeConfig:EdgeConfig",
                               "vercel:index/edgeConfigItem:EdgeConfigItem", "vercel:index/edgeConfigToken:EdgeConfigToken",
                               "vercel:index/project:Project", "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"]
    env_var = next(r for r in plan["resources"] if r["type"].endswith("ProjectEnvironmentVariable") and r["inputs"]["key"] != "EDGE_CONFIG")
    assert env_var["inputs"]["value"] == "[secret]" and env_var["secretInputs"] == ["value"]
    assert plan["leaks"] == []
    assert "jwt_hmac has no value" in plan["warnings"][0]


def test_plan_text_and_invalid_stack(tmp_path):
    p = subprocess.run(EDGEPORT + ["plan", "--stack", "prod"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env=credential_free_env())
    assert p.returncode == 0, p.stderr
    assert "cloudflare:index/workersScript:WorkersScript  shop-cloudflare-script" in p.stdout
    assert ("bindings: EDGEPORT_SECRET_JWT_HMAC(secret_text), EDGEPORT_LIVE(kv_namespace), "
            "EDGEPORT_ROOMS(durable_object_namespace) (secret)") in p.stdout
    assert "/partner/*[viewer-request]" in p.stdout and "defaultCacheBehavior: *[viewer-request,origin-request]" in p.stdout
    write_project(tmp_path, {"bad": BAD})
    p = subprocess.run(EDGEPORT + ["plan", "--stack", "bad"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "HS256 needs an HMAC key" in p.stderr and "Traceback" not in p.stderr


def test_token_verifies_with_the_local_secret(tmp_path, monkeypatch):
    write_project(tmp_path, {"dev": (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()})
    monkeypatch.delenv("EDGEPORT_SECRET_JWT_HMAC", raising=False)
    r = run("secrets", "init-local", "--stack", "dev", cwd=tmp_path)
    assert r.exit_code == 0 and "wrote jwt_hmac" in r.output
    assert oct((tmp_path / ".dev.vars").stat().st_mode & 0o777) == "0o600"
    secret = (tmp_path / ".dev.vars").read_text().split("jwt_hmac=")[1].strip()
    r = run("token", "--stack", "dev", "--sub", "bob", "--claim", "role=\"admin\"", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    claims = pyjwt.decode(r.stdout.strip(), secret, algorithms=["HS256"], audience="shop-api",
                          issuer="https://auth.shop.example.com/")
    assert claims["sub"] == "bob" and claims["role"] == "admin"


def test_missing_local_secret_says_how_to_set_it(tmp_path, monkeypatch):
    write_project(tmp_path, {"dev": (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()})
    monkeypatch.delenv("EDGEPORT_SECRET_JWT_HMAC", raising=False)
    r = run("token", "--stack", "dev", cwd=tmp_path)
    assert r.exit_code == 1
    assert "EDGEPORT_SECRET_JWT_HMAC" in r.output and "secrets init-local" in r.output


def test_capabilities_json():
    r = CliRunner().invoke(main, ["capabilities", "--json"])
    rows = json.loads(r.stdout)
    room = {row["target"]: row for row in rows if row["pattern"] == "realtime-room"}
    assert room["cloudflare"]["supported"] and not room["vercel"]["supported"] and not room["lambda-edge"]["supported"]


# ---------------------------------------------------------------- secrets: plain text in the stack file, weak local values

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
SCENARIOS = str(ROOT / "conformance" / "scenarios")


def test_plaintext_secret_in_the_stack_file_exits_2(tmp_path):
    write_project(tmp_path, {"dev": DEV + "  edgeport:jwt_hmac: correct-horse-battery-staple-0123456789\n"})
    r = run("validate", "--stack", "dev", cwd=tmp_path)
    assert r.exit_code == 2
    assert f"stacks/Pulumi.dev.yaml:{DEV.count(chr(10)) + 1}: edgeport:jwt_hmac: the value of secret jwt_hmac is written in plain text" in r.output
    assert "pulumi config set --secret jwt_hmac <value> -s dev" in r.output
    assert "correct-horse" not in r.output and "Traceback" not in r.output


def test_token_refuses_a_short_dev_vars_secret(tmp_path, monkeypatch):
    write_project(tmp_path, {"dev": DEV})
    monkeypatch.delenv("EDGEPORT_SECRET_JWT_HMAC", raising=False)
    (tmp_path / ".dev.vars").write_text("jwt_hmac=tooshort\n")
    r = run("token", "--stack", "dev", cwd=tmp_path)
    assert r.exit_code == 1, r.output
    assert f"{tmp_path / '.dev.vars'}:1: jwt_hmac: value is 8 bytes; HS256 needs at least 32 random bytes" in r.output
    assert "delete line 1 (jwt_hmac=...)" in r.output and "edgeport secrets init-local --stack dev" in r.output
    assert "Traceback" not in r.output and "eyJ" not in r.stdout


def test_dev_refuses_a_short_secret_from_the_environment(tmp_path, monkeypatch):
    write_project(tmp_path, {"dev": DEV})
    monkeypatch.setenv("EDGEPORT_SECRET_JWT_HMAC", "tooshort")
    r = run("dev", "--stack", "dev", "--port", "0", cwd=tmp_path)
    assert r.exit_code == 1, r.output
    assert "environment variable EDGEPORT_SECRET_JWT_HMAC: jwt_hmac: value is 8 bytes" in r.output
    assert "unset EDGEPORT_SECRET_JWT_HMAC" in r.output and "Traceback" not in r.output


def test_conformance_refuses_a_short_local_secret_instead_of_replacing_it(tmp_path, monkeypatch):
    write_project(tmp_path, {"dev": DEV})
    monkeypatch.delenv("EDGEPORT_SECRET_JWT_HMAC", raising=False)
    (tmp_path / ".dev.vars").write_text("# dev\nEDGEPORT_SECRET_JWT_HMAC=tooshort\n")
    r = run("conformance", "--stack", "dev", "--scenarios", SCENARIOS, "--json", cwd=tmp_path)
    assert r.exit_code == 1, r.output
    payload = json.loads(r.stdout)
    assert payload["ok"] is False and "Traceback" not in r.output
    assert payload["issues"] == [{"file": str(tmp_path / ".dev.vars"), "line": 2, "path": "jwt_hmac",
                                  "message": "value is 8 bytes; HS256 needs at least 32 random bytes (RFC 7518 §3.2)",
                                  "hint": payload["issues"][0]["hint"]}]
    assert "delete line 2 (EDGEPORT_SECRET_JWT_HMAC=...)" in payload["issues"][0]["hint"]


def test_build_refuses_tokens_cloudfront_cannot_carry(tmp_path):
    write_project(tmp_path, {"dev": DEV.replace("        secret: jwt_hmac\n", "        secret: jwt_hmac\n        maxTokenBytes: 12288\n")})
    r = run("build", "--stack", "dev", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert r.exit_code == 2, r.output
    line = DEV.split("\n").index("        secret: jwt_hmac") + 2
    assert f"stacks/Pulumi.dev.yaml:{line}: edgeport:app.patterns[0].maxTokenBytes: tokens up to 12,288 B" in r.output
    assert "lambda-edge allows 20,480 B" in r.output and "lower maxTokenBytes to 8,035 or less" in r.output
    assert "Traceback" not in r.output


def test_validate_flags_a_placeholder_secret_and_a_missing_one():
    r = CliRunner().invoke(main, ["validate", "--stack", "prod", "--json", "--project-dir", str(ROOT)])
    assert r.exit_code == 0, r.output
    [w] = json.loads(r.stdout)["warnings"]
    assert "jwt_hmac holds a placeholder" in w and "pulumi config set --secret edgeport:jwt_hmac <value> -s prod" in w
    r = CliRunner().invoke(main, ["validate", "--stack", "dev", "--json", "--project-dir", str(ROOT)])
    [w] = json.loads(r.stdout)["warnings"]
    assert "jwt_hmac has no value in stacks/Pulumi.dev.yaml" in w


def test_capabilities_for_one_stack_lists_its_patterns_with_their_triggers():
    r = CliRunner().invoke(main, ["capabilities", "--stack", "prod", "--json", "--project-dir", str(ROOT)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    room = {(x["target"], x["supported"], x["declared"]) for x in rows if x["pattern"] == "realtime-room"}
    assert room == {("cloudflare", True, True), ("lambda-edge", False, False), ("vercel", False, False)}
    [ab] = [x for x in rows if x["name"] == "checkout-redesign" and x["target"] == "lambda-edge"]
    assert ab["events"] == ["viewer-request", "origin-request", "origin-response"]  # CloudFront's order


def test_stack_files_live_where_pulumi_yaml_says(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text().replace("stackConfigDir: stacks",
                                                                                    "stackConfigDir: config/stacks"))
    (tmp_path / "config" / "stacks").mkdir(parents=True)
    (tmp_path / "config" / "stacks" / "Pulumi.dev.yaml").write_text((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    r = CliRunner().invoke(main, ["validate", "--stack", "dev", "--project-dir", str(tmp_path)])
    assert r.exit_code == 0 and r.stdout.startswith("ok: config/stacks/Pulumi.dev.yaml"), r.output
    r = CliRunner().invoke(main, ["validate", "--stack", "nope", "--project-dir", str(tmp_path)])
    assert r.exit_code == 1 and "config/stacks/Pulumi.nope.yaml does not exist (stacks here: dev)" in r.output


def _dev(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeport.cli", "dev", "--stack", "dev", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=credential_free_env())


def test_dev_on_a_busy_port_says_so_in_one_line_and_offers_free_ones():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        p = _dev("--target", "vercel", "--port", str(busy))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    [line] = [x for x in p.stderr.splitlines() if x.startswith("error:")]
    assert f"port {busy} (vercel) already in use" in line and "try --port " in line and "--port 0" in line


@pytest.mark.parametrize("value", ["http://:99999", "eu=ftp://x", "localhost:3000", "http://127.0.0.1:notaport",
                                   "nope=http://127.0.0.1:3000"])
def test_dev_refuses_a_malformed_origin_in_one_line(value):
    p = _dev("--origin", value, "--port", "0")
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert [x for x in p.stderr.splitlines() if x.startswith("error: --origin ")], p.stderr
