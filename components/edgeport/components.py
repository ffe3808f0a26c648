"""Pulumi components: one per registered pattern, plus EdgeApp for a whole stack.

- ``EdgeApp`` materializes a full declaration (every pattern, every target).
- One component per pattern (``JwtAuth``, ``AbTest``, ... - generated from the pattern registry in
  components_gen.py) materializes one pattern on the given targets; they are what other Pulumi languages use
  through the component provider (``provider/PulumiPlugin.yaml``, schema in provider/schema.json).

This module deliberately has no ``from __future__ import annotations``: the component provider reads these
annotations at run time to infer the schema.
"""

import json
from pathlib import Path
from typing import Any, Optional, TypedDict

try:  # Python 3.11+
    from typing import Required
except ImportError:  # pragma: no cover
    from typing_extensions import Required

import pulumi

from .build import BuildResult
from .components_gen import *  # noqa: F401,F403 - the generated argument types and pattern components
from .components_gen import PATTERN_COMPONENTS, _EdgeComponent
from .spec.loader import parse_app
from .spec.models import App


# ---------------------------------------------------------------- EdgeApp


class EdgeAppArgs(TypedDict, total=False):
    """Inputs of EdgeApp."""

    app: Required[Any]
    """The declaration, shaped like `edgeport:app` in a stack file (a map; Python may pass an edgeport.spec.App)."""
    stack: str
    """Stack name used in physical names (default: the current Pulumi stack)."""
    secrets: dict[str, pulumi.Input[str]]
    """Secret name -> value, for the secrets the patterns reference (pass Pulumi secrets)."""


class EdgeApp(_EdgeComponent):
    """A whole edgeport stack: every pattern materialized on every target it declares."""

    def __init__(self, name: str, args: EdgeAppArgs, opts: Optional[pulumi.ResourceOptions] = None,
                 *, build: Optional[BuildResult] = None, project_dir: Optional[Path] = None, validated: bool = False):
        super().__init__("edgeport:index:EdgeApp", name, None, opts)
        raw = args["app"]
        app = raw if isinstance(raw, App) else parse_app(json.loads(raw) if isinstance(raw, str) else raw)
        self._materialize(name, app, args.get("stack") or pulumi.get_stack(), args.get("secrets") or {}, build,
                          project_dir or Path.cwd(), validated=validated)


COMPONENTS = [EdgeApp, *PATTERN_COMPONENTS]
