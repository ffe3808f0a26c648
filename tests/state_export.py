"""Exported-state fixtures for `edgeport plan --against` (tests/test_plan_diff.py).

Each fixture in tests/state_fixtures/ is what `pulumi stack export` writes for the small stack
(tests/state_fixtures/Pulumi.small.yaml) after a deploy, made from a real offline plan of that stack: the format of
github.com/pulumi/pulumi sdk/go/common/apitype/core.go (UntypedDeployment, DeploymentV3, ResourceV3), the stack
resource and the default providers `pulumi up` adds, ids and ARNs as the providers make them, autonamed names listed
in the bridge's `__defaults`, secrets as {"4dabf...": "1b470...", "ciphertext": ...} (or "plaintext" as with
--show-secrets), Lambda code as an archive of assets with their SHA-256. Then each fixture is edited by hand, as a
deploy of an earlier version of the stack would have left it (see FIXTURES).

    .venv/bin/python tests/state_export.py      # rewrite the fixtures from a fresh plan

Build outputs (the Worker script, the Lambda code and the description carrying its hash, the Vercel files) change
with every change to the engine; `follow_build` puts the current plan's ones into a fixture before a test compares.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES_DIR = HERE / "state_fixtures"
STACK_FILE = FIXTURES_DIR / "Pulumi.small.yaml"
PROJECT = "shop-infra"  # the project's name in its Pulumi.yaml (the plan itself runs as "edgeport")
ACCOUNT = "111122223333"
CI_CHECKOUT = "/home/runner/work/shop-infra/shop-infra"  # where the deploying runner had the project

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
AUTONAMED = {"aws:lambda/function:Function", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
             "aws:cloudfront/cachePolicy:CachePolicy"}
VOLATILE = {"cloudflare:index/workersScript:WorkersScript": ["content"], "cloudflare:index/workerScript:WorkerScript": ["content"],
            "aws:lambda/function:Function": ["code", "description"],
            "vercel:index/deployment:Deployment": ["files"]}
TIME = "2026-11-20T09:14:03.512345Z"


def h(text: str, n: int = 32) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def retarget(urn: str, stack: str) -> str:
    return urn.replace(f"urn:pulumi:{stack}::edgeport::", f"urn:pulumi:{stack}::{PROJECT}::", 1)


def plan_small(workdir: Path) -> dict:
    """A real offline plan of the small stack (a subprocess: Pulumi's mocks are process-global)."""
    (workdir / "stacks").mkdir(parents=True, exist_ok=True)
    (workdir / "Pulumi.yaml").write_text((HERE.parent / "Pulumi.yaml").read_text())
    (workdir / "stacks" / "Pulumi.small.yaml").write_text(STACK_FILE.read_text())
    r = subprocess.run([sys.executable, "-m", "edgeport.cli", "plan", "--stack", "small", "--json", "--offline"],
                       cwd=workdir, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout)


# ---------------------------------------------------------------- what the providers made


def _real(r: dict, stack: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(id, outputs the provider computed, inputs the provider filled in) for a planned resource."""
    t, name, i = r["type"], r["name"], r["inputs"]
    suffix = h(r["urn"], 7)
    if t == "aws:lambda/function:Function":
        physical = f"{name}-{suffix}"
        arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{physical}"
        return physical, {"name": physical, "arn": arn, "version": "3", "qualifiedArn": f"{arn}:3",
                          "invokeArn": f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"}, \
            {"name": physical}
    if t == "aws:iam/role:Role":
        physical = f"{name}-{suffix}"
        return physical, {"name": physical, "arn": f"arn:aws:iam::{ACCOUNT}:role/{physical}"}, {"name": physical}
    if t == "aws:iam/rolePolicy:RolePolicy":
        physical = f"{name}-{suffix}"
        return f"role:{physical}", {"name": physical}, {"name": physical}
    if t == "aws:cloudfront/cachePolicy:CachePolicy":
        u = h(r["urn"])
        return f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}", {"etag": "E1" + h(name, 12).upper()}, \
            {"name": f"{name}-{suffix}"}
    if t == "aws:cloudfront/distribution:Distribution":
        did = "E" + h(r["urn"], 13).upper()
        return did, {"domainName": f"d{h(name, 13)}.cloudfront.net", "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{did}",
                     "status": "Deployed"}, {}
    if t == "aws:secretsmanager/secret:Secret":
        arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{i['name']}-{h(name, 6)}"
        return arn, {"arn": arn}, {}
    if t == "aws:secretsmanager/secretVersion:SecretVersion":
        return f"SECRET|{h(name)}", {"versionId": h(name)}, {}
    if t == "aws:ssm/parameter:Parameter":
        return i["name"], {"arn": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{i['name']}", "version": 1}, {}
    if t == "cloudflare:index/workersScript:WorkersScript":
        return i["scriptName"], {"etag": h(name)}, {}
    if t == "cloudflare:index/workersKv:WorkersKv":
        return i["keyName"], {}, {}
    if t.startswith("vercel:index/"):
        prefix = {"project:Project": "prj_", "edgeConfig:EdgeConfig": "ecfg_", "deployment:Deployment": "dpl_"}.get(
            t.split("/", 1)[1], "")
        rid = prefix + h(r["urn"], 24)
        extra = {"url": f"shop-{h(name, 9)}.vercel.app"} if t.endswith("Deployment") else {}
        return rid, extra, {}
    if t.startswith("pulumi:providers:"):
        u = h(r["urn"])
        return f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}", {}, {"version": "7.51.1"}
    return h(r["urn"]), {}, {}


def _pairs(plan: dict) -> dict[str, str]:
    """Mock value -> the provider's value, for every stand-in the offline plan put into inputs."""
    from edgeport.plan import mock_outputs

    out: dict[str, str] = {}
    for r in plan["resources"]:
        if not r["custom"]:
            continue
        rid, outs = mock_outputs(r["type"], r["name"], r["inputs"])
        real_id, real_out, _ = _real(r, plan["stack"])
        out[rid] = real_id
        for k, v in outs.items():
            if isinstance(v, str) and r["inputs"].get(k) != v and isinstance(real_out.get(k, real_id if k == "id" else None), str):
                real = real_out.get(k, real_id)
                out[v] = real
                for a, b in zip(v.split(":"), real.split(":")):
                    if a != b and len(a) >= 8 and len(v.split(":")) == len(real.split(":")):
                        out.setdefault(a, b)
    return out


def _swap(v: Any, pairs: dict[str, str]) -> Any:
    if isinstance(v, dict):
        return {k: _swap(x, pairs) for k, x in v.items()}
    if isinstance(v, list):
        return [_swap(x, pairs) for x in v]
    if isinstance(v, str):
        if v in pairs:
            return pairs[v]
        for m in sorted(pairs, key=len, reverse=True):
            if len(m) >= 8 and m in v:
                v = v.replace(m, pairs[m])
    return v


def _asset(v: Any, project_dir: Path) -> Any:
    """edgeport.plan's asset descriptions as the export writes assets (hash of the contents, the deploying
    machine's path)."""
    if isinstance(v, dict) and set(v) == {"archive"}:
        members = {k: _asset(a, project_dir) for k, a in sorted(v["archive"].items())}
        return {SIG: ARCHIVE_SIG, "assets": members, "hash": h(json.dumps(members, sort_keys=True), 64)}
    if isinstance(v, dict) and set(v) == {"file", "bytes"}:
        p = Path(v["file"])
        rel = p.relative_to(project_dir) if p.is_relative_to(project_dir) else p
        return {SIG: ASSET_SIG, "hash": hashlib.sha256(p.read_bytes()).hexdigest(), "path": f"{CI_CHECKOUT}/{rel}"}
    if isinstance(v, dict):
        return {k: _asset(x, project_dir) for k, x in v.items()}
    if isinstance(v, list):
        return [_asset(x, project_dir) for x in v]
    return v


def _unmask(v: Any, path: str) -> Any:
    """Stand-in secret values where the plan shows [secret]."""
    if v == "[secret]":
        return f"s3cret-{h(path, 24)}"
    if isinstance(v, dict):
        return {k: _unmask(x, f"{path}.{k}") for k, x in v.items()}
    if isinstance(v, list):
        return [_unmask(x, f"{path}[{i}]") for i, x in enumerate(v)]
    return v


def secret(value: Any, path: str, show: bool) -> dict:
    plain = json.dumps(_unmask(value, path))
    if show:
        return {SIG: SECRET_SIG, "plaintext": plain}
    return {SIG: SECRET_SIG, "ciphertext": "v1:" + base64.b64encode(hashlib.sha256(plain.encode()).digest()).decode()}


def convert_input(r: dict, key: str, pairs: dict[str, str], project_dir: Path, show_secrets: bool) -> Any:
    v = _asset(_swap(r["inputs"][key], pairs), project_dir)
    return secret(v, f"{r['urn']}.{key}", show_secrets) if key in r["secretInputs"] else v


def export(plan: dict, project_dir: Path, show_secrets: bool = False) -> dict:
    """What `pulumi stack export` would print after `pulumi up` of this plan."""
    stack = plan["stack"]
    pairs = _pairs(plan)
    stack_urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"
    defaults = {p: f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:{p}::default_{v.replace('.', '_')}"
                for p, v in (("cloudflare", "6.23.1"), ("vercel", "5.21.1"))}
    resources: list[dict] = [{"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {},
                              "created": TIME, "modified": TIME}]
    for p, urn in defaults.items():
        pid = h(urn)
        resources.append({"urn": urn, "custom": True, "id": pid, "type": f"pulumi:providers:{p}",
                          "inputs": {"version": urn.rsplit("default_", 1)[1].replace("_", ".")},
                          "outputs": {"version": urn.rsplit("default_", 1)[1].replace("_", ".")}, "created": TIME,
                          "modified": TIME})
    # the mocks' provider references name only the provider's nearest parent type: find providers by type and name
    providers = {(r["type"], r["name"]): (retarget(r["urn"], stack), _real(r, stack)[0])
                 for r in plan["resources"] if r["type"].startswith("pulumi:providers:")}
    for r in plan["resources"]:
        urn = retarget(r["urn"], stack)
        entry: dict[str, Any] = {"urn": urn, "custom": r["custom"], "type": r["type"],
                                 "parent": retarget(r["parentUrn"], stack) if r["parentUrn"] else stack_urn}
        if r["custom"]:
            rid, outs, filled = _real(r, stack)
            inputs = {k: convert_input(r, k, pairs, project_dir, show_secrets) for k in r["inputs"]}
            inputs.update(filled)
            inputs["__defaults"] = sorted(k for k in filled if k != "version") if r["type"] in AUTONAMED else []
            entry["id"] = rid
            entry["inputs"] = inputs
            entry["outputs"] = {**{k: v for k, v in inputs.items() if k != "__defaults"}, **outs, "id": rid}
            if r["provider"]:
                ref = r["provider"].rsplit("::", 1)[0]
                purn, pid = providers[(ref.split("::")[2].rsplit("$", 1)[-1], ref.rsplit("::", 1)[1])]
                entry["provider"] = f"{purn}::{pid}"
            elif not r["type"].startswith("pulumi:providers:"):
                family = r["type"].split(":", 1)[0]
                entry["provider"] = f"{defaults[family]}::{h(defaults[family])}"
            entry["propertyDependencies"] = {k: [] for k in r["inputs"]}
            if r.get("ignoreChanges"):
                entry["ignoreChanges"] = r["ignoreChanges"]
        else:
            entry["outputs"] = {}
        entry["created"] = entry["modified"] = TIME
        resources.append(entry)
    return {"version": 3, "deployment": {
        "manifest": {"time": TIME, "magic": h("magic", 64), "version": "v3.210.0"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:" + base64.b64encode(b"edgeport-fixture").decode()}},
        "resources": resources}}


def follow_build(doc: dict, plan: dict, project_dir: Path) -> dict:
    """The fixture with the current build's outputs (bundle text, code hashes, file digests) where the fixture's
    resource is the planned one: those change with the engine, not with what a fixture is about."""
    doc = copy.deepcopy(doc)
    pairs = _pairs(plan)
    planned = {retarget(u, plan["stack"]): r for r in plan["resources"] for u in [r["urn"], *r["aliases"]]}
    for s in doc["deployment"]["resources"]:
        r = planned.get(s["urn"])
        for key in VOLATILE.get(s["type"], []):
            if r is not None and key in r["inputs"] and key in s.get("inputs", {}):
                s["inputs"][key] = s["outputs"][key] = convert_input(r, key, pairs, project_dir, False)
    return doc


# ---------------------------------------------------------------- the fixtures: a deploy of an earlier stack


def _find(doc: dict, name: str, typ: str | None = None) -> dict:
    found = [r for r in doc["deployment"]["resources"] if r["urn"].rsplit("::", 1)[1] == name and (typ is None or r["type"] == typ)]
    assert len(found) == 1, (name, typ, len(found))
    return found[0]


def _drop(doc: dict, *names: str) -> None:
    doc["deployment"]["resources"] = [r for r in doc["deployment"]["resources"] if r["urn"].rsplit("::", 1)[1] not in names]


def _set(r: dict, key: str, value: Any) -> None:
    r["inputs"][key] = value
    r["outputs"][key] = value


def make_create(doc: dict) -> dict:
    """Deployed before the A/B test existed: its KV namespace and item, SSM parameter, Edge Config item and cache
    policy are new."""
    _drop(doc, "shop-cloudflare-live", "shop-cloudflare-live-landing-test", "shop-lambda-edge-live-landing-test",
          "shop-vercel-live-landing-test", "shop-lambda-edge-cache-key-edgeport-ab-landing-exp-authorization")
    return doc


def make_change(doc: dict) -> dict:
    """Deployed with other settings: in-place updates, documented replacements and what follows from them."""
    _set(_find(doc, "shop-lambda-edge-viewer-request"), "memorySize", 256)  # update; a new version is published
    _set(_find(doc, "shop-cloudflare-live"), "accountId", "ffffffffffffffffffffffffffffffff")  # replace
    _set(_find(doc, "shop-vercel-project"), "name", "shop-edge-old")  # update (a project renames in place)
    item = _find(doc, "shop-vercel-live-landing-test")
    _set(item, "key", "ab-landing")  # replace (an earlier key)
    _set(item, "valueJson", {"beta-stack": 10, "control": 90})  # set live since: ignoreChanges keeps it
    _set(_find(doc, "shop-cloudflare-route-all"), "pattern", "shop.example.com/api/*")  # update
    return doc


def make_secret(doc: dict) -> dict:
    """Exported with --show-secrets: the Worker's secret bindings had another structure, and the Edge Config
    connection string was stored as a plain (non-secret) value."""
    script = _find(doc, "shop-cloudflare-script")
    bindings = json.loads(script["inputs"]["bindings"]["plaintext"])
    bindings[0]["name"] = "JWT_SECRET"
    _set(script, "bindings", {SIG: SECRET_SIG, "plaintext": json.dumps(bindings)})
    _set(_find(doc, "shop-vercel-env-edge-config"), "value", "https://edge-config.vercel.com/ecfg_x?token=plain-old-token")
    return doc


def make_rename(doc: dict, plan: dict) -> dict:
    """Deployed while the A/B test was called landing-exp and the Worker script was the deprecated WorkerScript
    type: the old URNs are the aliases the plan now carries."""
    planned = {retarget(r["urn"], plan["stack"]): r for r in plan["resources"]}
    for r in doc["deployment"]["resources"]:
        p = planned.get(r["urn"])
        if p and p["aliases"]:
            old = retarget(p["aliases"][0], plan["stack"])
            r["urn"] = old
            r["type"] = old.split("::")[2].rsplit("$", 1)[-1]
    return doc


def make_delete(doc: dict) -> dict:
    """Deployed with resources the stack no longer declares: a Workers route (protected) and a Lambda@Edge function
    for a trigger no pattern needs any more (skipDestroy: retained in AWS)."""
    route = copy.deepcopy(_find(doc, "shop-cloudflare-route-all"))
    route["urn"] = route["urn"].replace("::shop-cloudflare-route-all", "::shop-cloudflare-route-old")
    route["id"] = h("old route")
    route["protect"] = True
    _set(route, "pattern", "shop.example.com/old/*")
    fn = copy.deepcopy(_find(doc, "shop-lambda-edge-origin-response"))
    fn["urn"] = fn["urn"].replace("::shop-lambda-edge-origin-response", "::shop-lambda-edge-viewer-response")
    fn["id"] = fn["inputs"]["name"] = fn["outputs"]["name"] = "shop-lambda-edge-viewer-response-9c8d7e6"
    doc["deployment"]["resources"] += [route, fn]
    return doc


FIXTURES = {
    "unchanged": lambda doc, plan: doc,
    "create": lambda doc, plan: make_create(doc),
    "change": lambda doc, plan: make_change(doc),
    "rename": make_rename,
    "delete": lambda doc, plan: make_delete(doc),
}


EARLIER_BUILD = ("// the Worker bundle of an earlier build (tests/state_export.py: follow_build puts the current one "
                 "in before a test compares)\nexport default { fetch() { return new Response(null, { status: 502 }); } };\n")


def write(path: Path, doc: dict) -> None:
    """One resource per line: small diffs when a fixture is made again. The Worker bundle is shortened to a stand-in
    (tests replace it with the current build's anyway)."""
    for r in doc["deployment"]["resources"]:
        if r["type"].endswith(("WorkersScript", ":WorkerScript")) and "content" in r.get("inputs", {}):
            r["inputs"]["content"] = r["outputs"]["content"] = EARLIER_BUILD
    dep = doc["deployment"]
    head = json.dumps({k: v for k, v in dep.items() if k != "resources"})[:-1]
    lines = ",\n".join(json.dumps(r) for r in dep["resources"])
    path.write_text(f'{{"version": {doc["version"]}, "deployment": {head}, "resources": [\n{lines}\n]}}}}\n')


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        plan = plan_small(workdir)
        base = export(plan, workdir)
        for name, make in FIXTURES.items():
            write(FIXTURES_DIR / f"{name}.json", make(copy.deepcopy(base), plan))
        write(FIXTURES_DIR / "secret.json", make_secret(export(plan, workdir, show_secrets=True)))
    print(f"wrote {len(FIXTURES) + 1} fixtures to {FIXTURES_DIR}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
