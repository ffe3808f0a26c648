"""Typed declarations of an edgeport stack: the patterns and the targets.

The App; each pattern's model lives in its module (edgeport.patterns), each target's settings in its package
(edgeport.targets). Shape and types
are checked here (pydantic); rules that span fields or need
outside data (capabilities, countries, keys, secrets) are checked in
``validate.py`` so that every problem is reported at once with its key path.
Keys are camelCase in YAML (Pulumi's convention); Python code may use either.
"""

from __future__ import annotations

from typing import Optional

from pydantic import Field, create_model

from .. import targets
from ..patterns import Pattern, PatternBase, kind_of
from .types import Model, OriginUrl, Slug

# ---------------------------------------------------------------- targets


class _TargetsBase(Model):
    def names(self) -> list[str]:
        """The declared targets, in registry order."""
        return [n for n, f in _FIELDS if getattr(self, f) is not None]


_FIELDS = [(n, targets.field_name(n)) for n in targets.NAMES]  # the fields of Targets below


# One optional settings section per registered target, keyed by its name (`lambda-edge:` in YAML, `lambda_edge` in
# Python); each target package holds its Settings model.
Targets = create_model(
    "Targets", __base__=_TargetsBase, __doc__="The platforms a stack materializes on, each with its settings.",
    **{targets.field_name(n): (Optional[targets.profile(n).Settings], Field(default=None, alias=n))  # type: ignore[misc]
       for n in targets.NAMES})


class App(Model):
    """One stack's declaration: key ``edgeport:app`` in ``stacks/Pulumi.<stack>.yaml``."""

    name: Slug
    origins: dict[Slug, OriginUrl] = Field(min_length=1)
    targets: Targets
    patterns: list[Pattern] = Field(min_length=1)
    protect: bool | None = Field(default=None, description="protect what holds state or is slow to re-create (the Worker, "
                                 "its KV namespace, the CloudFront distribution, Secrets Manager secrets, Edge Config) "
                                 "from deletion and replacement; default: on when the stack declares a realtime-room "
                                 "(replacing the Worker deletes every room's Durable Object storage)")

    def protects(self) -> bool:
        """Whether stateful resources get Pulumi's `protect` (explicit setting, else on when rooms hold state)."""
        if self.protect is not None:
            return self.protect
        return any(kind_of(p).stateful for p in self.patterns)

    def pattern_targets(self, p: PatternBase) -> list[str]:
        return list(p.targets) if p.targets is not None else self.targets.names()

    def secret_names(self) -> list[str]:
        """Every secret a pattern references, in declaration order."""
        return list(dict.fromkeys(s for p in self.patterns for s in kind_of(p).secrets(p)))

    def secrets_for(self, target: str) -> list[str]:
        """The secrets of the patterns on `target`."""
        return list(dict.fromkeys(s for p in self.patterns if target in self.pattern_targets(p) for s in kind_of(p).secrets(p)))
