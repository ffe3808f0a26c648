"""What placeholders stand for in one stack: values taken from a pattern's declaration.

Everything a scenario may not hard-code - routes, secrets, variant names, geo rules,
fragment slots, room limits - is derived here from the validated App, so the same
scenario file runs against any stack that declares a pattern of its type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import PlaceholderError
from ..patterns import KINDS, PatternBase, kind_of
from ..spec import routes as declared
from ..spec.models import App

# Placeholder names every pattern type has (arithmetic suffixes stripped, inner placeholders as X); each type adds
# its own (PatternKind.placeholders). Checked when a scenario file is loaded so that typos fail before anything starts.
_COMMON = [r"route(:\d+)?", r"prefix(:\d+)?", r"pattern", r"app", r"unique", r"request\.(path|query)", r"captured\.[\w-]+",
           r"each(\.[\w]+)?", r"target", r"unrouted"]
KNOWN = {t: re.compile("^(" + "|".join(_COMMON + list(k.placeholders.names)) + ")$") for t, k in KINDS.items()}

# What `for_each` iterates over, per type, and what `requires` may ask for ("unrouted-path": a path no pattern on
# the target covers exists, for any type).
FOR_EACH = {t: set(k.placeholders.for_each) for t, k in KINDS.items()}
REQUIRES = {t: {*k.placeholders.requires, "unrouted-path"} for t, k in KINDS.items()}


UNROUTED = "/edgeport-conformance-unrouted/page"


@dataclass
class PatternContext:
    """Placeholder values for one pattern of one stack, on one target."""

    app: App
    pattern: PatternBase
    target: str
    secrets: dict[str, str]
    others: list[PatternBase] = field(default_factory=list)  # patterns sharing the target

    # ---------------------------------------------------------------- routes
    def route(self, index: int | None = None) -> str:
        routes = self.pattern.routes
        if index is not None:
            if index >= len(routes):
                raise PlaceholderError(f"pattern {self.pattern.name} has {len(routes)} route(s); {{route:{index}}} does not exist")
            return declared.sample(routes[index])
        # Prefer a route no other pattern on this target also covers: the scenario is about
        # this pattern alone (composition is a separate concern).
        for r in routes:
            p = declared.sample(r)
            if not any(declared.matches(o, p) for other in self.others for o in other.routes):
                return p
        return declared.sample(routes[0])

    def prefix(self, index: int | None = None) -> str:
        routes = self.pattern.routes
        if index is not None and index >= len(routes):
            raise PlaceholderError(f"pattern {self.pattern.name} has {len(routes)} route(s); {{prefix:{index}}} does not exist")
        r = routes[index or 0] if index is not None else next((x for x in routes if x.endswith("*")), routes[0])
        return r[:-1] if r.endswith("*") else r

    # ---------------------------------------------------------------- requirements and iteration
    def unmet(self, requirement: str) -> str | None:
        """None when the stack's pattern has what a scenario requires, else why not."""
        p = self.pattern
        if requirement == "unrouted-path":
            ok, why = not self.covers(UNROUTED), f"covers every path on {self.target} (there is no unrouted path)"
        else:
            req = kind_of(p).placeholders.requires[requirement]
            ok, why = req.holds(p), req.otherwise
        return None if ok else f"pattern {p.name} {why}"

    def covers(self, path: str) -> bool:
        """Whether a pattern on this target covers the path (as declared: a sample, not the engine's matcher)."""
        pats = [self.pattern, *self.others] if self.target in self.app.pattern_targets(self.pattern) else self.others
        return any(declared.matches(r, path) for p in pats for r in p.routes)

    def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """(label, fields) for each instance of a `for_each` scenario."""
        p = self.pattern
        if kind == "routes":
            return [(r, {"value": declared.sample(r), "route": r}) for r in p.routes]
        out = kind_of(p).items(self, kind)
        if out is not None:
            return out
        raise PlaceholderError(f"unknown for_each {kind!r}")

    # ---------------------------------------------------------------- lookup
    def lookup(self, name: str, scope: dict[str, Any]) -> Any:
        p = self.pattern
        m = re.fullmatch(r"(route|prefix)(?::(\d+))?", name)
        if m:
            idx = int(m[2]) if m[2] is not None else None
            return self.route(idx) if m[1] == "route" else self.prefix(idx)
        if name == "pattern":
            return p.name
        if name == "app":
            return self.app.name
        if name == "target":
            return self.target
        if name == "unrouted":
            return UNROUTED
        if name == "unique":
            return scope["unique"]
        if name.startswith("request."):
            key = name.split(".", 1)[1]
            if key not in scope.get("request", {}):
                raise PlaceholderError(f"{{{name}}} is only known once the request is resolved (use it in expectations)")
            return scope["request"][key]
        if name.startswith("captured."):
            key = name.split(".", 1)[1]
            if key not in scope.get("captured", {}):
                raise PlaceholderError(f"{{{name}}}: nothing was captured as {key!r} (a cookie expectation with capture: {key} "
                                       f"must come first and match)")
            return scope["captured"][key]
        if name == "each" or name.startswith("each."):
            each = scope.get("each")
            if each is None:
                raise PlaceholderError(f"{{{name}}} is used by a scenario without for_each")
            key = name.split(".", 1)[1] if "." in name else "value"
            if key not in each:
                raise PlaceholderError(f"{{{name}}}: for_each items have {', '.join(sorted(each))}")
            return each[key]
        return kind_of(p).lookup(self, name, scope)


def check_known(ptype: str, name: str) -> bool:
    from .placeholders import strip_arith

    return bool(KNOWN[ptype].match(strip_arith(name)))
