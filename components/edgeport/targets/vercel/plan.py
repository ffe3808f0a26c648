"""How an offline plan shows and mocks Vercel's resources (edgeport.plan). Pure: Pulumi's rpc helper is imported
only when a mock runs (inside the Pulumi program)."""

from __future__ import annotations

from typing import Any


def _files(v: Any) -> str:
    return ", ".join(k.rsplit("/", 1)[-1] for k in v) if isinstance(v, dict) else str(v)


KEY_INPUTS = {
    "vercel:index/edgeConfig:EdgeConfig": [("name", None)],
    "vercel:index/edgeConfigItem:EdgeConfigItem": [("key", None), ("valueJson", None)],
    "vercel:index/edgeConfigToken:EdgeConfigToken": [("label", None)],
    "vercel:index/project:Project": [("name", None), ("teamId", None)],
    "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable": [("key", None), ("sensitive", None),
                                                                          ("targets", None), ("value", None)],
    "vercel:index/deployment:Deployment": [("projectId", None), ("production", None), ("files", _files)],
}


def _token(name: str, inputs: dict) -> dict:
    # additional_secret_outputs are applied by the engine, so mocks mark them here
    from pulumi.runtime import rpc

    return {"token": rpc.wrap_rpc_secret(f"{name}-token"),
            "connectionString": rpc.wrap_rpc_secret(f"https://edge-config.vercel.com/ecfg_plan?token={name}-token")}


FABRICATE = {
    "vercel:index/deployment:Deployment": lambda name, inputs: {"url": f"{name}.vercel.app"},
    "vercel:index/edgeConfig:EdgeConfig": lambda name, inputs: {"id": "ecfg_plan000000000000000000000"},
    "vercel:index/edgeConfigToken:EdgeConfigToken": _token,
}

INVOKES: dict = {}
