"""`edgeport plan --against STATE.json`: the offline plan of a small stack compared with exported-state fixtures in
the format `pulumi stack export` writes (tests/state_fixtures/, made by tests/state_export.py from a real plan of that
stack, then edited as an earlier deploy would have left them): nothing changed, created, changed (in place and
documented replacements, and what follows from them), renamed through aliases, deleted, secrets changed. The plan
runs in a subprocess (Pulumi's mocks are process-global); the comparison itself is pure."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import credential_free_env
from state_export import FIXTURES_DIR, STACK_FILE, follow_build, plan_small

from edgeport import plan_diff

EDGEPORT = [sys.executable, "-m", "edgeport.cli"]


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("small")
    return plan_small(workdir), workdir


def fixture(planned, name: str) -> dict:
    plan, workdir = planned
    return follow_build(json.loads((FIXTURES_DIR / f"{name}.json").read_text()), plan, workdir)


def against(planned, name: str) -> plan_diff.ChangeSet:
    return plan_diff.compare(planned[0], plan_diff.parse_state(fixture(planned, name), f"{name}.json"))


def actions(cs: plan_diff.ChangeSet) -> dict[str, str]:
    """name -> action of what changes (renames included)."""
    return {r.name: r.action for r in cs.resources if r.action != "same" or r.renamed_from}


def change(cs: plan_diff.ChangeSet, name: str, key: str) -> plan_diff.InputChange:
    [r] = [r for r in cs.resources if r.name == name]
    [c] = [c for c in r.changes if c.key == key]
    return c


def test_the_export_of_the_same_stack_shows_no_change(planned):
    cs = against(planned, "unchanged")
    assert actions(cs) == {} and not cs.changed
    assert cs.summary()["same"] == len(planned[0]["resources"]) == 27
    # the stack resource and the default providers are Pulumi's own, not planned resources, and not deletions
    assert cs.state_resources == 30 and cs.state_project == "shop-infra"
    # bindings, secretString, the deployment's meta, two Vercel env values: encrypted in the export (the SSM value is
    # a live setting: ignoreChanges, not compared at all)
    assert cs.unverified_secrets == 5
    assert "No changes" in plan_diff.render_text(cs) and "No changes" in plan_diff.render_markdown(cs)


def test_created_resources_and_what_depends_on_them(planned):
    cs = against(planned, "create")
    assert actions(cs) == {
        "shop-cloudflare-live": "create", "shop-cloudflare-live-landing-test": "create",
        "shop-lambda-edge-cache-key-edgeport-ab-landing-exp-authorization": "create",
        "shop-lambda-edge-live-landing-test": "create", "shop-vercel-live-landing-test": "create",
        # their ids and ARNs are known only once they exist:
        "shop-cloudflare-script": "update", "shop-lambda-edge-distribution": "update", "shop-lambda-edge-policy": "update"}
    bindings = change(cs, "shop-cloudflare-script", "bindings")
    assert bindings.secret and bindings.note == "depends on a value known after apply"
    behaviours = change(cs, "shop-lambda-edge-distribution", "orderedCacheBehaviors")
    assert [(p, b) for p, _, b in behaviours.paths] == [("orderedCacheBehaviors[0].cachePolicyId", plan_diff.UNKNOWN)]
    assert change(cs, "shop-lambda-edge-policy", "policy").new is plan_diff.UNKNOWN  # the new parameter's ARN


def test_changed_inputs_updates_and_documented_replacements(planned):
    cs = against(planned, "change")
    assert actions(cs) == {
        "shop-cloudflare-live": "replace", "shop-cloudflare-live-landing-test": "replace",
        "shop-cloudflare-route-all": "update", "shop-cloudflare-script": "update",
        "shop-lambda-edge-distribution": "update", "shop-lambda-edge-viewer-request": "update",
        "shop-vercel-live-landing-test": "replace", "shop-vercel-project": "update"}
    memory = change(cs, "shop-lambda-edge-viewer-request", "memorySize")
    assert (memory.old, memory.new, memory.replaces) == (256, 128, False)
    account = change(cs, "shop-cloudflare-live", "accountId")
    assert account.replaces is True and "RequiresReplace" in account.note
    # a replaced namespace has a new id: the KV item keyed by it is replaced too (namespace_id forces it)
    ns = change(cs, "shop-cloudflare-live-landing-test", "namespaceId")
    assert ns.new is plan_diff.UNKNOWN and ns.replaces is True
    # publishing a new Lambda version changes its qualified ARN, which the distribution's associations name
    assoc = change(cs, "shop-lambda-edge-distribution", "defaultCacheBehavior")
    assert [p for p, _, _ in assoc.paths] == ["defaultCacheBehavior.lambdaFunctionAssociations[0].lambdaArn"]
    key = change(cs, "shop-vercel-live-landing-test", "key")
    assert (key.old, key.new, key.replaces) == ("ab-landing", "ab-landing-exp", True)
    # the live ratios (`edgeport experiment set`) differ from the declared ones; ignoreChanges keeps them: no change
    [item] = [r for r in cs.resources if r.name == "shop-vercel-live-landing-test"]
    assert [c.key for c in item.changes] == ["key"] and "valueJson differs from the export, and stays" in item.notes[0]
    assert (change(cs, "shop-vercel-project", "name").old, change(cs, "shop-vercel-project", "name").replaces) == \
        ("shop-edge-old", False)
    text = plan_diff.render_text(cs)
    assert 'memorySize: 256 -> 128' in text and 'pattern: "shop.example.com/api/*" -> "shop.example.com/*"' in text
    assert "0 to create, 5 to update, 3 to replace, 0 may be replaced, 0 to delete" in text


def test_a_secret_change_never_shows_a_secret_value(planned):
    doc = fixture(planned, "secret")  # exported with --show-secrets
    cs = plan_diff.compare(planned[0], plan_diff.parse_state(doc, "secret.json"))
    assert actions(cs) == {"shop-cloudflare-script": "update", "shop-vercel-env-edge-config": "update"}
    bindings = change(cs, "shop-cloudflare-script", "bindings")
    assert bindings.secret and bindings.note.startswith("structure changed")
    # binding names are structure, not secret: the renamed one shows; the secret texts do not
    assert [(p, a, b) for p, a, b in bindings.paths] == [("bindings[0].name", "JWT_SECRET", "EDGEPORT_SECRET_JWT_HMAC")]
    assert change(cs, "shop-vercel-env-edge-config", "value").note == "now secret"
    rendered = plan_diff.render_text(cs) + plan_diff.render_markdown(cs) + json.dumps(cs.to_json())
    assert "value: [secret] -> [secret]  (now secret)" in rendered
    plaintexts = [json.loads(r["inputs"][k]["plaintext"]) for r in doc["deployment"]["resources"]
                  for k in r.get("inputs", {}) if isinstance(r["inputs"][k], dict) and "plaintext" in r["inputs"][k]]
    leaked = [v for v in json.dumps(plaintexts).split('"') if v.startswith("s3cret-") and v in rendered]
    assert plaintexts and leaked == []
    assert "plain-old-token" not in rendered  # a value that was stored in plain text is not printed either


def test_renames_carried_by_aliases_are_not_replacements(planned):
    cs = against(planned, "rename")
    renamed = {r.name: r.renamed_from.rsplit("::", 1)[1] for r in cs.resources if r.renamed_from}
    assert renamed == {"shop-cloudflare-live-landing-test": "shop-cloudflare-live-landing-exp",
                       "shop-lambda-edge-live-landing-test": "shop-lambda-edge-live-landing-exp",
                       "shop-vercel-live-landing-test": "shop-vercel-live-landing-exp",
                       "shop-cloudflare-script": "shop-cloudflare-script"}  # WorkersScript's alias to WorkerScript
    assert set(actions(cs).values()) == {"same"} and cs.summary()["create"] == cs.summary()["delete"] == 0
    [script] = [r for r in cs.resources if r.name == "shop-cloudflare-script"]
    assert "$cloudflare:index/workerScript:WorkerScript::" in script.renamed_from
    md = plan_diff.render_markdown(cs)
    assert "| 0 | 0 | 0 | 0 | 0 | 4 | 23 |" in md and "renamed from `urn:pulumi:small::shop-infra::" in md


def test_deleted_resources_with_what_pulumi_will_do_about_them(planned):
    cs = against(planned, "delete")
    assert actions(cs) == {"shop-cloudflare-route-old": "delete", "shop-lambda-edge-viewer-response": "delete"}
    notes = {r.name: " ".join(r.notes) for r in cs.resources if r.action == "delete"}
    assert "protected" in notes["shop-cloudflare-route-old"]
    assert "retained" in notes["shop-lambda-edge-viewer-response"]  # skipDestroy: teardown-check's business


def test_replacement_is_claimed_only_where_documented(planned):
    plan = planned[0]
    custom = {r["type"] for r in plan["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")}
    assert custom <= set(plan_diff.REPLACE_ON), "every type edgeport creates has its replacement facts"
    state = {"version": 3, "deployment": {"resources": [
        {"urn": "urn:pulumi:s::p::x:index:Thing::a", "type": "x:index:Thing", "custom": True, "id": "a1",
         "inputs": {"size": 1, "name": "a"}},
        {"urn": "urn:pulumi:s::p::aws:iam/role:Role::r", "type": "aws:iam/role:Role", "custom": True, "id": "r1",
         "inputs": {"description": "old", "name": "r-123", "__defaults": ["name"]}},
        {"urn": "urn:pulumi:s::p::pulumi:providers:aws::use1", "type": "pulumi:providers:aws", "custom": True, "id": "u",
         "inputs": {"region": "us-east-2", "version": "7.51.1"}},
        {"urn": "urn:pulumi:s::p::aws:iam/role:Role::q", "type": "aws:iam/role:Role", "custom": True, "id": "q1",
         "inputs": {"description": "old"}, "replaceOnChanges": ["description"]}]}}
    mini = {"stack": "s", "app": "x", "resources": [
        {"type": "x:index:Thing", "name": "a", "urn": "urn:pulumi:s::edgeport::x:index:Thing::a", "aliases": [],
         "custom": True, "inputs": {"size": 2, "name": "a"}, "secretInputs": [], "provider": None},
        {"type": "aws:iam/role:Role", "name": "r", "urn": "urn:pulumi:s::edgeport::aws:iam/role:Role::r", "aliases": [],
         "custom": True, "inputs": {"description": "new"}, "secretInputs": [], "provider": None},
        {"type": "pulumi:providers:aws", "name": "use1", "urn": "urn:pulumi:s::edgeport::pulumi:providers:aws::use1",
         "aliases": [], "custom": True, "inputs": {"region": "us-east-1"}, "secretInputs": [], "provider": None},
        {"type": "aws:iam/role:Role", "name": "q", "urn": "urn:pulumi:s::edgeport::aws:iam/role:Role::q", "aliases": [],
         "custom": True, "inputs": {"description": "new"}, "secretInputs": [], "provider": None}]}
    cs = plan_diff.compare(mini, plan_diff.parse_state(state))
    # the autoname is no change; the replaceOnChanges option the export records forces replacement
    assert actions(cs) == {"a": "may-replace", "r": "update", "use1": "may-replace", "q": "replace"}
    assert "may replace" in plan_diff.render_text(cs)


def test_lambda_code_compares_by_the_sha256_of_its_contents(tmp_path):
    code = tmp_path / "index.js"
    code.write_text("export const handler = () => 1;\n")
    import hashlib

    digest = hashlib.sha256(code.read_bytes()).hexdigest()
    old = plan_diff.decode({plan_diff.SIG_KEY: plan_diff.ARCHIVE_SIG, "assets": {"index.js": {
        plan_diff.SIG_KEY: plan_diff.ASSET_SIG, "hash": digest, "path": "/elsewhere/index.js"}}})
    ours = {"archive": {"index.js": {"file": str(code), "bytes": code.stat().st_size}}}
    assert plan_diff._same_asset(old, ours) is True  # another path, same contents: no change
    code.write_text("export const handler = () => 2;\n")
    assert plan_diff._same_asset(old, ours) is False
    code.unlink()
    assert plan_diff._same_asset(old, ours) is None  # cannot tell: said so, not guessed


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON (line 1 column 2"),
    ('{"version": 2, "deployment": {}}', "deployment version 2"),
    ('{"resources": []}', "not a `pulumi stack export`"),
])
def test_a_file_that_is_no_export_is_a_clear_error(tmp_path, content, message):
    (tmp_path / "state.json").write_text(content)
    with pytest.raises(plan_diff.StateFileError, match=message.replace("(", r"\(").replace("`", ".")):
        plan_diff.load_state(tmp_path / "state.json")


def test_the_plan_command_against_an_export(planned, tmp_path):
    plan, workdir = planned
    synced = tmp_path / "change.json"
    synced.write_text(json.dumps(fixture(planned, "change")))
    other = tmp_path / "other.json"
    other.write_text((FIXTURES_DIR / "unchanged.json").read_text().replace("urn:pulumi:small::", "urn:pulumi:prod::"))
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    runs = {
        "md": ["--against", str(synced), "--markdown", "--offline"],
        "json": ["--against", str(synced), "--json", "--offline"],
        "other": ["--against", str(other)],
        "bad": ["--against", str(bad)],
        "missing": ["--against", str(tmp_path / "nope.json")],
    }
    procs = {k: subprocess.Popen([*EDGEPORT, "plan", "--stack", "small", *flags], cwd=workdir, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=credential_free_env()) for k, flags in runs.items()}
    out = {k: (p.communicate(timeout=240), p.returncode) for k, p in procs.items()}
    (md, err), code = out["md"]
    assert code == 0, err
    assert md.startswith("### edgeport plan: stack `small`, app `shop` against the deployed state\n\n| create | update |")
    assert "| 0 | 5 | **3** | 0 | 0 | 0 | 19 |" in md and "<details>" in md
    (js, err), code = out["json"]
    doc = json.loads(js)
    assert code == 0 and doc["ok"] and doc["summary"]["replace"] == 3 and doc["changed"]
    for k, message in (("other", "is an export of stack 'prod'"), ("bad", "not a `pulumi stack export`"),
                       ("missing", "cannot read it")):
        (stdout, err), code = out[k]
        assert code == 2 and message in err and "Traceback" not in err, (k, err)
    assert STACK_FILE.exists()


def test_a_lambda_update_changes_its_qualified_arn_only_when_it_publishes():
    from edgeport.plan import mock_outputs

    _, mock = mock_outputs("aws:lambda/function:Function", "fn", {"publish": True})
    real = {"name": "fn-4f5e6d7", "arn": "arn:aws:lambda:us-east-1:111122223333:function:fn-4f5e6d7", "version": "7",
            "qualifiedArn": "arn:aws:lambda:us-east-1:111122223333:function:fn-4f5e6d7:7"}

    def run(memory: int, tags: dict) -> dict[str, str]:
        state = {"version": 3, "deployment": {"resources": [
            {"urn": "urn:pulumi:s::p::aws:lambda/function:Function::fn", "type": "aws:lambda/function:Function",
             "custom": True, "id": real["name"], "outputs": real,
             "inputs": {"publish": True, "memorySize": 128, "tags": {"team": "edge"}, "name": real["name"],
                        "__defaults": ["name"]}},
            {"urn": "urn:pulumi:s::p::aws:cloudfront/distribution:Distribution::cdn", "custom": True, "id": "E1",
             "type": "aws:cloudfront/distribution:Distribution", "inputs": {"lambdaArn": real["qualifiedArn"]}}]}}
        plan = {"stack": "s", "app": "x", "resources": [
            {"type": "aws:lambda/function:Function", "name": "fn", "urn": "urn:pulumi:s::edgeport::aws:lambda/function:Function::fn",
             "aliases": [], "custom": True, "inputs": {"publish": True, "memorySize": memory, "tags": tags},
             "secretInputs": [], "provider": None},
            {"type": "aws:cloudfront/distribution:Distribution", "name": "cdn", "aliases": [], "custom": True,
             "urn": "urn:pulumi:s::edgeport::aws:cloudfront/distribution:Distribution::cdn",
             "inputs": {"lambdaArn": mock["qualifiedArn"]}, "secretInputs": [], "provider": None}]}
        return actions(plan_diff.compare(plan, plan_diff.parse_state(state)))

    assert run(128, {"team": "edge"}) == {}
    assert run(256, {"team": "edge"}) == {"fn": "update", "cdn": "update"}  # a new version: a new qualified ARN
    assert run(128, {"team": "web"}) == {"fn": "update"}  # tags publish nothing
