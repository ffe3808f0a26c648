"""The capability matrix: pattern x target -> supported, how, or why not.

This table is the one place that says which target can host which pattern and,
on Lambda@Edge, which CloudFront triggers a pattern needs. Validation, the build
(which bundles to emit) and the Pulumi components (which associations to make)
all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import routes

TARGETS = ("cloudflare", "lambda-edge", "vercel")
PATTERN_TYPES = ("geo-route", "jwt-auth", "ab-test", "esi-compose", "realtime-room")

# CloudFront trigger order for one request.
LAMBDA_EVENTS = ("viewer-request", "origin-request", "origin-response", "viewer-response")


@dataclass(frozen=True)
class Capability:
    supported: bool
    how: str
    events: tuple[str, ...] = ()  # Lambda@Edge triggers this pattern runs in


def _yes(how: str, *events: str) -> Capability:
    return Capability(True, how, tuple(events))


def _no(why: str) -> Capability:
    return Capability(False, why)


MATRIX: dict[tuple[str, str], Capability] = {
    ("jwt-auth", "cloudflare"): _yes("Worker on the zone routes; HMAC key as a secret_text binding, public keys in the JSON config binding"),
    ("jwt-auth", "lambda-edge"): _yes(
        "viewer-request trigger; HMAC key fetched from Secrets Manager (us-east-1) at cold start and cached, public keys baked in",
        "viewer-request",
    ),
    ("jwt-auth", "vercel"): _yes("Routing Middleware; HMAC key as a sensitive environment variable; next() with the verified claims"),
    ("ab-test", "cloudflare"): _yes("Worker; live ratios in Workers KV"),
    ("ab-test", "lambda-edge"): _yes(
        "viewer-request assigns the variant, origin-request rewrites the path or switches the origin for variants "
        "that say so, origin-response sets the cookie on every answer from the origin whatever its status (cached "
        "with it for hits); live ratios in an SSM parameter (us-east-1)",
        "viewer-request",
        "origin-response",
    ),
    ("ab-test", "vercel"): _yes("Routing Middleware; live ratios in Edge Config"),
    ("geo-route", "cloudflare"): _yes("Worker reads request.cf.country and fetches the mapped origin"),
    ("geo-route", "lambda-edge"): _yes(
        "origin-request trigger switches the custom origin; an origin request policy forwards CloudFront-Viewer-Country "
        "(viewer-request cannot see it)",
        "origin-request",
    ),
    ("geo-route", "vercel"): _yes("Routing Middleware reads x-vercel-ip-country and rewrites to the mapped origin"),
    ("esi-compose", "cloudflare"): _yes("Worker streams the cached shell and injects fragments as they arrive"),
    ("esi-compose", "lambda-edge"): _yes(
        "origin-request generated response (no streaming; 1 MB limit, falls back to the origin page)",
        "origin-request",
    ),
    ("esi-compose", "vercel"): _yes("Routing Middleware streams the shell and injects fragments"),
    ("realtime-room", "cloudflare"): _yes("one Durable Object per room (WebSocket Hibernation API)"),
    ("realtime-room", "lambda-edge"): _no(
        "Lambda@Edge cannot terminate WebSockets (Upgrade is a header CloudFront forbids functions to touch) and has no "
        "per-room state"
    ),
    ("realtime-room", "vercel"): _no("Routing Middleware cannot hold WebSocket connections or per-room state"),
}


def capability(pattern_type: str, target: str) -> Capability:
    return MATRIX[(pattern_type, target)]


def hosts(pattern_type: str) -> list[str]:
    """The targets that can host a pattern type."""
    return [t for t in TARGETS if MATRIX[(pattern_type, t)].supported]


def lambda_events(pattern_type: str) -> tuple[str, ...]:
    return MATRIX[(pattern_type, "lambda-edge")].events


def lambda_events_for(pattern, app=None) -> tuple[str, ...]:
    """The triggers one declared pattern needs. An A/B test also runs in origin-request when a variant rewrites the
    path or picks an origin (done there, on the path the viewer asked for; viewer-request cannot switch origins),
    and when it shares paths with a pattern answering there (a composed page generated in origin-request gets no
    origin-response, so origin-request sets the variant cookie)."""
    events = set(lambda_events(pattern.type))
    if pattern.type == "ab-test":
        answered = app is not None and any(
            o.type == "esi-compose" and "lambda-edge" in app.pattern_targets(o)
            and any(routes.contains(a, b) or routes.contains(b, a) for a in pattern.routes for b in o.routes)
            for o in app.patterns)
        if answered or any(v.origin or v.path for v in pattern.variants):
            events.add("origin-request")
    return tuple(e for e in LAMBDA_EVENTS if e in events)


def as_table() -> list[dict]:
    """The matrix as rows, for `edgeport capabilities` and the docs."""
    return [
        {"pattern": p, "target": t, "supported": c.supported, "how": c.how, "events": list(c.events)}
        for (p, t), c in MATRIX.items()
    ]
