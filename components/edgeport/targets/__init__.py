"""Targets: all knowledge of one platform per module (bundles, budgets, Pulumi resources)."""

from __future__ import annotations

from types import ModuleType

# The registry of platforms, in the order they are listed everywhere (CLI output, plans, capability tables).
NAMES = ("cloudflare", "lambda-edge", "vercel")


def profile(name: str) -> ModuleType:
    """The module for a target name (imported on demand: provider SDKs are slow to import)."""
    if name == "cloudflare":
        from . import cloudflare as m
    elif name == "lambda-edge":
        from . import lambda_edge as m
    elif name == "vercel":
        from . import vercel as m
    else:
        raise KeyError(name)
    return m
