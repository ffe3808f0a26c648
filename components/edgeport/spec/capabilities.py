"""The capability matrix: pattern x target -> supported, how, or why not.

This table is the one place that says which target can host which pattern and,
on Lambda@Edge, which CloudFront triggers a pattern needs. Validation, the build
(which bundles to emit) and the Pulumi components (which associations to make)
all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGETS = ("cloudflare", "lambda-edge", "vercel")
PATTERN_TYPES = ("geo-route", "jwt-auth", "ab-test", "esi-compose", "realtime-room")

# CloudFront trigger order for one request.
LAMBDA_EVENTS = ("viewer-request", "origin-request", "origin-response", "viewer-response")


@dataclass(frozen=True)
class Capability:
    supported: bool
    how: str
    events: tuple[str, ...] = ()  # Lambda@Edge triggers this pattern runs in
    implemented: bool = True  # the runtime for this cell exists in this release


def _yes(how: str, *events: str, implemented: bool = True) -> Capability:
    return Capability(True, how, tuple(events), implemented)


def _no(why: str) -> Capability:
    return Capability(False, why)


MATRIX: dict[tuple[str, str], Capability] = {
    ("jwt-auth", "cloudflare"): _yes("Worker on the zone routes; HMAC key as a secret_text binding, public keys in the JSON config binding"),
    ("jwt-auth", "lambda-edge"): _yes(
        "viewer-request trigger; HMAC key fetched from Secrets Manager (us-east-1) at cold start and cached, public keys baked in",
        "viewer-request",
    ),
    ("jwt-auth", "vercel"): _yes("Routing Middleware; HMAC key as a sensitive environment variable; next() with the verified claims"),
    ("ab-test", "cloudflare"): _yes("Worker; live ratios in Workers KV", implemented=False),
    ("ab-test", "lambda-edge"): _yes(
        "viewer-request assigns the variant, viewer-response sets the cookie; live ratios in an SSM parameter (us-east-1)",
        "viewer-request",
        "viewer-response",
        implemented=False,
    ),
    ("ab-test", "vercel"): _yes("Routing Middleware; live ratios in Edge Config", implemented=False),
    ("geo-route", "cloudflare"): _yes("Worker reads request.cf.country and fetches the mapped origin", implemented=False),
    ("geo-route", "lambda-edge"): _yes(
        "origin-request trigger switches the custom origin; an origin request policy forwards CloudFront-Viewer-Country "
        "(viewer-request cannot see it)",
        "origin-request",
        implemented=False,
    ),
    ("geo-route", "vercel"): _yes("Routing Middleware reads x-vercel-ip-country and rewrites to the mapped origin", implemented=False),
    ("esi-compose", "cloudflare"): _yes("Worker streams the cached shell and injects fragments as they arrive", implemented=False),
    ("esi-compose", "lambda-edge"): _yes(
        "origin-request generated response (no streaming; 1 MB limit, falls back to the origin page)",
        "origin-request",
        implemented=False,
    ),
    ("esi-compose", "vercel"): _yes("Routing Middleware streams the shell and injects fragments", implemented=False),
    ("realtime-room", "cloudflare"): _yes("one Durable Object per room (WebSocket Hibernation API)", implemented=False),
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


def as_table() -> list[dict]:
    """The matrix as rows, for `edgeport capabilities` and the docs."""
    return [
        {"pattern": p, "target": t, "supported": c.supported, "how": c.how, "events": list(c.events), "implemented": c.implemented}
        for (p, t), c in MATRIX.items()
    ]
