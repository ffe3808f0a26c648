"""The conformance suite (conformance/scenarios) on the dev stack in every target's local runtime,
and the scenario format around it: the loader's errors, filters, failure diffs and the JSON report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from edgeport.conformance import ScenarioError, load_scenarios, parse_file, run_conformance
from edgeport.conformance.cli import conformance_command
from edgeport.conformance.placeholders import PlaceholderError, resolve
from edgeport.conformance.runner import local_secrets
from edgeport.spec import load_stack

TARGETS = ["cloudflare", "lambda-edge", "vercel"]
STATUSES = {"pass", "fail", "declared-difference", "n/a"}


def conformance(*args: str, out: Path) -> "CliRunner.invoke":
    return CliRunner().invoke(conformance_command, ["--stack", "dev", "--project-dir", str(ROOT), "--out", str(out), *args])


@pytest.fixture(scope="module")
def dev_report(tmp_path_factory):
    """The whole suite once, on every target of the dev stack (hosts start once and serve every scenario)."""
    res = conformance("--json", out=tmp_path_factory.mktemp("conformance-build"))
    return res, json.loads(res.stdout)


# ---------------------------------------------------------------- the suite on the dev stack


def test_the_suite_passes_on_every_target_of_the_dev_stack(dev_report):
    res, report = dev_report
    failures = [f"{r['pattern']} · {r['scenario']} · {r['target']}: {r['mismatches'] or r['error']}"
                for r in report["results"] if r["status"] == "fail"]
    assert failures == [] and res.exit_code == 0 and report["ok"] is True
    assert report["targets"] == TARGETS
    ran = {(r["type"], r["target"]) for r in report["results"] if r["status"] in ("pass", "declared-difference")}
    for ptype in ("jwt-auth", "ab-test", "geo-route", "esi-compose"):
        assert {(ptype, t) for t in TARGETS} <= ran, ptype
    assert ("realtime-room", "cloudflare") in ran


def _scenario_cases():
    """One pytest item per scenario x target, so a failure names its scenario, file:line and target."""
    files = load_scenarios(ROOT / "conformance" / "scenarios")
    return [pytest.param(f.display, s.line, t, id=f"{f.type}:{s.name}:{t}")
            for f in files for s in f.scenarios for t in TARGETS]


@pytest.mark.parametrize("file, line, target", _scenario_cases())
def test_scenario(dev_report, file, line, target):
    _, report = dev_report
    runs = [r for r in report["results"] if r["file"] == file and r["line"] == line and r["target"] == target]
    assert runs, f"{file}:{line} did not run on {target} (not even as n/a)"
    failed = [f"{r['scenario']}: {r['error'] or json.dumps(r['mismatches'], indent=1)}" for r in runs if r["status"] == "fail"]
    assert not failed, f"{file}:{line} on {target}\n" + "\n".join(failed)


def test_declared_differences_are_exactly_the_intended_ones(dev_report):
    _, report = dev_report
    diffs = {(r["scenario"], r["target"]) for r in report["results"] if r["status"] == "declared-difference"}
    assert diffs == {
        ("first byte before slow fragment", "lambda-edge"),  # no streaming on Lambda@Edge
        ("shell outage after a visit", "cloudflare"),  # the shell is in Cloudflare's edge cache
        ("an absolute-form request line cannot pick the host", "cloudflare"),  # workerd refuses the request line
        ("plain HTTP request gets 426 Upgrade Required", "cloudflare"),  # workerd drops the Upgrade response header
        # CloudFront answers 403 to a host it does not serve, before any function runs
        ("Host and X-Forwarded-Host cannot pick the origin", "lambda-edge"),
        ("an absolute-form request line cannot pick the host", "lambda-edge"),
        # Lambda@Edge's origin-response re-sends the variant cookie: it cannot tell a return visit from a first one
        *{(f"sticky cookie is honoured without a new assignment [{v}]", "lambda-edge") for v in ("control", "new-hero", "beta-stack")},
        ("the assigned variant sticks on the next visit", "lambda-edge"),
    }
    assert all(r["reason"] for r in report["results"] if r["status"] == "declared-difference")


def test_rooms_are_not_applicable_where_they_cannot_run_and_say_why(dev_report):
    _, report = dev_report
    rooms = [r for r in report["results"] if r["type"] == "realtime-room"]
    for r in rooms:
        if r["target"] == "cloudflare":
            assert r["status"] in ("pass", "declared-difference") or r["scenario"].startswith("where rooms are not hosted")
        elif r["scenario"].startswith("where rooms are not hosted"):
            assert r["status"] == "pass", r  # the route is plain origin traffic there
        else:
            assert r["status"] == "n/a" and f"{r['target']} cannot host realtime-room" in r["reason"], r


def test_the_scenarios_cover_the_issue(dev_report):
    _, report = dev_report
    names = {(r["type"], re.sub(r" \[.*\]$", "", r["scenario"])) for r in report["results"]}
    wanted = {
        "jwt-auth": ["valid token reaches the origin", "expired token is refused", "alg none is refused",
                     "missing token is refused with a challenge on every route", "token signed with another key is refused",
                     "verified claims are forwarded as headers", "client-sent identity headers are replaced by verified ones"],
        "ab-test": ["first visit is assigned a declared variant and routed to it", "sticky cookie is honoured without a new assignment",
                    "unknown cookie is reassigned, a spoofed variant header replaced"],
        "geo-route": ["country picks its rule's origin", "XX (no country data) takes the fallback", "T1 (Tor) takes the fallback",
                      "missing country takes the fallback", "Host and X-Forwarded-Host cannot pick the origin"],
        "esi-compose": ["fast fragments fill their slots", "fragment answering 500 leaves its fallback",
                        "fragment missing its deadline leaves its fallback", "first byte before slow fragment",
                        "shell unavailable passes the request to the origin"],
        "realtime-room": ["broadcast to the other members; presence follows joins and leaves",
                          "message over the size limit closes with 1009", "upgrade from a foreign Origin is refused with 403",
                          "plain HTTP request gets 426 Upgrade Required"],
    }
    missing = [(t, n) for t, ns in wanted.items() for n in ns if (t, n) not in names]
    assert missing == []
    sticky = {r["scenario"] for r in report["results"] if r["scenario"].startswith("sticky cookie")}
    assert sticky == {f"sticky cookie is honoured without a new assignment [{v}]" for v in ("control", "new-hero", "beta-stack")}
    geo = {r["scenario"] for r in report["results"] if r["scenario"].startswith("country picks")}
    assert {g.split("[")[1].rstrip("]") for g in geo} == {"EEA:AT", "GB", "CH", "US", "CA"}


def test_json_report_shape(dev_report):
    _, report = dev_report
    assert set(report) >= {"ok", "stack", "targets", "duration_s", "summary", "results", "secrets", "notes"}
    s = report["summary"]
    assert set(s) == {"scenarios", "cases", "runs", "pass", "fail", "declared_difference", "not_applicable"}
    assert s["runs"] == len(report["results"]) == s["pass"] + s["fail"] + s["declared_difference"] + s["not_applicable"]
    assert s["scenarios"] <= s["cases"] <= s["runs"]
    assert report["secrets"] == {"jwt_hmac": report["secrets"]["jwt_hmac"]} and report["secrets"]["jwt_hmac"] in ("local", "ephemeral")
    for r in report["results"]:
        assert set(r) == {"pattern", "type", "target", "scenario", "file", "line", "status", "reason", "duration_ms",
                          "mismatches", "error", "steps"}
        assert r["status"] in STATUSES and r["target"] in TARGETS and isinstance(r["line"], int)
        if r["status"] != "n/a":
            assert r["steps"] and all("status" in st for st in r["steps"])
    first = next(r for r in report["results"] if r["scenario"] == "valid token reaches the origin")
    step = first["steps"][0]
    assert step["method"] == "GET" and step["target"] == "/api/conformance?page=2" and step["status"] == 200
    assert step["origin_requests"] == ["default GET /api/conformance?page=2"]


# ---------------------------------------------------------------- filters and the table


def test_target_and_pattern_filters_in_the_table(tmp_path):
    res = conformance("--target", "vercel", "--pattern", "geo-route", out=tmp_path)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["pattern", "scenario", "vercel"]
    body = [line for line in lines[2:] if line.strip() and not line.startswith(("[", "conformance"))]
    assert body[0].startswith("regional (geo-route)") and not any("api-auth" in line or "home" in line for line in body)
    assert all(line.rstrip().endswith(("pass", "]")) for line in body)
    summary = re.search(r"^conformance dev: (\d+) scenarios \((\d+) cases\), (\d+) runs on vercel: (\d+) pass, 0 FAIL, "
                        r"0 declared-difference, 0 n/a in [\d.]+ s$", res.stdout, re.M)
    assert summary, res.stdout[-300:]
    assert int(summary[2]) == int(summary[3]) == int(summary[4]) == len(body)  # one column: one run per case


def test_filters_by_name_and_type_in_json(tmp_path):
    res = conformance("--target", "cloudflare", "--target", "lambda-edge", "--pattern", "support-chat", "--pattern", "jwt-auth",
                      "--json", out=tmp_path)
    report = json.loads(res.stdout)
    assert res.exit_code == 0 and report["targets"] == ["cloudflare", "lambda-edge"]
    assert {(r["pattern"], r["target"]) for r in report["results"]} == {
        (p, t) for p in ("api-auth", "support-chat") for t in ("cloudflare", "lambda-edge")}


def test_unknown_filter_is_an_error(tmp_path):
    res = conformance("--pattern", "no-such-pattern", out=tmp_path)
    assert res.exit_code == 1 and "has no pattern named or typed 'no-such-pattern'" in res.stderr


# ---------------------------------------------------------------- failures


WRONG = """\
type: jwt-auth
scenarios:
  - name: deliberately wrong
    request:
      path: "{route}"
      headers: { authorization: "Bearer {token}" }
    expect:
      status: 401
      headers: { equal: { x-not-there: "1" } }
      origin: { name: eu, path: /elsewhere }
  - name: a difference that does not hold fails too
    request: { path: "{route}" }
    expect: { status: 401, origin: none }
    differences:
      - targets: [vercel]
        reason: pretend Vercel answers a teapot here
        expect: { status: 418 }
  - name: right
    request: { path: "{route}" }
    expect: { status: 401, body: { json: { error: missing_token } }, origin: none }
"""


def test_a_wrong_expectation_fails_with_a_readable_diff(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "wrong.yaml").write_text(WRONG)
    res = conformance("--target", "vercel", "--scenarios", str(tmp_path / "scenarios"), out=tmp_path / "build")
    assert res.exit_code == 1
    out = res.stdout
    assert "FAIL  api-auth (jwt-auth) · deliberately wrong · vercel" in out
    assert "step 1: GET /api/conformance -> 200" in out  # what was sent, what came back
    assert re.search(r"step 1 · status\n\s+expected: 401\n\s+actual:\s+200 \(body '\{", out)
    assert re.search(r"step 1 · header x-not-there\n\s+expected: '1'\n\s+actual:\s+\(absent\)", out)
    assert re.search(r"step 1 · origin name\n\s+expected: 'eu'\n\s+actual:\s+'default'", out)
    assert re.search(r"step 1 · origin path\n\s+expected: '/elsewhere'\n\s+actual:\s+'/api/conformance'", out)
    assert re.search(r"step 1 · status\n\s+expected: 418\n\s+actual:\s+401", out)
    assert re.search(r"^right\s+pass$|^\s+right\s+pass$", out, re.M)
    assert "0 declared-difference" in out and "1 pass, 2 FAIL" in out


def test_the_runner_api_takes_a_scenario_directory(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "wrong.yaml").write_text(WRONG)
    report = run_conformance("dev", project_dir=ROOT, targets=["vercel"], scenarios_dir=tmp_path / "s", out_dir=tmp_path / "b")
    assert not report.ok
    by_name = {r.scenario: r for r in report.results}
    assert by_name["right"].status == "pass"
    assert [m.what for m in by_name["deliberately wrong"].mismatches] == [
        "status", "header x-not-there", "origin name", "origin path"]
    assert by_name["a difference that does not hold fails too"].status == "fail"


# ---------------------------------------------------------------- the loader


def issues(tmp_path, text: str) -> list[str]:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    f, errs = parse_file(p)
    assert f is None and errs
    return [e.format() for e in errs]


@pytest.mark.parametrize("text, expected", [
    ("type: jwt-auht\nscenarios: [{name: x, request: {path: /}, expect: {status: 200}}]\n",
     [r":1: type: unknown pattern type 'jwt-auht'\n    fix: did you mean 'jwt-auth'\?"]),
    ("scenarios: []\n", [r":1: required key 'type' is missing", r"scenarios: expected a non-empty list, got an empty one"]),
    ("type: ab-test\nscenarios:\n  - name: x\n    request: {path: /, hedaers: {a: b}}\n    expect: {status: 200}\n",
     [r":4: scenarios\[0\]\.request\.hedaers: unknown key 'hedaers'\n    fix: did you mean 'headers'\? allowed keys: method, path"]),
    ("type: ab-test\nscenarios:\n  - name: x\n    request: {path: /}\n    expect: {status: ok}\n",
     [r":5: scenarios\[0\]\.expect\.status: expected an integer, got a string$"]),
    ("type: geo-route\nscenarios:\n  - name: x\n    request: {path: '{rout}'}\n    expect: {status: 200}\n",
     [r":4: scenarios\[0\]\.request\.path: unknown placeholder \{rout\} for geo-route scenarios"]),
    ("type: geo-route\nscenarios:\n  - name: x\n    request: {path: '{each}'}\n    expect: {status: 200}\n",
     [r"\{each\} needs for_each on the scenario"]),
    ("type: geo-route\nscenarios:\n  - name: x\n    for_each: variants\n    request: {path: /}\n    expect: {status: 200}\n",
     [r":4: scenarios\[0\]\.for_each: cannot iterate over 'variants' in geo-route scenarios\n    fix: one of geo-countries, routes"]),
    ("type: jwt-auth\nscenarios:\n  - name: x\n    request: {path: /}\n    expect: {status: 200}\n"
     "    differences:\n      - {targets: [aws], expect: {status: 500}}\n",
     [r":7: scenarios\[0\]\.differences\[0\]: required key 'reason' is missing", r"targets\[0\]: unknown target 'aws'"]),
    ("type: jwt-auth\nscenarios:\n  - name: x\n    request: {path: /}\n    expect: {body: {matches: '('}}\n",
     [r"expect\.body\.matches: invalid regular expression '\('"]),
    ("type: realtime-room\nscenarios:\n  - name: x\n    steps:\n      - send: alice\n        text: hi\n",
     [r":5: scenarios\[0\]\.steps\[0\]\.send: WebSocket client 'alice' is used before a connect step opens it"]),
    ("type: realtime-room\nscenarios:\n  - name: x\n    steps:\n      - {connect: a, send: a, path: /}\n",
     [r"a step has exactly one action .*found connect, send"]),
    ("type: jwt-auth\nscenarios:\n  - name: x\n    request: {path: /}\n    expect: {status: 200}\n  - name: x\n    steps: []\n",
     [r"scenario name 'x' is used twice", r"steps: expected a non-empty list, got an empty one"]),
    ("type: jwt-auth\nscenarios:\n  - name: x\n    request: {path: '/', body: '{\"a\": 1}'}\n    expect: {status: 200}\n",
     [r"unknown placeholder \{\"a\": 1\}.*\n    fix: .*write '\{\{' for a literal brace"]),
    ("type: jwt-auth\nscenarios:\n  - name: x\n    request: {path: /\n", [r":5: not valid YAML"]),
    ("type: jwt-auth\nscenarios:\n  - name: x\n    shell: {status: 503}\n    request: {path: /}\n    expect: {status: 200}\n",
     [r":3: scenarios\[0\]: shell is not a jwt-auth scenario key\n    fix: use origins"]),
    ("type: esi-compose\nscenarios:\n  - name: x\n    fragments: []\n    request: {path: /}\n    expect: {status: 200}\n",
     [r":4: scenarios\[0\]\.fragments: expected a mapping, got a list"]),
])
def test_malformed_scenarios_are_rejected_with_clear_errors(tmp_path, text, expected):
    got = "\n".join(issues(tmp_path, text))
    for rx in expected:
        assert re.search(rx, got), (rx, got)


def test_every_problem_in_every_file_is_reported_at_once_and_nothing_starts(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    (d / "a.yaml").write_text("type: nope\nscenarios: [{name: x, request: {path: /}, expect: {status: 200}}]\n")
    (d / "b.yaml").write_text("type: jwt-auth\nscenarios: [{name: x, request: {path: /}}]\n")
    with pytest.raises(ScenarioError) as e:
        load_scenarios(d)
    assert len(e.value.issues) == 2 and str(e.value).startswith("2 problems in the conformance scenarios:")
    res = conformance("--scenarios", str(d), "--json", out=tmp_path / "build")
    assert res.exit_code == 2 and "a request step needs expect" in res.stderr
    payload = json.loads(res.stdout)
    assert payload["ok"] is False and [i["line"] for i in payload["issues"]] == [1, 2]
    assert not (tmp_path / "build").exists(), "nothing is built when the scenarios are malformed"


def test_the_project_scenarios_load():
    files = load_scenarios(ROOT / "conformance" / "scenarios")
    assert {f.type for f in files} == {"jwt-auth", "ab-test", "geo-route", "esi-compose", "realtime-room"}


@pytest.mark.parametrize("text, expected", [
    # a key written twice (PyYAML would keep the last silently)
    ("type: ab-test\nscenarios:\n  - name: x\n    request: {path: /}\n    expect: {status: 200}\n    expect: {status: 201}\n",
     [r":6: scenarios\[0\]\.expect: 'expect' is written twice \(first on line 5\)"]),
    # a placeholder in a mapping key is checked like one in a value
    ("type: ab-test\nscenarios:\n  - name: x\n    request: {path: /, headers: {'{cokie}': a}}\n    expect: {status: 200}\n",
     [r":4: scenarios\[0\]\.request\.headers\.\{cokie\}: '\{cokie\}' is not an allowed key here: unknown placeholder \{cokie\}"]),
    # one target, one difference per step; a reason that says nothing
    ("type: ab-test\nscenarios:\n  - name: x\n    request: {path: /}\n    expect: {status: 200}\n    differences:\n"
     "      - {targets: [vercel], reason: 'because Vercel differs here', expect: {status: 201}}\n"
     "      - {targets: [vercel], reason: why, expect: {status: 202}}\n",
     [r"differences\[1\]\.targets: target vercel has two differences", r"differences\[1\]\.reason: a declared difference needs its reason"]),
    # a close code out of range, a client name that is not one, a list where one value or a list is allowed
    ("type: realtime-room\nscenarios:\n  - name: x\n    steps:\n      - {connect: a, path: /}\n      - {closed: a, code: [1009, 99]}\n"
     "      - {receive: [a, '1b'], message: {t: x}}\n",
     [r":6: scenarios\[0\]\.steps\[1\]\.code\[1\]: input should be greater than or equal to 1000",
      r":7: scenarios\[0\]\.steps\[2\]\.receive\[1\]: expected a WebSocket client name"]),
    # an unknown key inside a step names the step's own keys
    ("type: realtime-room\nscenarios:\n  - name: x\n    steps:\n      - {connect: a, path: /, heders: {}}\n",
     [r":5: scenarios\[0\]\.steps\[0\]\.heders: unknown key 'heders'\n    fix: did you mean 'headers'\? allowed keys: connect, path, headers"]),
])
def test_more_malformed_scenarios(tmp_path, text, expected):
    got = "\n".join(issues(tmp_path, text))
    for rx in expected:
        assert re.search(rx, got), (rx, got)


def test_the_scenario_json_schema_is_generated_from_the_models_and_accepts_the_project_files():
    """conformance/scenario.schema.json is what `make schema` writes from the pydantic models (one description of
    the format), and an editor validating with it accepts every project scenario file and flags a typo."""
    import jsonschema
    import yaml

    from edgeport.conformance.model import json_schema

    path = ROOT / "conformance" / "scenario.schema.json"
    assert path.read_text() == json_schema(), "run `make schema` and commit conformance/scenario.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(path.read_text()))
    files = sorted((ROOT / "conformance" / "scenarios").glob("*.yaml"))
    assert len(files) == 5
    for f in files:
        assert f.read_text().startswith("# yaml-language-server: $schema=../scenario.schema.json\n")
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(f.read_text()))]
        assert errors == [], (f.name, errors[:3])
    bad = yaml.safe_load(files[0].read_text())
    bad["scenarios"][0]["expectt"] = bad["scenarios"][0].pop("expect", {"status": 200})
    assert any("expectt" in e.message for e in validator.iter_errors(bad))


# ---------------------------------------------------------------- placeholders and secrets


def test_placeholders_nest_keep_types_and_do_not_rescan():
    values = {"v": "new-hero", "variant[new-hero].path": "/x{path}", "variants": ["a", "b"], "n": 4}
    look = values.__getitem__
    assert resolve("{variant[{v}].path}", look) == "/x{path}"  # the inserted template keeps its literal braces
    assert resolve("{variants}", look) == ["a", "b"] and resolve("{n+1}", look) == 5 and resolve("{n*3}", look) == 12
    assert resolve({"{v}": ["{{literal}}", "at {n}"]}, look) == {"new-hero": ["{literal}", "at 4"]}
    with pytest.raises(PlaceholderError, match="list"):
        resolve("x {variants}", look)
    with pytest.raises(PlaceholderError, match="unclosed"):
        resolve("{v", look)


def test_secrets_without_a_local_value_are_ephemeral_and_never_written(tmp_path, monkeypatch):
    monkeypatch.delenv("EDGEPORT_SECRET_JWT_HMAC", raising=False)
    app = load_stack("dev", ROOT).app
    values, source = local_secrets(app, tmp_path)
    assert source == {"jwt_hmac": "ephemeral"} and len(values["jwt_hmac"]) >= 48
    assert local_secrets(app, tmp_path)[0]["jwt_hmac"] != values["jwt_hmac"], "a new value per run"
    assert not (tmp_path / ".dev.vars").exists()
    monkeypatch.setenv("EDGEPORT_SECRET_JWT_HMAC", "v" * 48)
    assert local_secrets(app, tmp_path) == ({"jwt_hmac": "v" * 48}, {"jwt_hmac": "local"})
