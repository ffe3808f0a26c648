"""The deploy lifecycle under Pulumi's mocks: the program runs through a sequence of states - create, an unchanged
re-run, a code change, a secret rotation, a rename, adding and removing rooms, destroy then re-create - with the
mocks answering data sources the way the provider would (the Worker's current Durable Object migration tag).
Each step asserts the exact inputs that would be sent: migrations present or absent, names, what forces a
replacement, and protect flags.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from conftest import MOCKS, ROOT
from edgeport.build import build_app
from edgeport.components import EdgeApp
from edgeport.spec import load_stack, parse_app
from edgeport.targets import cloudflare

STACK = "life"
SCRIPTS = "cloudflare:index/getWorkersScripts:getWorkersScripts"
DEV_RAW = load_stack("dev", ROOT).config["edgeport:app"]
KEY_1 = "first-secret-" + "a" * 48
KEY_2 = "rotated-secret-" + "b" * 48


def raw(*, rooms: bool = True, rename: bool = False, route: str = "/api/*") -> dict:
    out = copy.deepcopy(DEV_RAW)
    out["patterns"] = [p for p in out["patterns"] if rooms or p["type"] != "realtime-room"]
    for p in out["patterns"]:
        if p["name"] == "api-auth":
            p["routes"] = [route, "/account"]
        if rename and p["name"] in ("support-chat", "landing-exp"):
            p["previousNames"] = [p["name"]]
            p["name"] = p["name"] + "-v2"
    return out


class Deploy:
    """One `pulumi up` of a state: the inputs and options of every resource it registers."""

    def __init__(self, resources: dict[str, Any], protect: dict[str, bool], aliases: dict[str, list[str]]):
        self.resources, self.protect, self.aliases = resources, protect, aliases

    def one(self, typ: str):
        (r,) = [r for r in self.resources.values() if r.typ == typ]
        return r

    def all(self, typ: str) -> list:
        return [r for r in self.resources.values() if r.typ == typ]


def plain(v):
    return rpc.unwrap_rpc_secret(v) if rpc.is_rpc_secret(v) else v


def deploy(app_raw: dict, build, secret: str, migration_tag: str | None, check) -> pulumi.Output:
    """Run the EdgeApp for one state. The account's scripts answer with `migration_tag` for this stack's Worker."""
    app = parse_app(app_raw)
    script = cloudflare.script_name(app, STACK)
    MOCKS.invokes[SCRIPTS] = lambda args: {"results": [{"id": script, "migrationTag": migration_tag}] if migration_tag else []}
    collected, protect, aliases = [], {}, {}

    def record(args):
        collected.append(args.resource)
        protect[args.name] = bool(args.opts.protect)
        aliases[args.name] = [a.name for a in (args.opts.aliases or []) if isinstance(a, pulumi.Alias) and isinstance(a.name, str)]

    EdgeApp("shop", {"app": app, "stack": STACK, "secrets": {"jwt_hmac": pulumi.Output.secret(secret)}},
            opts=pulumi.ResourceOptions(transformations=[record]), build=build)

    def registered(_):
        names = {r._name for r in collected}
        return check(Deploy({a.name: a for a in MOCKS.resources if a.name in names}, protect, aliases))

    return pulumi.Output.all(*[r.urn for r in collected]).apply(registered)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The bundles of each state (built once: the build is what `pulumi up` runs first)."""
    out = {}
    for key, kw in {"base": {}, "code": {"route": "/v2/api/*"}, "renamed": {"rename": True}, "no-rooms": {"rooms": False}}.items():
        out[key] = build_app(parse_app(raw(**kw)), STACK, tmp_path_factory.mktemp(f"life-{key}"))
    return out


@pytest.fixture(autouse=True)
def restore_invokes():
    saved = dict(MOCKS.invokes)
    yield
    MOCKS.invokes.clear()
    MOCKS.invokes.update(saved)


FIRST_MIGRATION = {"newTag": "edgeport-v1", "newSqliteClasses": ["EdgeportRoom"]}


def comparable(v):
    """Inputs as values: assets compare by what they hold (pulumi.Asset has no equality of its own)."""
    if isinstance(v, pulumi.AssetArchive):
        return {k: comparable(a) for k, a in v.assets.items()}
    if isinstance(v, pulumi.FileAsset):
        return ("file", v.path)
    if isinstance(v, dict):
        return {k: comparable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [comparable(x) for x in v]
    return v


def inputs_without(inputs: dict, *keys) -> dict:
    return {k: comparable(v) for k, v in inputs.items() if k not in keys}


# ---------------------------------------------------------------- 1 create, 2 unchanged re-run


@pulumi.runtime.test
def test_1_create_sends_the_first_migration_and_protects_state(builds):
    def check(d: Deploy):
        script = d.one("cloudflare:index/workersScript:WorkersScript")
        assert script.inputs["migrations"] == FIRST_MIGRATION
        # rooms hold state: the Worker, its KV namespace, the distribution, secrets and Edge Config are protected
        for typ in ("cloudflare:index/workersScript:WorkersScript", "cloudflare:index/workersKvNamespace:WorkersKvNamespace",
                    "aws:cloudfront/distribution:Distribution", "aws:secretsmanager/secret:Secret",
                    "vercel:index/edgeConfig:EdgeConfig"):
            assert all(d.protect[r.name] for r in d.all(typ)), typ
        assert not d.protect[d.one("vercel:index/deployment:Deployment").name], "deployments are replaced on purpose"
        # functions are auto-named: nothing fixed that a destroyed stack's replicas could still hold
        assert all("name" not in f.inputs for f in d.all("aws:lambda/function:Function"))
        return True

    return deploy(raw(), builds["base"], KEY_1, None, check)


@pulumi.runtime.test
def test_2_an_unchanged_re_run_sends_no_migration_and_nothing_else_changes(builds):
    first: dict = {}

    def remember(d: Deploy):
        first.update({n: r.inputs for n, r in d.resources.items()})
        return True

    def check(d: Deploy):
        script = d.one("cloudflare:index/workersScript:WorkersScript")
        # The script already carries edgeport-v1: sending it again is error 10079 ("Migration tag precondition failed").
        assert "migrations" not in script.inputs or script.inputs["migrations"] is None
        changed = sorted(n for n, r in d.resources.items()
                         if inputs_without(r.inputs, "migrations") != inputs_without(first[n], "migrations"))
        assert changed == [], changed
        return True

    return deploy(raw(), builds["base"], KEY_1, None, remember).apply(
        lambda _: deploy(raw(), builds["base"], KEY_1, "edgeport-v1", check))


# ---------------------------------------------------------------- 3 code change, 4 secret rotation


@pulumi.runtime.test
def test_3_a_code_change_updates_the_bundles_without_a_migration(builds):
    before: dict = {}

    def remember(d: Deploy):
        before.update({r.typ + "|" + n: r.inputs for n, r in d.resources.items()})
        return True

    def check(d: Deploy):
        script = d.one("cloudflare:index/workersScript:WorkersScript")
        old_script = before["cloudflare:index/workersScript:WorkersScript|" + script.name]
        assert script.inputs.get("migrations") is None
        # The config is declared in the script's first line: the new route changes the content (an in-place update).
        config = lambda i: i["content"].split("\n", 1)[0]  # noqa: E731
        assert config(script.inputs) != config(old_script)
        assert script.inputs["content"].split("\n", 1)[1] == old_script["content"].split("\n", 1)[1], "same engine"
        assert "/v2/api/" in config(script.inputs)
        # Lambda@Edge has the config inlined: new code, published as a new numbered version.
        vr = next(f for f in d.all("aws:lambda/function:Function") if f.inputs["tags"]["edgeport:trigger"] == "viewer-request")
        old = before["aws:lambda/function:Function|" + vr.name]
        assert vr.inputs["description"] != old["description"], "the description carries the bundle's sha256"
        assert vr.inputs["publish"] is True
        dep = d.one("vercel:index/deployment:Deployment")
        assert dep.inputs["files"] != before["vercel:index/deployment:Deployment|" + dep.name]["files"], "files replace the deployment"
        return True

    return deploy(raw(), builds["base"], KEY_1, "edgeport-v1", remember).apply(
        lambda _: deploy(raw(route="/v2/api/*"), builds["code"], KEY_1, "edgeport-v1", check))


@pulumi.runtime.test
def test_4_a_secret_rotation_reaches_every_target(builds):
    seen: dict[str, dict] = {}

    def remember(key):
        def record(d: Deploy):
            seen[key] = {
                "worker": {b["name"]: b.get("text") for b in plain(d.one("cloudflare:index/workersScript:WorkersScript").inputs["bindings"])},
                "aws": plain(d.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"]),
                "vercel-env": plain(next(e for e in d.all("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable")
                                         if e.inputs["key"] == "EDGEPORT_SECRET_JWT_HMAC").inputs["value"]),
                "meta": plain(d.one("vercel:index/deployment:Deployment").inputs["meta"]),
                "migrations": d.one("cloudflare:index/workersScript:WorkersScript").inputs.get("migrations"),
            }
            return True
        return record

    def check(_):
        a, b = seen["before"], seen["after"]
        assert (a["worker"]["EDGEPORT_SECRET_JWT_HMAC"], b["worker"]["EDGEPORT_SECRET_JWT_HMAC"]) == (KEY_1, KEY_2)
        assert (a["aws"], b["aws"]) == (KEY_1, KEY_2), "the SecretVersion changes; replicas pick it up within secretTtl"
        assert (a["vercel-env"], b["vercel-env"]) == (KEY_1, KEY_2)
        # a changed variable alone does not redeploy on Vercel; the changed meta replaces the deployment
        assert a["meta"]["edgeport-secrets"] != b["meta"]["edgeport-secrets"]
        assert KEY_2 not in str(b["meta"]), "the meta holds a digest, never the value"
        assert b["migrations"] is None, "updating the Worker for a rotation sends no migration"
        return True

    return deploy(raw(), builds["base"], KEY_1, "edgeport-v1", remember("before")).apply(
        lambda _: deploy(raw(), builds["base"], KEY_2, "edgeport-v1", remember("after"))).apply(check)


# ---------------------------------------------------------------- 5 rename, 6 rooms removed and added again


@pulumi.runtime.test
def test_5_a_rename_with_previous_names_keeps_resources_keys_and_rooms(builds):
    def check(d: Deploy):
        script = d.one("cloudflare:index/workersScript:WorkersScript")
        assert script.inputs.get("migrations") is None, "the class is the same: no migration"
        config = script.inputs["content"].split("\n", 1)[0]
        assert 'key:"support-chat"' in config and 'name:"support-chat-v2"' in config, "room objects keep their first name"
        (kv,) = [r for r in d.all("cloudflare:index/workersKv:WorkersKv")]
        assert kv.inputs["keyName"] == "ab/landing-exp" and d.aliases[kv.name] == ["shop-cloudflare-live-landing-exp"]
        param = d.one("aws:ssm/parameter:Parameter")
        assert param.inputs["name"].endswith("/ab/landing-exp")
        return True

    return deploy(raw(rename=True), builds["renamed"], KEY_1, "edgeport-v1", check)


@pulumi.runtime.test
def test_6_removing_rooms_keeps_their_class_and_adding_them_back_needs_no_migration(builds):
    def removed(d: Deploy):
        script = d.one("cloudflare:index/workersScript:WorkersScript")
        # No deleted_classes: that would delete every room's storage. The bundle still exports the class.
        assert script.inputs.get("migrations") is None
        assert "EDGEPORT_ROOMS" not in {b["name"] for b in plain(script.inputs["bindings"])}
        assert "class EdgeportRoom" in script.inputs["content"] or "EdgeportRoom" in script.inputs["content"]
        assert not d.protect[script.name], "without rooms nothing forces protect on (the stack does not set it)"
        return True

    def added_back(d: Deploy):
        script = d.one("cloudflare:index/workersScript:WorkersScript")
        assert script.inputs.get("migrations") is None, "the script still carries edgeport-v1"
        assert "EDGEPORT_ROOMS" in {b["name"] for b in plain(script.inputs["bindings"])}
        return True

    return deploy(raw(rooms=False), builds["no-rooms"], KEY_1, "edgeport-v1", removed).apply(
        lambda _: deploy(raw(), builds["base"], KEY_1, "edgeport-v1", added_back))


# ---------------------------------------------------------------- 7 destroy, then re-create


@pulumi.runtime.test
def test_7_destroy_then_re_create_starts_clean(builds):
    def check(d: Deploy):
        # The destroyed script is gone (no tag): the first migration again.
        assert d.one("cloudflare:index/workersScript:WorkersScript").inputs["migrations"] == FIRST_MIGRATION
        # Lambda@Edge functions the destroy left behind (skip_destroy: replicas) keep their auto-generated names;
        # the new ones get new names, so the re-create never collides with them.
        fns = d.all("aws:lambda/function:Function")
        assert fns and all("name" not in f.inputs and f.inputs["skipDestroy"] is True for f in fns)
        # Secrets are deleted without a recovery window, so their names are free again at once.
        assert all(s.inputs["recoveryWindowInDays"] == 0 for s in d.all("aws:secretsmanager/secret:Secret"))
        return True

    return deploy(raw(), builds["base"], KEY_1, None, check)


def test_pending_migrations_follow_the_current_tag():
    assert cloudflare.pending_migrations(None) == {"new_tag": "edgeport-v1", "new_sqlite_classes": ["EdgeportRoom"]}
    assert cloudflare.pending_migrations("") == cloudflare.pending_migrations(None)
    assert cloudflare.pending_migrations("edgeport-v1") is None
    with pytest.raises(Exception, match="did not write"):
        cloudflare.pending_migrations("v7-by-hand")


def test_later_steps_are_sent_from_the_current_tag(monkeypatch):
    # A future rename of the class: only the steps after the script's tag, with old_tag set.
    steps = [*cloudflare.MIGRATIONS, ("edgeport-v2", {"renamed_classes": [{"from": "EdgeportRoom", "to": "Room2"}]}),
             ("edgeport-v3", {"new_sqlite_classes": ["Other"]})]
    monkeypatch.setattr(cloudflare, "MIGRATIONS", steps)
    assert cloudflare.pending_migrations("edgeport-v2") == {"old_tag": "edgeport-v2", "new_tag": "edgeport-v3",
                                                            "new_sqlite_classes": ["Other"]}
    assert cloudflare.pending_migrations("edgeport-v1") == {
        "old_tag": "edgeport-v1", "new_tag": "edgeport-v3",
        "steps": [{"renamed_classes": [{"from": "EdgeportRoom", "to": "Room2"}]}, {"new_sqlite_classes": ["Other"]}]}
