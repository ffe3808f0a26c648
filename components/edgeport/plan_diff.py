"""`edgeport plan --against STATE.json`: the offline plan compared with a stack's exported state (`pulumi stack
export`), offline: what would be created, changed (which inputs, old -> new), replaced, deleted, and which resources
keep their identity through an alias (a rename).

The comparison works on data only: the plan as `Plan.to_json()` gives it (inputs with secrets masked as "[secret]")
and the export as JSON. No Pulumi import, no credentials, no provider plugins. What it cannot know it says:

- Secret values are never compared (the plan holds placeholders, the export ciphertext). A secret input is reported
  as changed only when its secretness changes, or when an export made with `--show-secrets` shows a different
  structure around the secret values (a binding added, renamed, ...). Both sides print as [secret].
- Replacement is claimed only where the provider's source documents it (REPLACE_ON below, each row cited); a change to
  any other input of a type in that table is an in-place update; a change on a type the table does not know is
  "may replace".
- Values the providers compute (ids, ARNs, versions) are mock stand-ins in the plan. They are swapped for the
  exported outputs of the same resource; where that resource is to be created or replaced, the value is
  "(known after apply)".

The export format (`UntypedDeployment` {"version": 3, "deployment": DeploymentV3}, `ResourceV3` with urn, type, id,
custom, parent, inputs, outputs, provider, protect, retainOnDelete, delete, external, ...):
github.com/pulumi/pulumi sdk/go/common/apitype/core.go. How property values are written into it (secrets as
{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": ...} or "plaintext" with
--show-secrets, assets and archives by their signature, unknowns as "04da6b54-80e4-46f7-96ec-b56ff0331ba9"):
pkg/resource/stack/deployment.go (SerializePropertyValue); the signatures: sdk/go/common/resource/sig/sig.go.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EdgeportError

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
COMPUTED = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # deployment.go computedValuePlaceholder
MASK = "[secret]"  # how edgeport.plan shows a secret value

# ---------------------------------------------------------------- what forces a replacement, by provider source
#
# Type -> the inputs (Pulumi's camelCase names) whose change makes the provider replace the resource. A type listed
# here with an input not in its set updates in place; a type not listed at all "may replace".
#
# Cloudflare (pulumi-cloudflare 6.x bridges terraform-provider-cloudflare 5.x; the plan modifiers
# stringplanmodifier.RequiresReplace() in internal/services/<resource>/schema.go, identical at v5.8.0 and v5.22.0):
#   workers_kv_namespace: account_id · workers_kv: account_id, namespace_id, key_name · workers_route: zone_id ·
#   workers_script: account_id, script_name · dns_record: zone_id, type · workers_custom_domain: account_id
#   (v5.22.0 adds hostname, service, environment, zone_id, zone_name: MAY_REPLACE_ON, the bridged version decides).
# AWS (pulumi-aws bridges terraform-provider-aws; `ForceNew: true` in internal/service/<svc>/<resource>.go):
#   lambda/function.go: function_name (Pulumi: name), package_type, tenancy_config; durable_config only when added
#   or removed (CustomizeDiff ForceNewIfChange) · iam/role.go: name, name_prefix, path · iam/role_policy.go: name,
#   name_prefix, role · secretsmanager/secret.go: name, name_prefix · secretsmanager/secret_version.go: secret_id,
#   secret_string, secret_binary, secret_string_wo_version · ssm/parameter.go: name, data_type; tier only from
#   Advanced to Standard (ForceNewIfChange) · cloudfront/distribution.go: staging (nothing else: UpdateDistribution
#   takes the whole DistributionConfig) · cloudfront/cache_policy.go: none.
# Vercel (pulumiverse-vercel bridges vercel/terraform-provider-vercel; RequiresReplace()/RequiresReplaceIfConfigured()
# in vercel/resource_<name>.go, identical at v4.0.0 and v5.10.0): deployment: every argument but delete_on_destroy ·
#   edge_config: team_id · edge_config_item: edge_config_id, key, value, value_json · edge_config_token: label,
#   edge_config_id, team_id · project: team_id · project_environment_variable: key, project_id, team_id, sensitive,
#   custom_environment_ids · project_domain: project_id, team_id, domain.
REPLACE_ON: dict[str, frozenset[str]] = {
    "cloudflare:index/workersKvNamespace:WorkersKvNamespace": frozenset({"accountId"}),
    "cloudflare:index/workersKv:WorkersKv": frozenset({"accountId", "namespaceId", "keyName"}),
    "cloudflare:index/workersRoute:WorkersRoute": frozenset({"zoneId"}),
    "cloudflare:index/workersScript:WorkersScript": frozenset({"accountId", "scriptName"}),
    "cloudflare:index/dnsRecord:DnsRecord": frozenset({"zoneId", "type"}),
    "cloudflare:index/workersCustomDomain:WorkersCustomDomain": frozenset({"accountId"}),
    "aws:lambda/function:Function": frozenset({"name", "packageType", "tenancyConfig"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset({"secretId", "secretString", "secretBinary",
                                                                 "secretStringWoVersion"}),
    "aws:ssm/parameter:Parameter": frozenset({"name", "dataType"}),
    "aws:cloudfront/distribution:Distribution": frozenset({"staging"}),
    "aws:cloudfront/cachePolicy:CachePolicy": frozenset(),
    "vercel:index/deployment:Deployment": frozenset({"environment", "meta", "teamId", "projectId", "pathPrefix",
                                                     "production", "files", "ref", "projectSettings",
                                                     "customEnvironmentId"}),
    "vercel:index/edgeConfig:EdgeConfig": frozenset({"teamId"}),
    "vercel:index/edgeConfigItem:EdgeConfigItem": frozenset({"edgeConfigId", "key", "value", "valueJson"}),
    "vercel:index/edgeConfigToken:EdgeConfigToken": frozenset({"label", "edgeConfigId", "teamId"}),
    "vercel:index/project:Project": frozenset({"teamId"}),
    "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable": frozenset({"key", "projectId", "teamId",
                                                                                     "sensitive", "customEnvironmentIds"}),
    "vercel:index/projectDomain:ProjectDomain": frozenset({"projectId", "teamId", "domain"}),
    # edgeport's own dynamic provider, the only dynamic resource an edgeport program makes (DistributionAssociations,
    # for an existing distribution): its diff() replaces on distribution_id (edgeport/targets/lambda_edge/associations.py)
    "pulumi-python:dynamic:Resource": frozenset({"distribution_id"}),
}
# Inputs that replace only in some cases (see above), or whose behaviour differs between provider versions.
MAY_REPLACE_ON: dict[str, frozenset[str]] = {
    "cloudflare:index/workersCustomDomain:WorkersCustomDomain": frozenset({"hostname", "service", "environment",
                                                                           "zoneId", "zoneName"}),
    "aws:lambda/function:Function": frozenset({"durableConfig"}),
    "aws:ssm/parameter:Parameter": frozenset({"tier"}),
    "vercel:index/edgeConfigItem:EdgeConfigItem": frozenset({"teamId"}),
}
# Outputs a provider computes anew on an in-place update, and the inputs whose change does not: with `publish`, a
# change to the code or the configuration publishes a new Lambda version (terraform-provider-aws lambda/function.go,
# CustomizeDiff updateComputedAttributesOnPublish: SetNewComputed on version, qualified_arn, qualified_invoke_arn when
# needsFunctionCodeUpdate or needsFunctionConfigUpdate; tags and the destroy-time options are neither).
NEW_ON_UPDATE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "aws:lambda/function:Function": (frozenset({"version", "qualifiedArn", "qualifiedInvokeArn"}),
                                     frozenset({"tags", "skipDestroy", "reservedConcurrentExecutions",
                                                "replaceSecurityGroupsOnDestroy", "replacementSecurityGroupIds"})),
}
WHY_REPLACE = {
    "cloudflare": "RequiresReplace in terraform-provider-cloudflare's schema",
    "aws": "ForceNew in terraform-provider-aws's schema",
    "vercel": "RequiresReplace in terraform-provider-vercel's schema",
    "pulumi-python": "the diff of edgeport's dynamic provider",
}

ACTIONS = ("create", "update", "replace", "may-replace", "delete", "same")


class StateFileError(EdgeportError):
    """STATE.json is not a usable `pulumi stack export`."""

    exit_code = 2


# ---------------------------------------------------------------- values


class _Marker:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


UNKNOWN = _Marker("(known after apply)")
UNSET = _Marker("(unset)")


@dataclass(frozen=True)
class Secret:
    """A secret value of the export: its plaintext (JSON-decoded) only when exported with --show-secrets."""

    plaintext: Any = None
    shown: bool = False


@dataclass(frozen=True)
class Asset:
    hash: str | None = None
    text: str | None = None
    path: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class Archive:
    hash: str | None = None
    assets: tuple = ()  # ((name, Asset | Archive), ...)
    path: str | None = None
    uri: str | None = None


def decode(v: Any) -> Any:
    """An exported property value as Python values, secrets, assets and archives as objects."""
    if isinstance(v, dict):
        sig = v.get(SIG_KEY)
        if sig == SECRET_SIG:
            if "plaintext" in v:
                try:
                    return Secret(decode(json.loads(v["plaintext"])), True)
                except (TypeError, ValueError):
                    return Secret(v["plaintext"], True)
            return Secret()
        if sig == ASSET_SIG:
            return Asset(v.get("hash"), v.get("text"), v.get("path"), v.get("uri"))
        if sig == ARCHIVE_SIG:
            members = v.get("assets") if isinstance(v.get("assets"), dict) else {}
            return Archive(v.get("hash"), tuple(sorted((k, decode(m)) for k, m in members.items())), v.get("path"), v.get("uri"))
        if sig == RESOURCE_REF_SIG:
            return v.get("id") or v.get("urn")
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    if v == COMPUTED:
        return UNKNOWN
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _has_secret(v: Any) -> bool:
    if isinstance(v, Secret):
        return True
    if isinstance(v, dict):
        return any(_has_secret(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_secret(x) for x in v)
    return False


def _mask(v: Any, key: str = "") -> Any:
    """A secret input's plaintext the way edgeport.plan shows secret inputs: structure kept, values masked."""
    from .plan import STRUCTURAL_KEYS

    if isinstance(v, Secret):
        return _mask(v.plaintext, key) if v.shown else MASK
    if isinstance(v, dict):
        return {k: _mask(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_mask(x, key) for x in v]
    if isinstance(v, str) and key not in STRUCTURAL_KEYS:
        return MASK
    return v


def _contains(v: Any, marker: Any) -> bool:
    if v is marker:
        return True
    if isinstance(v, dict):
        return any(_contains(x, marker) for x in v.values())
    if isinstance(v, list):
        return any(_contains(x, marker) for x in v)
    return False


def _file_hash(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _plan_asset(v: Any) -> tuple[str, Any] | None:
    """edgeport.plan describes assets as {"file": path, "bytes": n}, {"text_bytes": n} or {"archive": {...}}."""
    if isinstance(v, dict) and set(v) == {"file", "bytes"}:
        return "file", v
    if isinstance(v, dict) and set(v) == {"text_bytes"}:
        return "text", v
    if isinstance(v, dict) and set(v) == {"archive"} and isinstance(v["archive"], dict):
        return "archive", v
    return None


def _same_asset(old: Asset | Archive, new: Any) -> bool | None:
    """True/False when the contents can be compared (Pulumi compares assets by the SHA-256 of their contents:
    sdk/go/common/resource/asset/asset.go, Equals), None when they cannot."""
    kind = _plan_asset(new)
    if isinstance(old, Archive):
        if kind is None or kind[0] != "archive":
            return False
        members = dict(old.assets)
        ours = new["archive"]
        if set(members) != set(ours):
            return False
        verdicts = [_same_asset(members[k], ours[k]) for k in sorted(ours)]
        return False if False in verdicts else (None if None in verdicts else True)
    if kind is None:
        return False
    if kind[0] == "file":
        h = _file_hash(new["file"])
        if h is None or not old.hash:
            return None
        return h == old.hash
    if kind[0] == "text":
        if old.text is not None:
            return len(old.text.encode()) == new["text_bytes"] or False
        return None
    return False


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # shown as .key in a path; any other key as ["key"]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _diff(old: Any, new: Any, path: str, out: list[tuple[str, Any, Any]], unsure: list[str]) -> None:
    """Leaf differences between an exported (decoded) value and a planned one."""
    if new is UNKNOWN:
        if old is not UNKNOWN:
            out.append((path, old, new))
        return
    if isinstance(old, (Asset, Archive)):
        same = _same_asset(old, new)
        if same is None:
            unsure.append(path or "(value)")
        elif not same:
            out.append((path, old, new))
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            a, b = old.get(k, UNSET), new.get(k, UNSET)
            if (a is UNSET or a is None) and (b is UNSET or b is None):
                continue
            step = (f".{k}" if path else k) if _PLAIN_KEY.match(k) else f"[{json.dumps(k)}]"
            _diff(a, b, f"{path}{step}", out, unsure)
        return
    if isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else UNSET
            b = new[i] if i < len(new) else UNSET
            _diff(a, b, f"{path}[{i}]", out, unsure)
        return
    if not _equal(old, new):
        out.append((path, old, new))


# ---------------------------------------------------------------- the export


@dataclass
class StateResource:
    urn: str
    type: str
    id: str | None
    custom: bool
    parent: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str | None
    protect: bool = False
    retain_on_delete: bool = False
    delete: bool = False
    external: bool = False
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.split("::", 3)[3] if self.urn.count("::") >= 3 else self.urn


@dataclass
class State:
    source: str
    stack: str
    project: str
    resources: list[StateResource]


def _urn_parts(urn: str) -> tuple[str, str, str, str] | None:
    """(stack, project, qualified type, name) of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`."""
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:") or urn.count("::") < 3:
        return None
    stack, project, qtype, name = urn[len("urn:pulumi:"):].split("::", 3)
    return stack, project, qtype, name


def load_state(path: Path | str) -> State:
    """Read a `pulumi stack export` file; a clear StateFileError for anything else."""
    path = Path(path)
    where = str(path)
    try:
        raw = json.loads(path.read_text())
    except OSError as e:
        raise StateFileError(f"{where}: cannot read it ({e.strerror or e})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        detail = f"line {e.lineno} column {e.colno}: {e.msg}" if isinstance(e, json.JSONDecodeError) else str(e)
        raise StateFileError(f"{where}: not JSON ({detail}); make it with `pulumi stack export --stack <stack> "
                             f"--file {path.name}`") from None
    return parse_state(raw, where)


def parse_state(raw: Any, where: str = "STATE.json") -> State:
    hint = "make it with `pulumi stack export --stack <stack> --file STATE.json`"
    if not isinstance(raw, dict) or "deployment" not in raw or "version" not in raw:
        raise StateFileError(f"{where}: not a `pulumi stack export` (no top-level \"version\" and \"deployment\"); {hint}")
    if raw["version"] != 3:
        raise StateFileError(f"{where}: deployment version {raw['version']!r}; edgeport reads version 3, what "
                             f"current Pulumi CLIs export ({hint} with a current CLI)")
    dep = raw["deployment"]
    if not isinstance(dep, dict):
        raise StateFileError(f"{where}: \"deployment\" is not an object; {hint}")
    items = dep.get("resources") or []
    if not isinstance(items, list):
        raise StateFileError(f"{where}: deployment.resources is not a list; {hint}")
    resources: list[StateResource] = []
    stacks: set[tuple[str, str]] = set()
    for i, r in enumerate(items):
        parts = _urn_parts(r.get("urn")) if isinstance(r, dict) else None
        if parts is None or not isinstance(r.get("type"), str):
            raise StateFileError(f"{where}: deployment.resources[{i}] has no valid \"urn\" and \"type\"; {hint}")
        stacks.add(parts[:2])
        resources.append(StateResource(
            urn=r["urn"], type=r["type"], id=r.get("id"), custom=bool(r.get("custom")), parent=r.get("parent"),
            inputs=r.get("inputs") or {}, outputs=r.get("outputs") or {}, provider=r.get("provider"),
            protect=bool(r.get("protect")), retain_on_delete=bool(r.get("retainOnDelete")), delete=bool(r.get("delete")),
            external=bool(r.get("external")), ignore_changes=tuple(r.get("ignoreChanges") or ()),
            replace_on_changes=tuple(r.get("replaceOnChanges") or ())))
    if len(stacks) > 1:
        raise StateFileError(f"{where}: resources of several stacks ({', '.join(sorted(s for s, _ in stacks))}); "
                             "export one stack")
    stack, project = next(iter(stacks)) if stacks else ("", "")
    return State(source=where, stack=stack, project=project, resources=resources)


# ---------------------------------------------------------------- the change set


@dataclass
class InputChange:
    key: str
    old: Any
    new: Any
    paths: list[tuple[str, Any, Any]] = field(default_factory=list)  # leaf differences inside the input
    secret: bool = False
    replaces: bool | None = False  # True: documented replacement; None: not known
    note: str = ""
    masked_paths: bool = False  # the paths' values are already masked (a secret input's structure): shown as they are

    def shown_path(self, v: Any) -> str:
        return show(v, self.secret and not self.masked_paths)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "old": show(self.old, self.secret), "new": show(self.new, self.secret),
                "paths": [{"path": p, "old": self.shown_path(a), "new": self.shown_path(b)} for p, a, b in self.paths],
                "secret": self.secret, "replaces": self.replaces, "note": self.note}


@dataclass
class ResourceChange:
    action: str
    type: str
    name: str
    urn: str
    target: str | None = None
    renamed_from: str | None = None  # the exported URN an alias matched
    changes: list[InputChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "type": self.type, "name": self.name, "urn": self.urn, "target": self.target,
                "renamedFrom": self.renamed_from, "changes": [c.to_json() for c in self.changes], "notes": self.notes}


@dataclass
class ChangeSet:
    stack: str
    app: str
    state_source: str
    state_project: str
    state_resources: int
    resources: list[ResourceChange] = field(default_factory=list)
    unverified_secrets: int = 0  # secret inputs whose values could not be compared

    def count(self, action: str) -> int:
        return sum(1 for r in self.resources if r.action == action)

    @property
    def renamed(self) -> int:
        return sum(1 for r in self.resources if r.renamed_from)

    def summary(self) -> dict[str, int]:
        return {**{a: self.count(a) for a in ACTIONS}, "renamed": self.renamed}

    @property
    def changed(self) -> bool:
        return any(r.action != "same" or r.renamed_from for r in self.resources)

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "app": self.app,
                "state": {"file": self.state_source, "project": self.state_project, "resources": self.state_resources},
                "summary": self.summary(), "changed": self.changed, "unverifiedSecrets": self.unverified_secrets,
                "resources": [r.to_json() for r in self.resources]}


def show(v: Any, secret: bool = False) -> str:
    """A short, printable form of a value (secrets as [secret], long text as its size and hash)."""
    if v is UNKNOWN or v is UNSET:
        return v.text
    if secret or isinstance(v, Secret):
        return MASK
    if isinstance(v, Asset):
        return f"asset sha256:{(v.hash or '?')[:12]}" if v.hash else f"asset {v.path or v.uri or '(text)'}"
    if isinstance(v, Archive):
        return "archive of " + ", ".join(f"{k} ({show(a)})" for k, a in v.assets) if v.assets else "archive"
    kind = _plan_asset(v)
    if kind and kind[0] == "file":
        h = _file_hash(v["file"])
        return f"asset sha256:{h[:12]} ({v['bytes']:,} B)" if h else f"asset {v['file']}"
    if kind and kind[0] == "archive":
        return "archive of " + ", ".join(f"{k} ({show(a)})" for k, a in sorted(v["archive"].items()))
    if isinstance(v, str):
        if len(v) <= 160 and "\n" not in v:
            return json.dumps(v)
        return f"<{len(v.encode()):,} B text sha256:{hashlib.sha256(v.encode()).hexdigest()[:12]}>"
    text = json.dumps(v, sort_keys=True, default=repr)
    return text if len(text) <= 100 else text[:97] + "..."


def _provider_family(typ: str) -> str:
    return typ.split(":", 1)[0]


def _replaces(typ: str, key: str) -> bool | None:
    if typ.startswith("pulumi:providers:"):
        return None  # a provider's own diff decides (a region change replaces what it manages)
    if key in MAY_REPLACE_ON.get(typ, ()):
        return None
    if typ not in REPLACE_ON:
        return None
    return key in REPLACE_ON[typ]


class _Mocks:
    """The mock stand-ins the offline plan put into inputs (each resource's mock id and fabricated outputs), and the
    exported values they stand for."""

    def __init__(self, planned: list[dict]):
        from .plan import mock_outputs

        self.owner: dict[str, tuple[str, str]] = {}  # mock value -> (planned URN, output key)
        for r in planned:
            if not r.get("custom") or r["type"].startswith("pulumi:providers:"):
                continue
            rid, outs = mock_outputs(r["type"], r["name"], r.get("inputs") or {})
            self.owner.setdefault(rid, (r["urn"], "id"))
            for k, v in outs.items():
                if isinstance(v, str) and len(v) >= 8 and (r.get("inputs") or {}).get(k) != v:
                    self.owner.setdefault(v, (r["urn"], k))

    def table(self, matched: dict[str, StateResource], actions: dict[str, str], types: dict[str, str],
              changed: dict[str, set[str]]) -> tuple[dict[str, str], set[str]]:
        """(mock value -> exported value, mock values that stay unknown). ARNs also pair up by their ':'-separated
        parts, so a value the program derives from one (another Region's ARN of a replicated secret, the account id)
        follows too."""
        known: dict[str, str] = {}
        unknown: set[str] = set()
        for mock, (urn, key) in self.owner.items():
            s, action = matched.get(urn), actions.get(urn, "create")
            real: Any = None
            renewed, quiet = NEW_ON_UPDATE.get(types[urn], (frozenset(), frozenset()))
            if s is not None and action not in ("create", "replace") and not (
                    action in ("update", "may-replace") and key in renewed and changed.get(urn, set()) - quiet):
                real = s.id if key == "id" else decode(s.outputs.get(key))
            if not isinstance(real, str):
                unknown.add(mock)
                tail = mock.rsplit(":", 1)[-1]
                if tail != mock and len(tail) >= 8:
                    unknown.add(tail)
                continue
            known.setdefault(mock, real)
            ours, theirs = mock.split(":"), real.split(":")
            if len(ours) > 1 and len(ours) == len(theirs):
                for a, b in zip(ours, theirs):
                    if a != b and len(a) >= 8:
                        known.setdefault(a, b)
        return known, unknown - set(known)


def _substitute(v: Any, known: dict[str, str], unknown: set[str], order: list[str]) -> Any:
    if isinstance(v, dict):
        return {k: _substitute(x, known, unknown, order) for k, x in v.items()}
    if isinstance(v, list):
        return [_substitute(x, known, unknown, order) for x in v]
    if not isinstance(v, str) or v == MASK:
        return v
    if v in known:
        return known[v]
    if v in unknown:
        return UNKNOWN
    for m in order:  # longest first: a whole ARN before the parts it pairs up
        if m in v:
            v = v.replace(m, known[m])
    if any(u in v for u in unknown if len(u) >= 8):
        return UNKNOWN
    return v


def _retarget(urn: str, plan_stack: str, state: State) -> str:
    """A planned URN in the export's terms: the plan runs as project "edgeport" (edgeport.plan.PROJECT) under the
    stack's name; the export names the project as its Pulumi.yaml does."""
    from .plan import PROJECT

    parts = _urn_parts(urn)
    if parts is None:
        return urn
    stack, project, qtype, name = parts
    stack = state.stack if stack == plan_stack and state.stack else stack
    project = state.project if project == PROJECT and state.project else project
    return f"urn:pulumi:{stack}::{project}::{qtype}::{name}"


def _skip_in_state(s: StateResource) -> bool:
    """Resources the plan never shows: the stack itself, default providers, read-only (`get`) resources."""
    if s.type == "pulumi:pulumi:Stack" or s.external:
        return True
    return s.type.startswith("pulumi:providers:") and s.name.startswith("default")


def _ignored(path: str, ignored: set[str]) -> bool:
    return any(path == i or path.startswith((f"{i}.", f"{i}[")) for i in ignored)


def _input_changes(r: dict, s: StateResource, subst: tuple) -> tuple[list[InputChange], int, list[str], list[str]]:
    """(changed inputs, secret inputs not comparable, asset paths whose contents could not be compared, inputs that
    differ but whose changes the program ignores)"""
    typ = r["type"]
    planned = r.get("inputs") or {}
    secret_keys = set(r.get("secretInputs") or [])
    old_inputs = {k: decode(v) for k, v in s.inputs.items()}
    defaults = set(old_inputs.get("__defaults") or []) if isinstance(old_inputs.get("__defaults"), list) else set()
    # ignoreChanges: the engine keeps the old value of these inputs (Pulumi's resource option; the export records it
    # too, ResourceV3.IgnoreChanges): a live setting written outside Pulumi, say
    ignored = set(r.get("ignoreChanges") or []) | set(s.ignore_changes)
    changes: list[InputChange] = []
    unverified = 0
    uncompared: list[str] = []
    kept: list[str] = []
    for key in sorted(set(planned) | set(old_inputs)):
        if key.startswith("__"):
            continue  # the bridge's bookkeeping (__defaults, __meta) and dynamic providers' serialized code
        if key not in planned and (key in defaults or (typ.startswith("pulumi:providers:") and key == "version")):
            continue  # filled in by the provider (defaults, autonames) or the engine (the plugin version)
        old = old_inputs.get(key, UNSET)
        new = _substitute(planned[key], *subst) if key in planned else UNSET
        if old is None and new is UNSET:
            continue
        was_secret, is_secret = _has_secret(old), key in secret_keys
        if (was_secret or is_secret) and key in ignored:
            continue  # neither compared nor changed
        if was_secret or is_secret:
            change = _secret_change(key, old, new, was_secret, is_secret)
            if change is None:
                unverified += 1
                continue
        else:
            paths: list[tuple[str, Any, Any]] = []
            unsure: list[str] = []
            _diff(old, new, "", paths, unsure)
            uncompared += [f"{key}{'' if u.startswith('[') else '.'}{u}" if u != "(value)" else key for u in unsure]
            if not paths:
                continue
            whole = [p for p in paths if p[0] == ""]
            full = [(f"{key}{'' if p.startswith('[') else '.'}{p}" if p else key, a, b) for p, a, b in paths]
            shown = [p for p in full if not _ignored(p[0], ignored)]
            if len(shown) < len(full):
                kept.append(key)
            if not shown:
                continue
            change = InputChange(key, old, new, [] if whole else shown)
        change.replaces = _replaces(typ, key)
        if key in s.replace_on_changes or "*" in s.replace_on_changes:
            change.replaces = True
            change.note = (change.note + "; " if change.note else "") + "forces replacement: its replaceOnChanges option"
        elif change.replaces:
            change.note = (change.note + "; " if change.note else "") + \
                f"forces replacement: {WHY_REPLACE.get(_provider_family(typ), 'the provider schema')}"
        changes.append(change)
    return changes, unverified, uncompared, kept


def _secret_change(key: str, old: Any, new: Any, was_secret: bool, is_secret: bool) -> InputChange | None:
    """A change to an input that is secret on either side, without ever showing a value; None: not comparable."""
    if new is UNSET:
        return InputChange(key, old, new, secret=True, note="removed")
    if old is UNSET:
        return InputChange(key, old, new, secret=True, note="added")
    if was_secret != is_secret:
        return InputChange(key, old, new, secret=True, note="now secret" if is_secret else "no longer secret")
    shown = isinstance(old, Secret) and old.shown
    if not shown:
        if _contains(new, UNKNOWN):
            return InputChange(key, old, new, secret=True, note="depends on a value known after apply")
        return None
    paths: list[tuple[str, Any, Any]] = []
    _diff(_mask(old), new, "", paths, [])
    if not paths:
        return None
    # The structure around the secret values (which keys, which list entries, structural names) is not secret.
    return InputChange(key, old, new, [(f"{key}{'' if p.startswith('[') else '.'}{p}" if p else key, a, b) for p, a, b in paths],
                       secret=True, note="structure changed (values not compared)", masked_paths=True)


def expect_stack(state: State, stack: str) -> None:
    """An export of another stack would show everything as replaced: refuse it. URNs carry the stack's short name,
    whatever organization or project the full stack name has."""
    if state.stack and state.stack != stack:
        raise StateFileError(f"{state.source} is an export of stack {state.stack!r} (project {state.project!r}), "
                             f"not {stack!r}: export the stack you plan (`pulumi stack export --stack {stack}`)")


def compare(plan: dict[str, Any], state: State) -> ChangeSet:
    """The change set from the exported state to the plan (`Plan.to_json()`)."""
    expect_stack(state, plan["stack"])
    planned = [dict(r, urn=_retarget(r["urn"], plan["stack"], state),
                    aliases=[_retarget(a, plan["stack"], state) for a in r.get("aliases") or []]) for r in plan["resources"]]
    by_urn = {s.urn: s for s in state.resources if not s.delete}
    matched: dict[str, StateResource] = {}
    renamed: dict[str, str] = {}
    claimed: set[str] = set()
    for r in planned:
        if r["urn"] in by_urn:
            matched[r["urn"]] = by_urn[r["urn"]]
            claimed.add(r["urn"])
    for r in planned:  # aliases only for what its own URN did not find, and only unclaimed old URNs
        if r["urn"] in matched:
            continue
        for a in r["aliases"]:
            if a in by_urn and a not in claimed:
                matched[r["urn"]], renamed[r["urn"]] = by_urn[a], a
                claimed.add(a)
                break
    types = {r["urn"]: r["type"] for r in planned}
    mocks = _Mocks(planned)
    actions = {r["urn"]: ("same" if r["urn"] in matched else "create") for r in planned}
    results: dict[str, ResourceChange] = {}
    changed_keys: dict[str, set[str]] = {}
    unverified = 0
    for _ in range(len(planned) + 1):  # unknowns only ever add changes: this settles
        known, unknown = mocks.table(matched, actions, types, changed_keys)
        subst = (known, unknown, sorted((m for m in known if len(m) >= 8), key=len, reverse=True))
        unverified = 0
        new_actions = dict(actions)
        for r in planned:
            urn = r["urn"]
            rc = ResourceChange(action=actions[urn], type=r["type"], name=r["name"], urn=urn, target=r.get("target"),
                                renamed_from=renamed.get(urn))
            s = matched.get(urn)
            if s is None:
                rc.action = "create"
            elif r.get("custom"):
                if s.type != r["type"]:
                    rc.notes.append(f"type changes from {s.type} (alias)")
                rc.changes, n, uncompared, kept = _input_changes(r, s, subst)
                unverified += n
                if kept:
                    rc.notes.append(f"{', '.join(kept)} differs from the export, and stays: the program ignores its "
                                    "changes (ignoreChanges; a live setting such as `edgeport experiment set` wrote)")
                if uncompared:
                    rc.notes.append(f"contents of {', '.join(uncompared)} not compared (no hash in the export, or the "
                                    "planned file is missing)")
                rc.action = _action(rc.changes)
                if rc.action in ("replace", "may-replace") and (s.inputs.get("skipDestroy") is True or s.retain_on_delete):
                    rc.notes.append("the old one is retained (skipDestroy/retainOnDelete): `edgeport teardown-check` "
                                    "deletes retained Lambda@Edge functions once replicas are gone")
                if rc.action in ("replace", "may-replace") and s.protect:
                    rc.notes.append("protected: `pulumi up` refuses to replace it until `pulumi state unprotect`")
            else:
                rc.action = "same"  # components have no provider diff
            new_actions[urn] = rc.action
            results[urn] = rc
        new_changed = {u: {c.key for c in rc.changes} for u, rc in results.items()}
        if new_actions == actions and new_changed == changed_keys:
            break
        actions, changed_keys = new_actions, new_changed
    out = ChangeSet(stack=plan["stack"], app=plan.get("app", ""), state_source=state.source,
                    state_project=state.project, state_resources=len(state.resources), unverified_secrets=unverified)
    out.resources = [results[r["urn"]] for r in planned]
    # A provider reference is "<provider URN>::<id>"; under mocks its URN names only the nearest parent type, so
    # providers are found by type and name.
    provider_changes = {(r["type"], r["name"]) for r in planned
                        if r["type"].startswith("pulumi:providers:") and results[r["urn"]].action != "same"}
    for r in planned:
        ref = _urn_parts((r.get("provider") or "").rsplit("::", 1)[0])
        if ref and (ref[2].rsplit("$", 1)[-1], ref[3]) in provider_changes:
            results[r["urn"]].notes.append("its provider's configuration changes: the provider decides whether that "
                                           "replaces it")
    for s in sorted((s for s in state.resources if (s.delete or s.urn not in claimed) and not _skip_in_state(s)),
                    key=lambda s: s.urn):
        rc = ResourceChange(action="delete", type=s.type, name=s.name, urn=s.urn)
        if s.delete:
            rc.notes.append("left from an earlier replacement (pending deletion)")
        if s.protect:
            rc.notes.append("protected: `pulumi up` refuses to delete it until `pulumi state unprotect`")
        if s.retain_on_delete or decode(s.inputs.get("skipDestroy")) is True:
            rc.notes.append("retained: removed from the stack, left in the cloud (skipDestroy/retainOnDelete)")
        out.resources.append(rc)
    return out


def _action(changes: list[InputChange]) -> str:
    if not changes:
        return "same"
    if any(c.replaces for c in changes):
        return "replace"
    if any(c.replaces is None for c in changes):
        return "may-replace"
    return "update"


# ---------------------------------------------------------------- rendering

SYMBOL = {"create": "+", "update": "~", "replace": "+-", "may-replace": "?", "delete": "-", "same": "="}
LABEL = {"create": "create", "update": "update", "replace": "replace", "may-replace": "may replace", "delete": "delete",
         "same": "rename"}


def _headline(cs: ChangeSet) -> str:
    s = cs.summary()
    parts = [f"{s['create']} to create", f"{s['update']} to update", f"{s['replace']} to replace",
             f"{s['may-replace']} may be replaced", f"{s['delete']} to delete", f"{s['renamed']} renamed (alias)",
             f"{sum(1 for r in cs.resources if r.action == 'same' and not r.renamed_from)} unchanged"]
    return ", ".join(parts)


def _shown(cs: ChangeSet) -> list[ResourceChange]:
    return [r for r in cs.resources if r.action != "same" or r.renamed_from]


def _change_line(c: InputChange) -> list[str]:
    note = f"  ({c.note})" if c.note else ""
    if c.replaces is None and not c.note:
        note = "  (replacement behaviour not documented: may replace)"
    if c.paths:
        lines = [f"{c.key}: {note.strip()}".rstrip()]
        lines += [f"  {p}: {c.shown_path(a)} -> {c.shown_path(b)}" for p, a, b in c.paths[:8]]
        if len(c.paths) > 8:
            lines.append(f"  ... {len(c.paths) - 8} more")
        return lines
    return [f"{c.key}: {show(c.old, c.secret)} -> {show(c.new, c.secret)}{note}"]


def render_text(cs: ChangeSet) -> str:
    lines = [f"Plan for stack {cs.stack} against {cs.state_source} ({cs.state_resources} resources exported, project "
             f"{cs.state_project or '?'}):", "  " + _headline(cs), ""]
    shown = _shown(cs)
    if not shown:
        lines.append("No changes: the plan matches the exported state.")
    for r in shown:
        lines.append(f"{SYMBOL[r.action]:<2} {LABEL[r.action]:<12} {r.type}  {r.name}")
        if r.renamed_from:
            lines.append(f"      renamed from {r.renamed_from} (alias: no replacement)")
        for c in r.changes:
            lines += [f"      {x}" for x in _change_line(c)]
        lines += [f"      note: {n}" for n in r.notes]
    if cs.unverified_secrets:
        lines += ["", f"{cs.unverified_secrets} secret input(s) not compared: the export holds them encrypted and the "
                      "plan holds placeholders (rotate secrets knowingly; `pulumi preview --diff` shows them)"]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text for a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """A markdown code span of any text."""
    text = text.replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _short_type(typ: str) -> str:
    return typ.rsplit(":", 1)[-1]


def _md_change(c: InputChange) -> list[str]:
    note = c.note or ("replacement behaviour not documented: may replace" if c.replaces is None else "")
    note = f" ({note})" if note else ""
    if not c.paths:
        return [f"- {_code(c.key)}: {_code(show(c.old, c.secret))} → {_code(show(c.new, c.secret))}{note}"]
    out = [f"- {_code(c.key)}{note}"]
    out += [f"  - {_code(p)}: {_code(c.shown_path(a))} → {_code(c.shown_path(b))}" for p, a, b in c.paths[:8]]
    if len(c.paths) > 8:
        out.append(f"  - ... {len(c.paths) - 8} more")
    return out


def render_markdown(cs: ChangeSet, warnings: list[str] | None = None) -> str:
    """A pull-request comment: the change summary first, then the changed resources, then each change's inputs. The
    same plan and export give the same bytes (no timing), so an unchanged comment is not rewritten."""
    s = cs.summary()
    unchanged = sum(1 for r in cs.resources if r.action == "same" and not r.renamed_from)
    lines = [f"### edgeport plan: stack `{cs.stack}`, app `{cs.app}` against the deployed state", "",
             "| create | update | replace | may replace | delete | renamed | unchanged |",
             "|---:|---:|---:|---:|---:|---:|---:|",
             f"| {s['create']} | {s['update']} | {'**' + str(s['replace']) + '**' if s['replace'] else 0} | "
             f"{s['may-replace']} | {s['delete']} | {s['renamed']} | {unchanged} |", ""]
    shown = _shown(cs)
    if not shown:
        lines += ["No changes: the plan matches the exported state.", ""]
    else:
        lines += ["| | resource | type | inputs |", "|---|---|---|---|"]
        for r in shown:
            label = LABEL[r.action]
            if r.action in ("replace", "delete"):
                label = f"**{label}**"
            if r.renamed_from and r.action != "same":
                label += " + rename"
            keys = ", ".join(f"`{c.key}`" + (" (forces replacement)" if c.replaces else "") for c in r.changes)
            lines.append(f"| {label} | `{_md(r.name)}` | `{_short_type(r.type)}` | {keys or '-'} |")
        lines.append("")
        detailed = [r for r in shown if r.changes or r.notes or r.renamed_from]
        if detailed:
            lines += [f"<details><summary>Details ({len(detailed)})</summary>", ""]
            for r in detailed:
                lines.append(f"**{LABEL[r.action]}** {_code(r.name)} ({_code(r.type)})")
                if r.renamed_from:
                    lines.append(f"- renamed from {_code(r.renamed_from)} (alias: no replacement)")
                for c in r.changes:
                    lines += _md_change(c)
                lines += [f"- note: {n}" for n in r.notes]
                lines.append("")
            lines += ["</details>", ""]
    if cs.unverified_secrets:
        lines.append(f"> {cs.unverified_secrets} secret input(s) not compared (encrypted in the export, placeholders in "
                     "the plan).")
        lines.append("")
    for w in warnings or []:
        lines.append(f"> **warning:** {w}")
    if warnings:
        lines.append("")
    lines.append("<sub>offline: the Pulumi program under mocks compared with `pulumi stack export`; secret values are "
                 "never shown or compared; replacement only where the provider documents it</sub>")
    return "\n".join(lines) + "\n"
