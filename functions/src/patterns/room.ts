// realtime-room: the edge side of one WebSocket room per room id. The Worker checks
// the upgrade (method, Upgrade header, Origin allowlist, room id) before anything
// reaches a Durable Object; the per-room object (functions/platforms/cloudflare/adapter.ts) enforces
// message size, connection count and per-connection rate with the helpers below.
import type { PatternBase } from "../core/config";
import type { EdgeContext } from "../core/context";
import { routeMatches } from "../core/config";
import { jsonResponse } from "../core/http";

export interface RoomConfig extends PatternBase {
  type: "realtime-room";
  /** the pattern's first name (previousNames[0] or name): room objects are named after it */
  key: string;
  maxMessageBytes: number;
  maxConnections: number;
  messagesPerSecond: number;
  burst: number;
  allowedOrigins: string[];
}

/** Is this pattern config a room? (What a platform's stateful object uses to find its room's settings.) */
export function isRoom(p: PatternBase): p is RoomConfig {
  return p.type === "realtime-room";
}

export const CLOSE = {
  normal: 1000,
  policy: 1008, // rate limit exceeded
  tooBig: 1009,
  tryAgainLater: 1013, // room full
} as const;

/** Close codes a server may not send (1005, 1006, 1015) become 1000. */
export function replyCode(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 || code < 1000 || code > 4999 ? CLOSE.normal : code;
}

/** Token bucket: `tokens` refill at `rate` per second up to `burst`. */
export function takeToken(state: { tokens: number; at: number }, now: number, rate: number, burst: number): boolean {
  state.tokens = Math.min(burst, state.tokens + ((now - state.at) / 1000) * rate);
  state.at = now;
  if (state.tokens < 1) return false;
  state.tokens -= 1;
  return true;
}

export function messageBytes(data: string | ArrayBuffer): number {
  return typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

function deny(status: number, error: string): Response {
  return jsonResponse(status, { error }, { "cache-control": "no-store" });
}

export async function roomStep(ctx: EdgeContext, cfg: RoomConfig): Promise<Response> {
  const path = ctx.url.pathname;
  const route = cfg.routes.find((r) => routeMatches(r, path));
  const rest = route && "prefix" in route ? path.slice(route.prefix.length) : "";
  const room = rest.split("/")[0];
  if (!ROOM_ID.test(room) || rest.length > room.length + 1) return deny(404, "unknown_room");
  if (ctx.request.method !== "GET" || ctx.request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return jsonResponse(426, { error: "websocket_required" }, { upgrade: "websocket" });
  }
  if (cfg.allowedOrigins.length && !cfg.allowedOrigins.includes(ctx.request.headers.get("origin") ?? "")) return deny(403, "origin_not_allowed");
  if (!ctx.platform.room) return deny(501, "rooms_unsupported");
  // The object's name uses the pattern's first name (cfg.key), so a renamed pattern keeps its rooms' storage.
  return ctx.platform.room(cfg.name, `${cfg.key}:${room}`, ctx.request);
}
