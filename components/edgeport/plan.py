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

from . import targets
from .errors import EdgeportError
from .spec.loader import CONFIG_KEY, Stack
from .spec.secret_refs import config_key

# Targets are listed in the registry's order (the one of Targets.names(), the build table and `capabilities`), not
# the order a stack file happens to declare them in: reordering YAML keys must not change a pull-request comment.
TARGET_ORDER = targets.NAMES
TARGET_OF_COMPONENT = {targets.profile(t).COMPONENT_TYPE: t for t in targets.NAMES}


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
    parent_urn: str | None = None  # names need not be unique across types; URNs are
    ignore_changes: list[str] = field(default_factory=list)  # inputs (engine names) whose changes `pulumi up` ignores

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "urn": self.urn, "aliases": self.aliases, "parent": self.parent,
                "parentUrn": self.parent_urn, "target": self.target, "custom": self.custom, "provider": self.provider,
                "inputs": self.inputs, "secretInputs": self.secret_inputs, "ignoreChanges": self.ignore_changes}


@dataclass
class Plan:
    stack: str
    app: str
    resources: list[PlannedResource] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bundles: list[dict[str, Any]] = field(default_factory=list)  # the build manifest's artifacts
    prerequisites: list[Any] = field(default_factory=list)  # edgeport.prereq.Finding, set by the CLI

    def by_target(self) -> dict[str, list[PlannedResource]]:
        """Resources per target, targets in TARGET_ORDER, each list in the plan's (stable) order."""
        out: dict[str, list[PlannedResource]] = {}
        for t in TARGET_ORDER:
            rs = [r for r in self.resources if r.target == t]
            if rs:
                out[t] = rs
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "app": self.app, "seconds": round(self.seconds, 3),
            "counts": {t: len(rs) for t, rs in self.by_target().items()},
            "resources": [r.to_json() for r in self.resources], "bundles": self.bundles, "warnings": self.warnings,
            "leaks": self.leaks, "prerequisites": [f.to_json() for f in self.prerequisites],
        }


# ---------------------------------------------------------------- mocks


def _fabricate(typ: str, name: str, inputs: dict) -> dict:
    """Outputs a real provider would compute, so the program's dependent inputs resolve (each target's plan module)."""
    for t in targets.NAMES:
        make = targets.plan_view(t).FABRICATE.get(typ)
        if make:
            return make(name, inputs)
    return {}


def mock_outputs(typ: str, name: str, inputs: dict) -> tuple[str, dict]:
    """The id and outputs the mocks answer a registration with: its inputs plus the outputs a provider would compute.
    `edgeport plan --against` uses them to tell these stand-ins from real values (edgeport.plan_diff)."""
    state = dict(inputs)
    state.update(_fabricate(typ, name, inputs))
    return f"{name}-id", state


def default_invokes() -> dict[str, Any]:
    """What the providers' data sources answer offline, by invoke token (each target's plan module). Tests replace
    them to play later deploys."""
    return {k: v for t in targets.NAMES for k, v in targets.plan_view(t).INVOKES.items()}


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
            return mock_outputs(args.typ, args.name, args.inputs)

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


# ---------------------------------------------------------------- URNs, aliases, order

PROJECT = "edgeport"  # the project name the mocks run under (Pulumi.yaml `name`)
Key = tuple[str, str]  # (type, name): how a resource is known before the engine gives it a URN


def _wire_name(path: str) -> str:
    """A Python property path ("value_json", "a_b.c_d") in the engine's camelCase ("valueJson", "aB.cD")."""
    return ".".join(p.split("_")[0] + "".join(w[:1].upper() + w[1:] for w in p.split("_")[1:]) for p in path.split("."))


def _given(v: Any) -> Any:
    """An Alias field the caller set. pulumi.Alias defaults every field to the sentinel `...`, meaning "as the
    resource now is" (pulumi/runtime/resource.py, create_alias_spec); the provider SDKs register
    `Alias(type_=<old type>)` that way, so only the type differs."""
    return None if v is ... or v is None else v


@dataclass(frozen=True)
class AliasSpec:
    """One alias, resolved when the resource registers (a transformation sees Resource objects, not URNs)."""

    urn: str | None = None  # a full URN given as the alias
    name: str | None = None
    type: str | None = None
    stack: str | None = None
    project: str | None = None
    parent: tuple = ("same",)  # ("same",) | ("none",) | ("key", Key) | ("urn", str)


def _alias_spec(a: Any) -> AliasSpec | None:
    import pulumi

    if isinstance(a, str):
        return AliasSpec(urn=a)
    if not isinstance(a, pulumi.Alias):
        return None  # an Output[str] URN: not known until the engine resolves it
    if a.parent is ...:
        parent: tuple = ("same",)
    elif a.parent is None:  # pulumi.ROOT_STACK_RESOURCE: the resource had no parent
        parent = ("none",)
    elif isinstance(a.parent, pulumi.Resource):
        parent = ("key", (a.parent._type, a.parent._name))
    elif isinstance(a.parent, str):
        parent = ("urn", a.parent)
    else:
        return None
    plain = [v if isinstance(v, str) else None for v in (_given(a.stack), _given(a.project))]
    return AliasSpec(name=_given(a.name), type=_given(a.type_), stack=plain[0], project=plain[1], parent=parent)


class _Registry:
    """Parents and aliases of every resource, recorded by a stack transformation, and the URNs they give."""

    def __init__(self, stack: str):
        self.stack = stack
        self.parents: dict[Key, Key | None] = {}
        self.aliases: dict[Key, list[AliasSpec]] = {}
        self.ignore_changes: dict[Key, list[str]] = {}

    def record(self, args) -> None:
        import pulumi

        parent = args.opts.parent if args.opts else None
        key = (args.type_, args.name)
        self.parents[key] = (parent._type, parent._name) if isinstance(parent, pulumi.Resource) else None
        specs = [_alias_spec(a) for a in ((args.opts.aliases if args.opts else None) or [])]
        self.aliases[key] = [a for a in specs if a is not None]
        # ResourceOptions.ignore_changes as written (Python names); the engine compares wire names (camelCase)
        self.ignore_changes[key] = [_wire_name(n) for n in ((args.opts.ignore_changes if args.opts else None) or [])]
        return None

    def chain(self, key: Key | None) -> str:
        """The qualified type of a URN: the parents' types, then the resource's, joined by '$'."""
        out: list[str] = []
        while key is not None:
            out.insert(0, key[0])
            key = self.parents.get(key)
        return "$".join(out)

    def urn(self, key: Key) -> str:
        return f"urn:pulumi:{self.stack}::{PROJECT}::{self.chain(key)}::{key[1]}"

    def parent_urn(self, key: Key) -> str | None:
        parent = self.parents.get(key)
        return self.urn(parent) if parent is not None else None

    def alias_urns(self, key: Key) -> list[str]:
        own = self.urn(key)
        urns = [self._alias_urn(a, key) for a in self.aliases.get(key, [])]
        return sorted({u for u in urns if u != own})

    def _alias_urn(self, a: AliasSpec, key: Key) -> str:
        if a.urn:
            return a.urn
        kind = a.parent[0]
        if kind == "same":
            prefix = self.chain(self.parents.get(key))
        elif kind == "key":
            prefix = self.chain(a.parent[1])
        elif kind == "urn":
            prefix = a.parent[1].split("::")[2]
            prefix = "" if prefix == "pulumi:pulumi:Stack" else prefix  # the stack's type is never in a chain
        else:
            prefix = ""
        typ = a.type or key[0]
        chain = f"{prefix}${typ}" if prefix else typ
        return f"urn:pulumi:{a.stack or self.stack}::{a.project or PROJECT}::{chain}::{a.name or key[1]}"


def _planned(registered: list[Any], registry: _Registry, secret_values: list[str]) -> tuple[list[PlannedResource], list[str]]:
    """The recorded registrations as planned resources (secrets masked, targets assigned, stable order), and leaks."""
    from pulumi.runtime import rpc

    out, leaks = [], []
    for a in registered:
        found: list[str] = []
        key = (a.typ, a.name)
        masked = {k: _walk_mask(v, secret_values, f"{a.name}.{k}", False, found) for k, v in a.inputs.items()}
        parent = registry.parents.get(key)
        out.append(PlannedResource(
            type=a.typ, name=a.name, parent=parent[1] if parent else None, urn=registry.urn(key),
            aliases=registry.alias_urns(key), custom=bool(a.custom), provider=(a.provider or None), inputs=masked,
            secret_inputs=sorted(k for k, v in a.inputs.items() if rpc.is_rpc_secret(v)), parent_urn=registry.parent_urn(key),
            ignore_changes=registry.ignore_changes.get(key, [])))
        leaks += [f"{a.typ} {leak}: a secret value in an input not marked secret" for leak in found]
    _assign_targets(out)
    return ordered(out), sorted(leaks)


def _assign_targets(resources: list[PlannedResource]) -> None:
    """Each resource belongs to the target of its nearest target component."""
    by_urn = {r.urn: r for r in resources}
    for r in resources:
        node: PlannedResource | None = r
        while node is not None and node.type not in TARGET_OF_COMPONENT:
            node = by_urn.get(node.parent_urn) if node.parent_urn else None
        r.target = TARGET_OF_COMPONENT[node.type] if node is not None else None


def ordered(resources: list[PlannedResource]) -> list[PlannedResource]:
    """A stable order, whatever order the (asynchronous) registrations arrived in: depth first from the roots,
    parents before their children, siblings by target (TARGET_ORDER) and then URN."""
    children: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in resources}
    for r in resources:
        children.setdefault(r.parent_urn if r.parent_urn in urns else None, []).append(r)

    def key(r: PlannedResource) -> tuple:
        return (TARGET_ORDER.index(r.target) if r.target in TARGET_ORDER else -1, r.urn)

    out: list[PlannedResource] = []
    stack = sorted(children.get(None, []), key=key, reverse=True)
    while stack:
        r = stack.pop()
        out.append(r)
        stack += sorted(children.get(r.urn, []), key=key, reverse=True)
    return out


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
    plan.warnings += stack.secret_warnings()
    config = {f"{CONFIG_KEY}": json.dumps(stack.config[CONFIG_KEY])}
    config.update({config_key(s): v for s, v in values.items()})
    pulumi.runtime.set_all_config(config, secret_keys=[config_key(s) for s in values])
    mocks = recording_mocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack.name, preview=False)
    registry = _Registry(stack.name)
    failure: list[BaseException] = []

    def run():
        pulumi.runtime.register_stack_transformation(registry.record)
        try:
            program(stack.project_dir, stack)
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

    plan.resources, plan.leaks = _planned(mocks.resources, registry, list(values.values()))
    from .build import default_out_dir
    from .build.artifacts import MANIFEST

    manifest = default_out_dir(stack.project_dir, stack.name) / MANIFEST
    if manifest.exists():
        plan.bundles = json.loads(manifest.read_text())["artifacts"]
    plan.seconds = time.perf_counter() - t0
    if plan.leaks:
        raise EdgeportError("secret leak in the planned resources:\n  " + "\n  ".join(plan.leaks))
    return plan
