// The EdgeportRoom Durable Object class: one object per room id, WebSocket Hibernation API, broadcast and presence.
// Only an engine for a stack with realtime-room patterns carries it (entry with-rooms.ts).
import { DurableObject } from "cloudflare:workers";
import { internalError } from "../../src/core/engine";
import { CLOSE, isRoom, messageBytes, replyCode, takeToken, type RoomConfig } from "../../src/patterns/room";
import type { Env } from "./adapter";
import { CFG, ROOM_HEADER } from "./config";

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
