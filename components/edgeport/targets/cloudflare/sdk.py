"""The part of pulumi-cloudflare's Python SDK edgeport uses, without importing the SDK.

`import pulumi_cloudflare` costs 1.2-2.3 s: its package __init__ imports every one of its ~780 resource modules and
its 72,000-line _inputs.py. edgeport makes six kinds of Cloudflare resources and calls one data source, so it
registers them here as plain `pulumi.CustomResource`s with the provider's own type tokens, wire (camelCase) input
names, aliases and resource options (the provider version): the engine and the provider plugin receive exactly what
the generated classes send. tests/test_cloudflare_sdk.py runs the Cloudflare component once with these classes and
once with pulumi_cloudflare's and requires identical requests to the resource monitor (types, names, inputs,
options, aliases, versions, source positions), so a provider upgrade that renames anything fails there.

Each class has the generated class's constructor for the inputs edgeport passes (keyword arguments, Python names);
an input not listed is refused rather than sent under a guessed name. Names are translated the way the SDK did before
its typed input classes (pulumi.Resource.translate_input_property / translate_output_property), from tables read off
the generated getters (`@pulumi.getter(name="accountId") def account_id`), nested objects included.
Source of every token and name: the installed pulumi_cloudflare (6.x), file and class given on each class below.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Mapping

import pulumi

PACKAGE = "pulumi_cloudflare"  # the distribution whose provider plugin the engine runs


@cache
def provider_version() -> str:
    """The version the generated classes put in every ResourceOptions/InvokeOptions (so the engine loads the plugin
    matching the installed SDK): the installed distribution's version as semver. pulumi_cloudflare/_utilities.py
    (_get_semver_version) maps a PEP 440 version to semver: a1 -> -alpha.1, b1 -> -beta.1, rc1 -> -rc.1,
    .dev1 -> -dev.1, +local -> -local."""
    try:
        v = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ImportError(f"{PACKAGE} is not installed: `pulumi up` needs its provider plugin version "
                          "(pip install -r requirements.lock)") from None
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?(?:\.dev(\d+))?(?:\+(.+))?", v)
    if not m:
        raise ValueError(f"cannot read {PACKAGE} version {v!r} as major.minor.patch")
    major, minor, patch, pre, pre_n, dev, local = m.groups()
    tag = ({"a": "alpha", "b": "beta", "rc": "rc"}[pre] + f".{pre_n}" if pre else f"dev.{dev}" if dev else local)
    return f"{major}.{minor}.{patch}" + (f"-{tag}" if tag else "")


def _defaults() -> pulumi.ResourceOptions:
    # pulumi_cloudflare/_utilities.py get_resource_opts_defaults / get_invoke_opts_defaults: the version and a
    # plugin download URL, which this provider leaves None (get_plugin_download_url).
    return pulumi.ResourceOptions(version=provider_version(), plugin_download_url=None)


class _CloudflareResource(pulumi.CustomResource):
    TOKEN: ClassVar[str]  # the type token the generated class registers with
    INPUTS: ClassVar[Mapping[str, str]]  # Python name -> wire name, in the generated class's order
    REQUIRED: ClassVar[tuple[str, ...]] = ()  # the generated class raises TypeError without these
    OUTPUTS: ClassVar[Mapping[str, str]] = {}  # computed-only outputs: Python name -> wire name
    NESTED: ClassVar[Mapping[str, str]] = {}  # keys inside object inputs: Python name -> wire name
    ALIASES: ClassVar[tuple[str, ...]] = ()  # earlier type tokens the generated class aliases

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any):
        # The generated classes' _internal_init, for new resources (edgeport never reads existing ones by id).
        unknown = sorted(set(inputs) - set(self.INPUTS))
        if unknown:
            raise TypeError(f"{type(self).__name__}: edgeport's Cloudflare SDK subset has no input {', '.join(unknown)} "
                            "(add it from pulumi_cloudflare to targets/cloudflare/sdk.py)")
        opts = pulumi.ResourceOptions.merge(_defaults(), opts)
        if opts.id is not None:
            raise TypeError(f"{type(self).__name__}: reading an existing resource by id is not supported here")
        for name in self.REQUIRED:
            if inputs.get(name) is None and not opts.urn:
                raise TypeError(f"Missing required property '{name}'")
        props: dict[str, Any] = {name: inputs.get(name) for name in self.INPUTS}
        props.update(dict.fromkeys(self.OUTPUTS))  # as the generated classes do: every output gets its attribute
        if self.ALIASES:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                aliases=[pulumi.Alias(type_=t) for t in self.ALIASES]))
        super().__init__(self.TOKEN, resource_name, props, opts)

    @classmethod
    def _wire_names(cls) -> dict[str, str]:
        names = cls.__dict__.get("_wire")
        if names is None:
            names = {**cls.NESTED, **cls.INPUTS, **cls.OUTPUTS}
            cls._wire = names
            cls._python = {w: p for p, w in names.items()}
        return names

    def translate_input_property(self, prop: str) -> str:
        wire = self._wire_names().get(prop)
        if wire is not None:
            return wire
        if "_" in prop:  # a snake_case key the tables do not know would reach the provider misspelt
            raise ValueError(f"{self.TOKEN}: no wire name for input key {prop!r} "
                             "(add it from pulumi_cloudflare to targets/cloudflare/sdk.py)")
        return prop

    def translate_output_property(self, prop: str) -> str:
        self._wire_names()
        return type(self)._python.get(prop, prop)

    _wire: ClassVar[dict[str, str]]
    _python: ClassVar[dict[str, str]]


def _camel(*names: str) -> dict[str, str]:
    """Python name -> wire name for names the generated getters spell as lowerCamelCase of the Python name
    (`@pulumi.getter(name="namespaceId") def namespace_id`); a name without "_" is sent as it is."""
    return {n: n.split("_")[0] + "".join(w.title() for w in n.split("_")[1:]) for n in names}


class WorkersKvNamespace(_CloudflareResource):
    """pulumi_cloudflare/workers_kv_namespace.py, class WorkersKvNamespace."""

    TOKEN = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
    INPUTS = _camel("account_id", "title")
    REQUIRED = ("account_id", "title")
    OUTPUTS = _camel("supports_url_encoding")

    account_id: pulumi.Output[str]
    title: pulumi.Output[str]


class WorkersKv(_CloudflareResource):
    """pulumi_cloudflare/workers_kv.py, class WorkersKv."""

    TOKEN = "cloudflare:index/workersKv:WorkersKv"
    INPUTS = _camel("account_id", "key_name", "namespace_id", "value")
    REQUIRED = ("account_id", "key_name", "namespace_id", "value")

    key_name: pulumi.Output[str]
    value: pulumi.Output[str]


class WorkersScript(_CloudflareResource):
    """pulumi_cloudflare/workers_script.py, class WorkersScript (bindings: _inputs.py WorkersScriptBindingArgs;
    migrations: WorkersScriptMigrationsArgs, WorkersScriptMigrationsStepArgs, WorkersScriptMigrationsRenamedClassArgs
    and WorkersScriptMigrationsTransferredClassArgs, whose `from_` is sent as "from")."""

    TOKEN = "cloudflare:index/workersScript:WorkersScript"
    INPUTS = _camel("account_id", "bindings", "compatibility_date", "content", "main_module", "migrations", "script_name")
    REQUIRED = ("account_id", "script_name")
    OUTPUTS = _camel("created_on", "etag", "handlers", "has_assets", "has_modules", "last_deployed_from", "migration_tag",
                     "modified_on", "named_handlers", "placement_mode", "placement_status", "startup_time_ms")
    NESTED = {**_camel("class_name", "namespace_id", "script_name",  # bindings
                       "deleted_classes", "new_classes", "new_sqlite_classes", "new_tag", "old_tag", "renamed_classes",
                       "transferred_classes", "from_script"),  # migrations and their steps
              "from_": "from"}
    ALIASES = ("cloudflare:index/workerScript:WorkerScript",)

    script_name: pulumi.Output[str]
    migration_tag: pulumi.Output[str]


class WorkersRoute(_CloudflareResource):
    """pulumi_cloudflare/workers_route.py, class WorkersRoute (`script` is the script's name)."""

    TOKEN = "cloudflare:index/workersRoute:WorkersRoute"
    INPUTS = _camel("pattern", "script", "zone_id")
    REQUIRED = ("pattern", "zone_id")

    pattern: pulumi.Output[str]
    script: pulumi.Output[str]


class WorkersCustomDomain(_CloudflareResource):
    """pulumi_cloudflare/workers_custom_domain.py, class WorkersCustomDomain."""

    TOKEN = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"
    INPUTS = _camel("account_id", "hostname", "service", "zone_id")
    REQUIRED = ("account_id", "hostname", "service")
    OUTPUTS = _camel("cert_id")
    ALIASES = ("cloudflare:index/workerDomain:WorkerDomain",)

    hostname: pulumi.Output[str]


class DnsRecord(_CloudflareResource):
    """pulumi_cloudflare/dns_record.py, class DnsRecord (`ttl` is required; 1 means automatic)."""

    TOKEN = "cloudflare:index/dnsRecord:DnsRecord"
    INPUTS = _camel("comment", "content", "name", "proxied", "ttl", "type", "zone_id")
    REQUIRED = ("name", "ttl", "type", "zone_id")
    OUTPUTS = _camel("comment_modified_on", "created_on", "meta", "modified_on", "proxiable", "tags_modified_on")
    ALIASES = ("cloudflare:index/record:Record",)

    name: pulumi.Output[str]


# ---------------------------------------------------------------- data source

GET_WORKERS_SCRIPTS = "cloudflare:index/getWorkersScripts:getWorkersScripts"  # pulumi_cloudflare/get_workers_scripts.py


@dataclass
class WorkersScripts:
    """The answer of get_workers_scripts: `results` holds one dict per script with Python keys (`id`,
    `migration_tag`, ...), as the generated result objects have them as attributes."""

    account_id: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def get_workers_scripts_output(account_id: pulumi.Input[str] | None = None,
                               opts: pulumi.InvokeOptions | None = None) -> pulumi.Output[WorkersScripts]:
    """The account's Workers scripts (pulumi_cloudflare/get_workers_scripts.py, get_workers_scripts_output): the
    same invoke with the same arguments (maxItems and tags left unset) and options."""
    args = {"accountId": account_id, "maxItems": None, "tags": None}
    merged = pulumi.InvokeOutputOptions.merge(pulumi.InvokeOptions(version=provider_version(), plugin_download_url=None),
                                              opts)
    out = pulumi.runtime.invoke_output(GET_WORKERS_SCRIPTS, args, opts=merged)

    def result(r: Mapping[str, Any]) -> WorkersScripts:
        items = r.get("results") or []
        return WorkersScripts(account_id=r.get("accountId"),
                              results=[{_snake(k): v for k, v in s.items()} if isinstance(s, Mapping) else s for s in items])

    return out.apply(result)
