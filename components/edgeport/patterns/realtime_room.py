"""realtime-room: WebSocket rooms with broadcast, presence and limits, one stateful object per room.

The declaration, its rules, the runtime config the edge step (functions/src/patterns/room.ts) reads, and the
conformance placeholders. Only a platform with per-room state and WebSocket termination can host it.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from ..errors import PlaceholderError
from ..spec.types import OriginUrl
from .base import PatternBase, PatternKind, Placeholders, Requirement, no, yes


class RealtimeRoom(PatternBase):
    """WebSocket rooms on Durable Objects (Cloudflare only): broadcast, presence and limits."""

    type: Literal["realtime-room"]
    max_message_bytes: int = Field(default=4096, ge=1, le=1048576)
    max_connections: int = Field(default=100, ge=1, le=32768)
    messages_per_second: float = Field(default=10, gt=0, le=1000)
    burst: int | None = Field(default=None, ge=1, le=10000, description="messages a connection may send at once (default 2 s worth)")
    allowed_origins: list[OriginUrl] = []


def room_burst(p: RealtimeRoom) -> int:
    return p.burst or max(1, math.ceil(2 * p.messages_per_second))


_VALUES = {"max_message_bytes": lambda p: p.max_message_bytes, "max_connections": lambda p: p.max_connections,
           "burst": room_burst, "messages_per_second": lambda p: p.messages_per_second,
           "allowed_origin": lambda p: p.allowed_origins[0] if p.allowed_origins else "https://conformance.example",
           "disallowed_origin": lambda p: "https://not-allowed.conformance.invalid"}


class Kind(PatternKind):
    type = "realtime-room"
    model = RealtimeRoom
    order = 50
    component = "RealtimeRoom"
    summary = "WebSocket rooms on Durable Objects (Cloudflare only): broadcast, presence and limits."
    hosts = {
        "cloudflare": yes("one Durable Object per room (WebSocket Hibernation API)"),
        "lambda-edge": no("Lambda@Edge cannot terminate WebSockets (Upgrade is a header CloudFront forbids functions to "
                          "touch) and has no per-room state"),
        "vercel": no("Routing Middleware cannot hold WebSocket connections or per-room state"),
    }
    # Replacing the Worker deletes every room's Durable Object storage.
    stateful = True
    needs = frozenset({"durable-objects"})
    placeholders = Placeholders(
        names=tuple(_VALUES),
        requires={"allowed-origins": Requirement(lambda p: bool(p.allowed_origins), "declares no allowedOrigins")})


    def overlap_conflict(self, a, b):
        return "each would take the WebSocket upgrade"
    def validate(self, p, path, problems, app):
        for j, r in enumerate(p.routes):
            if not r.endswith("/*"):
                problems.add(f"{path}.routes[{j}]", f"room route {r!r} must end in '/*'",
                             "the room id is the path segment after the prefix, e.g. /rooms/* serves /rooms/<id>")

    def runtime(self, p, app, live_key):
        return {"key": p.stable_id, "maxMessageBytes": p.max_message_bytes, "maxConnections": p.max_connections,
                "messagesPerSecond": p.messages_per_second, "burst": room_burst(p), "allowedOrigins": list(p.allowed_origins)}

    def lookup(self, ctx, name, scope):
        if name in _VALUES:
            return _VALUES[name](ctx.pattern)
        raise PlaceholderError(f"unknown placeholder {{{name}}} for realtime-room")


KIND = Kind()
