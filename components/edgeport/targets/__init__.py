"""The target registry: one package per platform.

Each package's ``__init__`` holds the pure facts (no Pulumi import): its settings model, budgets and limits, the
bundles it needs, where secrets and live settings live, what the local host needs, its default port. Its
``resources`` module makes the Pulumi resources. The CLI, plan, validation, build, local runner and conformance
iterate NAMES and ask profile()/resources(); adding a platform is a package here and one registry line below
(docs/extending.md).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .protocol import TargetFacts, TargetPlanView, TargetResources

# Registry lines: platform name -> package. The order is the order of every listing (CLI, plans, tables).
_PACKAGES = {
    "cloudflare": "cloudflare",
    "lambda-edge": "lambda_edge",
    "vercel": "vercel",
}
NAMES = tuple(_PACKAGES)


def profile(name: str) -> "TargetFacts":
    """A target's facts (its package; pure Python; protocol.TargetFacts)."""
    if name not in _PACKAGES:
        raise KeyError(name)
    return cast("TargetFacts", importlib.import_module(f"{__name__}.{_PACKAGES[name]}"))


def resources(name: str) -> "TargetResources":
    """A target's Pulumi resources module (imports Pulumi and the provider SDK on first use)."""
    profile(name)
    return cast("TargetResources", importlib.import_module(f"{__name__}.{_PACKAGES[name]}.resources"))


def plan_view(name: str) -> "TargetPlanView":
    """How an offline plan shows and mocks the target's resources (KEY_INPUTS, FABRICATE, INVOKES; pure)."""
    profile(name)
    return cast("TargetPlanView", importlib.import_module(f"{__name__}.{_PACKAGES[name]}.plan"))


def prereq(name: str) -> ModuleType | None:
    """A target's prerequisite checks for `edgeport plan` (a `check(app, env, offline)`), or None if it has none."""
    return _optional(name, "prereq")


def _optional(name: str, module: str) -> ModuleType | None:
    profile(name)
    try:
        return importlib.import_module(f"{__name__}.{_PACKAGES[name]}.{module}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{_PACKAGES[name]}.{module}":
            raise
        return None


def ops(name: str) -> ModuleType | None:
    """A target's day-2 operations (edgeport.ops: live settings, status, logs; protocol.TargetOps), or None."""
    return _optional(name, "ops")


def bundles_and_limits(app, stack: str) -> tuple[list, list]:
    """Every declared target's bundle units and the platform quotas its declaration breaks (pure: no esbuild).
    `validate`, `build` and `plan` all run this, so a stack one of them accepts the others accept too."""
    units, issues = [], []
    for t in app.targets.names():
        mine = profile(t).bundles(app, stack)
        issues += profile(t).check_limits(app, stack, mine)
        units += mine
    return units, issues


def advisories(app) -> list:
    """Every declared target's advisories (protocol.OPTIONAL_FACTS): warnings, not errors."""
    out: list = []
    for t in app.targets.names():
        fn = getattr(profile(t), "advisories", None)
        out += fn(app) if fn else []
    return out


def field_name(name: str) -> str:
    """The attribute a target's settings have on App.targets ("lambda-edge" -> "lambda_edge")."""
    return name.replace("-", "_")
