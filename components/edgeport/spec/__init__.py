"""Spec layer: typed, validated declarations. Pure Python; never imports Pulumi.

Each pattern's model lives in its module under edgeport.patterns; each target's settings in its package under
edgeport.targets. The names below are loaded on first use: pattern and target modules import spec submodules
(`edgeport.spec.routes`, ...), and the loader imports the pattern and target registries, so an eager import here
would close a circle.
"""

from __future__ import annotations

import importlib

_EXPORTS = {"App": "models", "Targets": "models", "Stack": "loader", "find_project_dir": "loader",
            "load_stack": "loader", "parse_app": "loader"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
