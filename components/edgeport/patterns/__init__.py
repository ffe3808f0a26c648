"""The pattern registry: one module per pattern type, each with its model and its PatternKind.

Everything that needs to know about pattern types iterates KINDS or asks kind_of(); adding a pattern is a module
here, one line below, its edge step (functions/src/patterns/) and its conformance scenarios (docs/extending.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

from . import ab_test, esi_compose, geo_route, jwt_auth, realtime_room
from .base import Capability, PatternBase, PatternKind

# Registry lines: the order is the order of listings (capability tables, hints).
KINDS: dict[str, PatternKind] = {m.KIND.type: m.KIND for m in (geo_route, jwt_auth, ab_test, esi_compose, realtime_room)}

TYPES = tuple(KINDS)

# A declared pattern: the union of the registered models, told apart by `type`.
Pattern = Annotated[Union[tuple(k.model for k in KINDS.values())], Field(discriminator="type")]  # type: ignore[misc]


def kind_of(p: Any) -> PatternKind:
    """The kind of a declared pattern (or of a pattern type name)."""
    return KINDS[p if isinstance(p, str) else p.type]


__all__ = ["KINDS", "TYPES", "Capability", "Pattern", "PatternBase", "PatternKind", "kind_of"]
