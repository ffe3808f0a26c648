"""The capability matrix: pattern x target -> supported, how, or why not.

Read from the pattern registry: each pattern module lists the targets that can host it and, on Lambda@Edge,
the CloudFront triggers it needs. Validation, the build (which bundles to emit) and the Pulumi components
(which associations to make) all ask here.
"""

from __future__ import annotations

from .. import targets
from ..patterns import KINDS, TYPES, Capability, kind_of

TARGETS = targets.NAMES
PATTERN_TYPES = TYPES

# CloudFront trigger order for one request.
LAMBDA_EVENTS = ("viewer-request", "origin-request", "origin-response", "viewer-response")
SPLIT_TARGET = "lambda-edge"  # the target whose requests run in several triggers


def capability(pattern_type: str, target: str) -> Capability:
    return kind_of(pattern_type).capability(target)


def hosts(pattern_type: str) -> list[str]:
    """The targets that can host a pattern type."""
    return [t for t in TARGETS if capability(pattern_type, t).supported]


def lambda_events(pattern_type: str) -> tuple[str, ...]:
    return capability(pattern_type, SPLIT_TARGET).events


def lambda_events_for(pattern, app=None) -> tuple[str, ...]:
    """The triggers one declared pattern needs, in CloudFront order (a pattern may need more than its type's
    row says, e.g. an A/B test whose variants switch origins)."""
    events = set(kind_of(pattern).events(pattern, app, SPLIT_TARGET))
    return tuple(e for e in LAMBDA_EVENTS if e in events)


def as_table() -> list[dict]:
    """The matrix as rows, for `edgeport capabilities` and the docs."""
    return [
        {"pattern": p, "target": t, "supported": c.supported, "how": c.how, "events": list(c.events)}
        for p in KINDS for t in TARGETS for c in (capability(p, t),)
    ]
