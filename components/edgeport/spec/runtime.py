"""Pattern declarations -> the runtime config the edge code reads (functions/src/core/config.ts).

Each pattern's own part comes from its module (PatternKind.runtime); this module adds what every pattern config
carries and what a bundle carries once. Targets only add where secrets come from and, on Lambda@Edge, which
trigger a bundle serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..patterns import kind_of
from . import routes

if TYPE_CHECKING:
    from ..patterns import PatternBase
    from .models import App

RUNTIME_VERSION = 1


def chain_order(app: "App") -> list["PatternBase"]:
    """The patterns in the order a request runs through them: by kind (route first, as it picks the origin; then
    authenticate, bucket, compose), then as declared. sorted() is stable, so the kind alone is the key (a key with
    the declaration index, app.patterns.index(p), compared pattern models pairwise: ~30 ms a call at 300 patterns)."""
    return sorted(app.patterns, key=lambda p: kind_of(p).order)


def identity_headers(p: "PatternBase") -> set[str]:
    """Headers whose value at the origin must come from the edge alone (RuntimeConfig.entry strips them)."""
    return kind_of(p).identity_headers(p)


def origin_headers(p: "PatternBase") -> set[str]:
    """The request headers a pattern sets for the origin."""
    return kind_of(p).origin_headers(p)


def entry_rules(app: "App", target: str) -> dict[str, list[str]]:
    """RuntimeConfig.entry for a bundle that sees requests first: drop every identity header of the target's
    patterns, and (in the engine) every x-edgeport-* header."""
    strip: set[str] = set()
    for p in app.patterns:
        if target in app.pattern_targets(p):
            strip |= identity_headers(p)
    return {"strip": sorted(strip), "keep": []}


def guards(app: "App", target: str) -> list["PatternBase"]:
    """The guard patterns on `target` (PatternKind.guard)."""
    return [p for p in app.patterns if kind_of(p).guard and target in app.pattern_targets(p)]


def guards_every_request(app: "App", target: str) -> bool:
    """Whether the edge must run on every request of the target, not only on the declared routes: with a guard it
    must (PatternKind.guard says why)."""
    return bool(guards(app, target))


def live_patterns(app: "App", target: str) -> list["PatternBase"]:
    """Patterns on `target` whose settings are read from the live store."""
    return [p for p in app.patterns if target in app.pattern_targets(p) and kind_of(p).live_default(p) is not None]


def live_default(p: "PatternBase") -> dict[str, Any]:
    """The value the live store is seeded with for a live pattern."""
    value = kind_of(p).live_default(p)
    assert value is not None, f"{p.name} has no live settings"
    return value


def needs(app: "App", target: str, feature: str) -> bool:
    """Whether a pattern on `target` needs a platform feature (PatternKind.needs)."""
    return any(feature in kind_of(p).needs and target in app.pattern_targets(p) for p in app.patterns)


def pattern_config(p: "PatternBase", app: "App", live_key: str | None = None) -> dict[str, Any]:
    kind = kind_of(p)
    out: dict[str, Any] = {"name": p.name, "type": p.type, "routes": [routes.matcher(r) for r in p.routes]}
    if kind.guard:
        out["guard"] = True  # its routes cover every spelling an origin could route onto them (core/config.ts)
    if p.exclude:
        out["exclude"] = [routes.matcher(r) for r in p.exclude]
    return {**out, **kind.runtime(p, app, live_key)}


def patterns_for(app: "App", target: str, event: str | None = None) -> list["PatternBase"]:
    """The patterns a bundle for `target` (and Lambda@Edge `event`) runs, in chain order."""
    out = []
    for p in chain_order(app):
        if target not in app.pattern_targets(p):
            continue
        if event is not None and event not in kind_of(p).events(p, app, target):
            continue
        out.append(p)
    return out


def runtime_config(app: "App", stack: str, target: str, *, event: str | None = None,
                   secrets: dict[str, dict[str, str]] | None = None, live_keys: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    live_keys = live_keys or {}
    pats = patterns_for(app, target, event)
    used = {s for p in pats for s in kind_of(p).secrets(p)}
    cfg: dict[str, Any] = {
        "version": RUNTIME_VERSION,
        "app": app.name,
        "stack": stack,
        "target": target,
        "patterns": [pattern_config(p, app, live_keys.get(p.name)) for p in pats],
        "secrets": {k: v for k, v in (secrets or {}).items() if k in used},
        "origins": dict(app.origins),
        "entry": entry_rules(app, target),
    }
    for kind in dict.fromkeys(kind_of(p) for p in pats):
        cfg.update(kind.bundle_config())
    if event is not None:
        cfg["event"] = event
    cfg.update(extra or {})
    return cfg
