// Cloudflare Workers adapter (ES module worker). All Cloudflare runtime knowledge
// lives here: config is declared in the module by the build (__EDGEPORT_CONFIG__, as on
// the other targets: no 5 KB per-variable limit of a JSON binding), secrets as
// secret_text bindings, live settings in the EDGEPORT_LIVE KV namespace, the ESI
// shell in caches.default, and rooms in the EdgeportRoom Durable Object class (room-object.ts; the engine
// of a stack with rooms is built from with-rooms.ts, which exports it beside this module's handler).
import { DEFAULT_ORIGIN, internalError } from "../../src/core/engine";
import { runPatterns, type EdgeConfig } from "../../src/patterns";
import { CFG, ROOM_HEADER } from "./config";
import { forwardable, withHeaders } from "../../src/core/http";
import { originUrl } from "../../src/core/origin";
import type { Platform } from "../../src/core/platform";


export interface Env {
  EDGEPORT_LIVE?: KVNamespace;
  EDGEPORT_ROOMS?: DurableObjectNamespace;
  [binding: string]: unknown;
}


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
