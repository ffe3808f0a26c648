// Cloudflare Workers adapter (ES module worker). All Cloudflare runtime knowledge
// lives here: config is declared in the module by the build (__EDGEPORT_CONFIG__, as on
// the other targets: no 5 KB per-variable limit of a JSON binding), secrets as
// secret_text bindings, live settings in the EDGEPORT_LIVE KV namespace, the ESI
// shell in caches.default, and rooms in the EdgeportRoom Durable Object class.
import { DurableObject } from "cloudflare:workers";
import { DEFAULT_ORIGIN, internalError } from "../../src/core/engine";
import { runPatterns, type EdgeConfig } from "../../src/patterns";
import { forwardable, withHeaders } from "../../src/core/http";
import { originUrl } from "../../src/core/origin";
import type { Platform } from "../../src/core/platform";
import { CLOSE, isRoom, messageBytes, replyCode, takeToken, type RoomConfig } from "../../src/patterns/room";

declare const __EDGEPORT_CONFIG__: EdgeConfig;
const CFG: EdgeConfig = __EDGEPORT_CONFIG__;

export interface Env {
  EDGEPORT_LIVE?: KVNamespace;
  EDGEPORT_ROOMS?: DurableObjectNamespace;
  [binding: string]: unknown;
}

const ROOM_HEADER = "x-edgeport-room";

function platformFor(env: Env, cfg: EdgeConfig, ctx: ExecutionContext): Platform {
  return {
    async secret(name) {
      const ref = cfg.secrets[name];
      const v = ref ? env[ref.env] : undefined;
      if (typeof v !== "string" || v === "") throw new Error(`binding for secret ${name} is missing`);
      return v;
    },
    async live(key) {
      if (!env.EDGEPORT_LIVE) throw new Error("EDGEPORT_LIVE KV binding is missing");
      return env.EDGEPORT_LIVE.get(key);
    },
    now: () => Date.now(),
    waitUntil: (p) => ctx.waitUntil(p),
    cache: {
      match: (url) => caches.default.match(url),
      put: (url, res) => caches.default.put(url, res),
    },
    async room(pattern, id, request) {
      if (!env.EDGEPORT_ROOMS) throw new Error("EDGEPORT_ROOMS Durable Object binding is missing");
      const stub = env.EDGEPORT_ROOMS.get(env.EDGEPORT_ROOMS.idFromName(id));
      const headers = new Headers(request.headers);
      headers.set(ROOM_HEADER, pattern);
      return stub.fetch(new Request(request, { headers }));
    },
  };
}

function configOf(_env: Env): EdgeConfig | null {
  if (!CFG || CFG.version !== 1) {
    console.error("edgeport: config of an unknown version");
    return null;
  }
  return CFG;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const cfg = configOf(env);
    if (!cfg) return internalError();
    const out = await runPatterns(request, cfg, platformFor(env, cfg, ctx), { country: (request.cf?.country as string | undefined) ?? null });
    if (out.kind === "respond") return out.response;
    const target = originUrl(cfg, out.origin ?? DEFAULT_ORIGIN, out.url.pathname, out.url.search);
    const headers = forwardable(out.headers);
    // A WebSocket handshake no room answered goes on to the origin: fetch() with "Upgrade: websocket" returns the
    // origin's 101 with the socket (developers.cloudflare.com/workers/examples/websockets/), passed back as it is.
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (upgrade) headers.set("upgrade", "websocket");
    const res = await fetch(target, { method: request.method, headers, body: request.body, redirect: "manual" });
    return upgrade && res.status === 101 ? res : withHeaders(res, out.responseHeaders);
  },
};

interface Attachment {
  id: string;
  pattern: string;
  tokens: number;
  at: number;
}

/** One Durable Object per room id: WebSocket Hibernation API, broadcast and presence. */
export class EdgeportRoom extends DurableObject<Env> {
  private config(pattern: string | null): RoomConfig | undefined {
    return CFG.patterns.find((p): p is RoomConfig => isRoom(p) && p.name === pattern);
  }

  private open(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  private send(ws: WebSocket, msg: unknown): void {
    try {
      ws.send(JSON.stringify(msg));
    } catch {
      // the peer went away between the readyState check and send
    }
  }

  private presence(): void {
    const peers = this.open();
    for (const ws of peers) this.send(ws, { type: "presence", count: peers.length });
  }

  async fetch(request: Request): Promise<Response> {
    const cfg = this.config(request.headers.get(ROOM_HEADER));
    if (!cfg) return internalError();
    const { 0: client, 1: server } = new WebSocketPair();
    if (this.open().length >= cfg.maxConnections) {
      // Not a member: a plain (non-hibernatable) socket that only carries the refusal.
      server.accept();
      server.close(CLOSE.tryAgainLater, "room is full");
      return new Response(null, { status: 101, webSocket: client });
    }
    this.ctx.acceptWebSocket(server);
    const a: Attachment = { id: crypto.randomUUID().slice(0, 8), pattern: cfg.name, tokens: cfg.burst, at: Date.now() };
    server.serializeAttachment(a);
    this.send(server, { type: "welcome", id: a.id });
    this.presence();
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // A socket the room closed (for a limit) may still deliver messages its client had in flight: the close only
    // starts the handshake (WebSocket.readyState is CLOSING until it completes; developers.cloudflare.com/workers/
    // runtime-apis/websockets/). Nothing from it is relayed any more.
    if (ws.readyState !== WebSocket.OPEN) return;
    const a = ws.deserializeAttachment() as Attachment;
    const cfg = this.config(a?.pattern);
    if (!cfg) {
      ws.close(1011, "room configuration missing");
      return;
    }
    if (messageBytes(message) > cfg.maxMessageBytes) {
      ws.close(CLOSE.tooBig, `messages are limited to ${cfg.maxMessageBytes} bytes`);
      this.presence();
      return;
    }
    if (!takeToken(a, Date.now(), cfg.messagesPerSecond, cfg.burst)) {
      ws.close(CLOSE.policy, `at most ${cfg.messagesPerSecond} messages per second`);
      this.presence();
      return;
    }
    ws.serializeAttachment(a);
    const data = typeof message === "string" ? message : new TextDecoder().decode(message);
    for (const peer of this.open()) if (peer !== ws) this.send(peer, { type: "message", from: a.id, data });
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Answer the close (a client close without a code arrives as 1005, which may not be sent back).
    try {
      ws.close(replyCode(code), reason);
    } catch {
      // already closed
    }
    this.presence();
  }

  async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, "error");
    } catch {
      // already closed
    }
    this.presence();
  }
}
