"""What every target module provides, and the registry of targets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Budget:
    limit: int  # bytes
    measure: str  # "gzip" (compressed script) or "zip" (deployment package)
    label: str  # where the figure comes from, shown next to it


@dataclass(frozen=True)
class BundleUnit:
    """One bundle a target needs: what the build layer hands to functions/build.mjs."""

    target: str
    event: str | None
    outfile: str  # relative to the build directory
    config: dict[str, Any]
    inline_config: bool  # baked into the bundle (Vercel, Lambda@Edge) or shipped beside it (Cloudflare)
    budget: Budget
    matcher: list[str] | None = None
    extra_files: dict[str, str] = field(default_factory=dict)  # relative path -> text, deployed with the bundle


def resource_slug(text: str, taken: set[str] | None = None) -> str:
    """A stable Pulumi-name fragment for a route or key: '/api/*' -> 'api-all', '/' -> 'root'."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("*", "-all")).strip("-") or "root"
    if taken is not None:
        base, n = s, 2
        while s in taken:
            s = f"{base}-{n}"
            n += 1
        taken.add(s)
    return s


def pattern_resource(prefix: str, pattern, taken: set[str], parent) -> tuple[str, "object"]:
    """Logical name and ResourceOptions for a resource that belongs to one pattern: named after the pattern,
    with aliases to its previous names so a rename moves the resource instead of replacing it."""
    import pulumi

    name = f"{prefix}-{resource_slug(pattern.name, taken)}"
    aliases = [pulumi.Alias(name=f"{prefix}-{resource_slug(old)}") for old in pattern.previous_names]
    return name, pulumi.ResourceOptions(parent=parent, aliases=aliases)


def routes_for(app, target: str) -> list[str]:
    """Every route any pattern on `target` covers, most specific first (exact, then longer prefixes)."""
    seen: list[str] = []
    for p in app.patterns:
        if target in app.pattern_targets(p):
            for r in p.routes:
                if r not in seen:
                    seen.append(r)
    return sorted(seen, key=lambda r: (r.endswith("*"), -len(r), r))


# ---------------------------------------------------------------- request-header limits

@dataclass(frozen=True)
class HeaderLimit:
    """What one platform lets a request carry in its headers."""

    total: int  # bytes of all request headers (with the request line where the platform counts it)
    per_header: int | None  # bytes of one header, where the platform limits that too
    counts: str  # what `total` covers, for messages: "request line + headers"
    source: str  # where the figures come from, for messages


def header_issues(app, target: str, limit: HeaderLimit) -> list:
    """Patterns on `target` whose headers would not fit the platform's request-header limit (PatternKind.header_issues)."""
    from ..patterns import kind_of

    return [x for i, p in enumerate(app.patterns) if target in app.pattern_targets(p)
            for x in kind_of(p).header_issues(p, i, target, limit)]
