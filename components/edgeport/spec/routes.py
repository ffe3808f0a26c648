"""Declared routes as sets of canonical paths: an exact path, or every path starting with a prefix ("/api/*").

The edge engine matches requests (functions/src/core/config.ts); this module answers questions about routes
themselves: what the engine is told, whether one route contains another, a sample path a route covers.
"""

from __future__ import annotations


def matcher(route: str) -> dict[str, str]:
    """The route as the runtime config carries it (RouteMatcher in functions/src/core/config.ts)."""
    return {"prefix": route[:-1]} if route.endswith("*") else {"exact": route}


def matches(route: str, path: str) -> bool:
    """Whether a canonical path is one of the route's paths, spelled as declared."""
    return path.startswith(route[:-1]) if route.endswith("*") else path == route


def contains(outer: str, inner: str) -> bool:
    """Whether every path `inner` covers is also covered by `outer`."""
    return inner.startswith(outer[:-1]) if outer.endswith("*") else inner == outer


def sample(route: str) -> str:
    """A request path the route covers: a prefix gets a fixed last segment."""
    return route[:-1] + "conformance" if route.endswith("*") else route
