"""`edgeport experiment get|set`: an A/B pattern's live ratios, read from and written to the stores the deployed
edge code reads (Workers KV, Edge Config, SSM in us-east-1) on every target the pattern runs on, and to a running
`edgeport dev` of the same stack.

A set is two-phase so that nothing is half-written silently:
1. preflight on every target: credentials, the store found, the current value read (a dry run);
   any failure here writes nothing anywhere;
2. write target by target. A write that fails after others succeeded is reported per target, with what was
   written where and the command that puts the written ones back.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from .. import targets as registry
from ..errors import EdgeportError
from ..patterns import kind_of
from ..spec import runtime
from . import Outcome, attempt, environ


class ExperimentError(EdgeportError):
    exit_code = 2  # bad input: the stack or the ratios


def live_pattern(app, name: str):
    """The pattern named `name` whose settings are live, or an error listing the ones that are."""
    live = [p for p in app.patterns if kind_of(p).live_default(p) is not None]
    found = next((p for p in app.patterns if p.name == name), None)
    if found is None or found not in live:
        names = ", ".join(p.name for p in live) or "none"
        why = "has no live settings" if found is not None else "is not a pattern of this stack"
        hint = " (set `live: true` on an ab-test pattern and deploy)" if found is not None and found.type == "ab-test" else ""
        raise ExperimentError(f"{name!r} {why}{hint}; patterns with live settings: {names}")
    return found


def parse_ratios(pattern, text: str) -> dict[str, float | int]:
    """`control=70,redesign=30` -> {"control": 70, "redesign": 30}, checked against the declared variants: every
    variant listed once (0 switches one off), weights finite and >= 0, at least one above 0."""
    declared = [v.name for v in pattern.variants]
    out: dict[str, float | int] = {}
    for part in (x.strip() for x in text.split(",")):
        if not part:
            continue
        name, eq, weight = part.partition("=")
        name = name.strip()
        if not eq or not name:
            raise ExperimentError(f"--ratios: {part!r} is not VARIANT=WEIGHT, e.g. {declared[0]}=50")
        if name in out:
            raise ExperimentError(f"--ratios: {name} is given twice")
        if name not in declared:
            raise ExperimentError(f"--ratios: {name!r} is not a variant of {pattern.name} (variants: {', '.join(declared)})")
        try:
            w = float(weight)
        except ValueError:
            raise ExperimentError(f"--ratios: the weight of {name} must be a number, got {weight.strip()!r}") from None
        if not math.isfinite(w) or w < 0:
            raise ExperimentError(f"--ratios: the weight of {name} must be a finite number >= 0, got {weight.strip()}")
        out[name] = int(w) if w.is_integer() else w
    missing = [v for v in declared if v not in out]
    if missing:
        raise ExperimentError(f"--ratios: give every variant of {pattern.name} a weight (missing: {', '.join(missing)}; "
                              "0 switches a variant off)")
    problem = kind_of(pattern).live_problem(pattern, out)
    if problem:
        raise ExperimentError(f"--ratios: {problem}")
    return {v: out[v] for v in declared}


def shares(value: Any) -> dict[str, float] | None:
    """Weights as percentages of their total, for people."""
    if not isinstance(value, dict) or not value:
        return None
    total = sum(w for w in value.values() if isinstance(w, (int, float)))
    return {k: round(100 * w / total, 2) for k, w in value.items()} if total > 0 else None


def targets_of(app, pattern, only: tuple[str, ...] = ()) -> list[str]:
    on = [t for t in app.pattern_targets(pattern) if t in app.targets.names()]
    if only:
        unknown = [t for t in only if t not in on]
        if unknown:
            raise ExperimentError(f"--target {', '.join(unknown)}: {pattern.name} runs on {', '.join(on)}")
        on = [t for t in on if t in only]
    return on


def effect(app, pattern, target: str) -> dict[str, Any]:
    """When a written value is in effect everywhere: the store's propagation plus the edge code's own cache."""
    seconds, source = registry.ops(target).LIVE_PROPAGATION
    ttl = pattern.live_ttl
    return {"propagation_s": seconds, "edge_cache_s": ttl, "within_s": seconds + ttl, "source": source}


def get(app, stack: str, pattern, only: tuple[str, ...] = (), env: Mapping[str, str] | None = None) -> list[Outcome]:
    env = environ(env)
    out = []
    for t in targets_of(app, pattern, only):
        o = attempt(t, registry.ops(t).live_get, app, stack, pattern, env)
        if o.ok:
            o.data.update(_in_effect(pattern, o.data.get("value"), o.data.get("missing", False)))
        out.append(o)
    return out


def _in_effect(pattern, value: Any, missing: bool) -> dict[str, Any]:
    """What the edge uses for a stored value: the value, or the declared ratios and why (core/live.ts, ab.ts)."""
    declared = runtime.live_default(pattern)
    if missing:
        return {"effective": declared, "note": "no value stored: the declared ratios apply"}
    problem = kind_of(pattern).live_problem(pattern, value)
    if problem:
        return {"effective": declared, "note": f"the stored value is ignored ({problem}): the declared ratios apply"}
    return {"effective": value}


def set_(app, stack: str, pattern, value: dict[str, Any], only: tuple[str, ...] = (), dry_run: bool = False,
         env: Mapping[str, str] | None = None) -> tuple[list[Outcome], bool]:
    """(per-target outcomes, whether anything was refused). Preflight everywhere, then write (see the module doc)."""
    env = environ(env)
    on = targets_of(app, pattern, only)
    pre = [attempt(t, registry.ops(t).live_set, app, stack, pattern, value, env, True) for t in on]
    for o in pre:
        o.data["effect"] = effect(app, pattern, o.target)
    if dry_run or not all(o.ok for o in pre):
        for o in pre:
            if o.ok and not dry_run:
                o.data["skipped"] = "not written: another target failed its preflight"
        return pre, not all(o.ok for o in pre)
    done = []
    for o in pre:
        w = attempt(o.target, registry.ops(o.target).live_set, app, stack, pattern, value, env, False)
        w.data.setdefault("before", o.data.get("before"))
        w.data["effect"] = o.data["effect"]
        done.append(w)
    return done, not all(o.ok for o in done)


def restore_command(stack: str, pattern, outcomes: list[Outcome]) -> str | None:
    """After a partial write: the command that puts the written targets back to their previous value, if they all
    had the same valid one."""
    written = [o for o in outcomes if o.ok and o.data.get("written")]
    befores = {json.dumps(o.data.get("before"), sort_keys=True) for o in written}
    if not written or len(befores) != 1:
        return None
    before = written[0].data.get("before")
    if kind_of(pattern).live_problem(pattern, before):
        return None
    ratios = ",".join(f"{k}={v}" for k, v in before.items())
    flags = " ".join(f"--target {o.target}" for o in written)
    return f"edgeport experiment set {pattern.name} --stack {stack} --ratios {ratios} {flags}"
