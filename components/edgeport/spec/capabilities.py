"""The capability matrix: pattern x target -> supported, how, or why not.

Read from the pattern registry: each pattern module lists the targets that can host it and, on Lambda@Edge,
the triggers it needs where a platform splits a request into several (Lambda@Edge's CloudFront triggers). Validation, the build (which bundles to emit) and the Pulumi components
(which associations to make) all ask here.
"""

from __future__ import annotations

from .. import targets
from ..patterns import KINDS, TYPES, Capability, kind_of

TARGETS = targets.NAMES
PATTERN_TYPES = TYPES

def capability(pattern_type: str, target: str) -> Capability:
    return kind_of(pattern_type).capability(target)


def hosts(pattern_type: str) -> list[str]:
    """The targets that can host a pattern type."""
    return [t for t in TARGETS if capability(pattern_type, t).supported]


def events(pattern_type: str, target: str) -> tuple[str, ...]:
    """The triggers a pattern type runs in on a target that splits a request into triggers (else ())."""
    return capability(pattern_type, target).events


def as_table() -> list[dict]:
    """The matrix as rows, for `edgeport capabilities` and the docs."""
    return [
        {"pattern": p, "target": t, "supported": c.supported, "how": c.how, "events": list(c.events)}
        for p in KINDS for t in TARGETS for c in (capability(p, t),)
    ]
