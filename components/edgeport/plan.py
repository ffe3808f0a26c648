"""`edgeport plan`: run the Pulumi program offline under Pulumi's unit-test mocks and
report the resources it would create, per target. No credentials, no CLI, no state.

Secret values are placeholders marked secret; any input that carries a placeholder
without being marked secret is reported as a leak (and fails the plan).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EdgeportError
from .spec.loader import CONFIG_KEY, Stack
from .spec.secret_refs import config_key

TARGET_OF_COMPONENT = {
    "edgeport:cloudflare:Worker": "cloudflare",
    "edgeport:aws:LambdaEdge": "lambda-edge",
    "edgeport:vercel:Middleware": "vercel",
}
FAKE_ACCOUNT = "123456789012"


def placeholder(name: str) -> str:
    """A stand-in secret value: valid UTF-8 and base64url, long enough for every HMAC algorithm."""
    core = f"PLANxPLACEHOLDERx{name.replace('_', 'x')}x"
    core += "A" * (100 - len(core))
    return core[: len(core) - len(core) % 4]


@dataclass
class PlannedResource:
    type: str
    name: str
    parent: str | None  # parent resource name
    urn: str
    aliases: list[str]  # URNs this resource was known by (a rename moves it instead of replacing it)
    custom: bool
    provider: str | None
    inputs: dict[str, Any]  # secrets masked as "[secret]"
    secret_inputs: list[str]  # top-level inputs that are marked secret
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "urn": self.urn, "aliases": self.aliases, "parent": self.parent,
                "target": self.target, "custom": self.custom, "provider": self.provider, "inputs": self.inputs,
                "secretInputs": self.secret_inputs}


@dataclass
class Plan:
    stack: str
    app: str
    resources: list[PlannedResource] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bundles: list[dict[str, Any]] = field(default_factory=list)  # the build manifest's artifacts

    def by_target(self) -> dict[str, list[PlannedResource]]:
        out: dict[str, list[PlannedResource]] = {}
        for r in self.resources:
            if r.target:
                out.setdefault(r.target, []).append(r)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "app": self.app, "seconds": round(self.seconds, 3),
            "counts": {t: len(rs) for t, rs in self.by_target().items()},
            "resources": [r.to_json() for r in self.resources], "bundles": self.bundles, "warnings": self.warnings,
            "leaks": self.leaks,
        }


# ---------------------------------------------------------------- mocks


def _fabricate(typ: str, name: str, inputs: dict) -> dict:
    """Outputs a real provider would compute, so the program's dependent inputs resolve."""
    out: dict[str, Any] = {}
    if typ == "aws:lambda/function:Function":
        # Auto-named by the provider: "<logical name>-<7 random hex>"; a fixed suffix keeps plans comparable.
        physical = inputs.get("name") or f"{name}-0a1b2c3"
        arn = f"arn:aws:lambda:us-east-1:{FAKE_ACCOUNT}:function:{physical}"
        out.update(name=physical, arn=arn, version="1", qualifiedArn=f"{arn}:1")
    elif typ == "aws:secretsmanager/secret:Secret":
        out["arn"] = f"arn:aws:secretsmanager:us-east-1:{FAKE_ACCOUNT}:secret:{inputs.get('name', name)}-AbCdEf"
    elif typ == "aws:iam/role:Role":
        out["arn"] = f"arn:aws:iam::{FAKE_ACCOUNT}:role/{name}"
    elif typ == "aws:cloudfront/distribution:Distribution":
        out["domainName"] = "d111111abcdef8.cloudfront.net"
    elif typ == "vercel:index/deployment:Deployment":
        out["url"] = f"{name}.vercel.app"
    elif typ == "vercel:index/edgeConfig:EdgeConfig":
        out["id"] = "ecfg_plan000000000000000000000"
    elif typ == "vercel:index/edgeConfigToken:EdgeConfigToken":
        # additional_secret_outputs are applied by the engine, so mocks mark them here
        from pulumi.runtime import rpc

        out["token"] = rpc.wrap_rpc_secret(f"{name}-token")
        out["connectionString"] = rpc.wrap_rpc_secret(f"https://edge-config.vercel.com/ecfg_plan?token={name}-token")
    elif typ == "aws:ssm/parameter:Parameter":
        out["arn"] = f"arn:aws:ssm:us-east-1:{FAKE_ACCOUNT}:parameter{inputs.get('name', '')}"
    elif typ == "cloudflare:index/workersKvNamespace:WorkersKvNamespace":
        out["id"] = "0123456789abcdef0123456789abcdef"
    elif typ == "pulumi-python:dynamic:Resource":
        out["domainName"] = "d111111abcdef8.cloudfront.net"
    return out


# What the providers' data sources answer offline, by invoke token: managed CloudFront cache policies by name
# (the id AWS assigns to UseOriginCacheControlHeaders-QueryStrings), and an account without Workers scripts
# (a first deploy: no Durable Object migration tag yet). Tests replace these to play later deploys.
MANAGED_CACHE_POLICIES = {"UseOriginCacheControlHeaders-QueryStrings": "4cc15a8a-d715-48a4-82b8-cc0b614638fe"}


def default_invokes() -> dict[str, Any]:
    return {
        "aws:cloudfront/getCachePolicy:getCachePolicy":
            lambda args: {"id": MANAGED_CACHE_POLICIES.get(args.get("name"), f"managed-{args.get('name')}"), **args},
        "cloudflare:index/getWorkersScripts:getWorkersScripts": lambda args: {"results": [], **args},
    }


def recording_mocks(invokes: dict[str, Any] | None = None):
    """Pulumi mocks that record every resource and answer with its inputs plus fabricated outputs, and answer
    data sources (invokes) from `invokes` (token -> function of the invoke's args). The offline plan and the
    unit tests use the same ones."""
    import pulumi

    class RecordingMocks(pulumi.runtime.Mocks):
        def __init__(self):
            self.resources: list[Any] = []
            self.calls: list[Any] = []
            self.invokes = {**default_invokes(), **(invokes or {})}

        def new_resource(self, args):
            self.resources.append(args)
            state = dict(args.inputs)
            state.update(_fabricate(args.typ, args.name, args.inputs))
            return f"{args.name}-id", state

        def call(self, args):
            self.calls.append(args)
            answer = self.invokes.get(args.token)
            return answer(dict(args.args)) if answer else {}

    return RecordingMocks()


# ---------------------------------------------------------------- secrets


# Inside a secret-marked input (one secret element makes the whole input secret), these keys
# hold structure, not secret values, and stay readable in the plan.
STRUCTURAL_KEYS = frozenset({"name", "type", "className", "namespaceId", "json", "scriptName", "key"})


def _walk_mask(value: Any, secrets: list[str], path: str, inside_secret: bool, leaks: list[str], key: str = "") -> Any:
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        return _walk_mask(rpc.unwrap_rpc_secret(value), secrets, path, True, leaks, key)
    if isinstance(value, dict):
        return {k: _walk_mask(v, secrets, f"{path}.{k}", inside_secret, leaks, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk_mask(v, secrets, f"{path}[{i}]", inside_secret, leaks, key) for i, v in enumerate(value)]
    if isinstance(value, str) and any(s in value for s in secrets):
        if not inside_secret:
            leaks.append(path)
        return "[secret]"
    if isinstance(value, str) and inside_secret and key not in STRUCTURAL_KEYS:
        return "[secret]"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format carries every number as a double
    if _is_asset(value):
        return _describe_asset(value)
    return value


def _is_asset(v: Any) -> bool:
    import pulumi

    return isinstance(v, (pulumi.Asset, pulumi.Archive))


def _describe_asset(v: Any) -> Any:
    import pulumi

    if isinstance(v, pulumi.AssetArchive):
        return {"archive": {k: _describe_asset(a) for k, a in v.assets.items()}}
    if isinstance(v, pulumi.FileAsset):
        p = Path(v.path)
        return {"file": str(p), "bytes": p.stat().st_size if p.exists() else None}
    if isinstance(v, pulumi.StringAsset):
        return {"text_bytes": len(v.text.encode())}
    return str(v)


# ---------------------------------------------------------------- run


def run_plan(stack: Stack) -> Plan:
    """Run the stack's Pulumi program under mocks. Raises EdgeportError on program errors."""
    import pulumi
    from pulumi.runtime.mocks import _sync_await  # private: pinned pulumi range, covered by tests
    from pulumi.runtime.stack import run_pulumi_func

    from .program import program

    t0 = time.perf_counter()
    app = stack.app
    values = {s: placeholder(s) for s in app.secret_names()}
    plan = Plan(stack=stack.name, app=app.name)
    for s in app.secret_names():
        if not stack.secret_configured(s):
            plan.warnings.append(
                f"secret {s} has no value in stacks/Pulumi.{stack.name}.yaml; `pulumi up` will stop until you run "
                f"`pulumi config set --secret {s} <value> -s {stack.name}`")
    config = {f"{CONFIG_KEY}": json.dumps(stack.config[CONFIG_KEY])}
    config.update({config_key(s): v for s, v in values.items()})
    pulumi.runtime.set_all_config(config, secret_keys=[config_key(s) for s in values])
    mocks = recording_mocks()
    pulumi.runtime.set_mocks(mocks, project="edgeport", stack=stack.name, preview=False)

    parents: dict[tuple[str, str], tuple[str, str] | None] = {}
    alias_names: dict[tuple[str, str], list[str]] = {}

    def record_parent(args):
        parent = args.opts.parent if args.opts else None
        parents[(args.type_, args.name)] = (parent._type, parent._name) if parent is not None else None
        alias_names[(args.type_, args.name)] = [a.name for a in (args.opts.aliases or []) if isinstance(a, pulumi.Alias) and a.name]
        return None

    def type_chain(key: tuple[str, str]) -> str:
        chain = [key[0]]
        p = parents.get(key)
        while p is not None:
            chain.insert(0, p[0])
            p = parents.get(p)
        return "$".join(chain)

    def urn(typ: str, name: str) -> str:
        return f"urn:pulumi:{stack.name}::edgeport::{type_chain((typ, name))}::{name}"

    failure: list[BaseException] = []

    def run():
        pulumi.runtime.register_stack_transformation(record_parent)
        try:
            program(stack.project_dir)
        except BaseException as e:  # surfaced below with its own message
            failure.append(e)

    try:
        _sync_await(run_pulumi_func(run))
    except EdgeportError:
        raise
    except Exception as e:
        raise EdgeportError(f"the Pulumi program failed under mocks: {e}") from e
    if failure:
        e = failure[0]
        if isinstance(e, EdgeportError):
            raise e
        raise EdgeportError(f"the Pulumi program failed under mocks: {type(e).__name__}: {e}") from e

    secret_values = list(values.values())
    by_name = {}
    for a in mocks.resources:
        leaks: list[str] = []
        masked = {k: _walk_mask(v, secret_values, f"{a.name}.{k}", False, leaks) for k, v in a.inputs.items()}
        from pulumi.runtime import rpc

        secret_inputs = sorted(k for k, v in a.inputs.items() if rpc.is_rpc_secret(v))
        parent = parents.get((a.typ, a.name))
        r = PlannedResource(type=a.typ, name=a.name, parent=parent[1] if parent else None, urn=urn(a.typ, a.name),
                            aliases=[urn(a.typ, a.name).rsplit("::", 1)[0] + f"::{old}" for old in alias_names.get((a.typ, a.name), [])],
                            custom=bool(a.custom), provider=(a.provider or None), inputs=masked, secret_inputs=secret_inputs)
        plan.resources.append(r)
        by_name[a.name] = r
        plan.leaks += [f"{a.typ} {leak}: a secret value in an input not marked secret" for leak in leaks]
    # Assign each resource to the target of its nearest target component.
    for r in plan.resources:
        node: PlannedResource | None = r
        while node is not None and node.type not in TARGET_OF_COMPONENT:
            node = by_name.get(node.parent) if node.parent else None
        r.target = TARGET_OF_COMPONENT[node.type] if node is not None else None
    from .build import default_out_dir
    from .build.artifacts import MANIFEST

    manifest = default_out_dir(stack.project_dir, stack.name) / MANIFEST
    if manifest.exists():
        plan.bundles = json.loads(manifest.read_text())["artifacts"]
    plan.seconds = time.perf_counter() - t0
    if plan.leaks:
        raise EdgeportError("secret leak in the planned resources:\n  " + "\n  ".join(plan.leaks))
    return plan
