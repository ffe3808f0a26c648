"""How an offline plan shows and mocks Cloudflare's resources (edgeport.plan): the inputs worth a line in the
rendered tree, and the outputs the provider would compute. Pure: no Pulumi import."""

from __future__ import annotations

from typing import Any


def _size(v: Any) -> str:
    return f"{len(v.encode()):,} B" if isinstance(v, str) and v != "[secret]" else str(v)


def _bindings(v: Any) -> str:
    if not isinstance(v, list):
        return str(v)
    return ", ".join(f"{b.get('name')}({b.get('type')})" for b in v if isinstance(b, dict))


KEY_INPUTS = {
    "cloudflare:index/workersScript:WorkersScript": [("scriptName", None), ("accountId", None), ("mainModule", None),
                                                      ("compatibilityDate", None), ("content", _size),
                                                      ("bindings", _bindings), ("migrations", None)],
    "cloudflare:index/workersRoute:WorkersRoute": [("pattern", None), ("zoneId", None), ("script", None)],
    "cloudflare:index/dnsRecord:DnsRecord": [("name", None), ("type", None), ("content", None), ("proxied", None)],
    "cloudflare:index/workersKvNamespace:WorkersKvNamespace": [("title", None)],
    "cloudflare:index/workersKv:WorkersKv": [("keyName", None), ("value", None)],
}

FABRICATE = {
    "cloudflare:index/workersKvNamespace:WorkersKvNamespace": lambda name, inputs: {"id": "0123456789abcdef0123456789abcdef"},
}

# An account without Workers scripts: a first deploy, no Durable Object migration tag yet. Tests replace it to play
# later deploys.
INVOKES = {
    "cloudflare:index/getWorkersScripts:getWorkersScripts": lambda args: {"results": [], **args},
}
