// The platform-neutral edge engine: pick the patterns whose routes match, run
// them in chain order, and tell the adapter what to do. Adapters translate their
// platform's request into a Web Request and this outcome back into the platform's
// terms (fetch / next() / CloudFront records).
import { abStep } from "../patterns/ab";
import { esiStep } from "../patterns/esi";
import { geoStep } from "../patterns/geo";
import { jwtStep } from "../patterns/jwt";
import { roomStep } from "../patterns/room";
import { chainFor, type PatternConfig, type RuntimeConfig } from "./config";
import { withHeaders } from "./http";
import type { Platform } from "./platform";

/**
 * Where in the request's life the engine runs. Cloudflare and Vercel run every
 * pattern at once ("all"); Lambda@Edge splits them over CloudFront triggers.
 */
export type Phase = "all" | "viewer-request" | "origin-request";

export interface EdgeContext {
  /** the incoming request (never mutated) */
  request: Request;
  /** where the request goes next; patterns may rewrite the path */
  url: URL;
  /** the headers sent on to the origin; patterns strip and add */
  headers: Headers;
  /** name of the origin a pattern chose (declared in cfg.origins); undefined = the default origin */
  origin?: string;
  /** headers added to the response the client gets (e.g. Set-Cookie) */
  responseHeaders: Headers;
  phase: Phase;
  /** the viewer's country as the platform reports it (raw) */
  country: string | null | undefined;
  platform: Platform;
  cfg: RuntimeConfig;
}

export type EdgeOutcome =
  | { kind: "respond"; response: Response }
  | { kind: "forward"; url: URL; headers: Headers; origin?: string; responseHeaders: Headers }
  | { kind: "pass" };

type Step = (ctx: EdgeContext, cfg: any) => Promise<Response | void>;

const STEPS: Record<PatternConfig["type"], Step> = {
  "geo-route": geoStep,
  "jwt-auth": jwtStep,
  "ab-test": abStep,
  "esi-compose": esiStep,
  "realtime-room": roomStep,
};

export const DEFAULT_ORIGIN = "default";

export function internalError(): Response {
  return new Response(JSON.stringify({ error: "edge_unavailable" }), {
    status: 503,
    headers: { "content-type": "application/json", "cache-control": "no-store", "retry-after": "1" },
  });
}

export interface RunOptions {
  phase?: Phase;
  country?: string | null;
}

export async function runEdge(request: Request, cfg: RuntimeConfig, platform: Platform, opts: RunOptions = {}): Promise<EdgeOutcome> {
  try {
    // The path is resolved (dot segments, also %2e forms) before routes are matched.
    const url = new URL(request.url);
    const chain = chainFor(cfg, url.pathname);
    if (chain.length === 0) return { kind: "pass" };
    const ctx: EdgeContext = {
      request, url, headers: new Headers(request.headers), responseHeaders: new Headers(),
      phase: opts.phase ?? "all", country: opts.country, platform, cfg,
    };
    for (const pattern of chain) {
      const step = STEPS[pattern.type];
      if (!step) throw new Error(`pattern type ${(pattern as PatternConfig).type} is not in this bundle`);
      const res = await step(ctx, pattern);
      // A WebSocket upgrade answer is returned as it is (rebuilding it would drop the socket).
      if (res) return { kind: "respond", response: res.status === 101 ? res : withHeaders(res, ctx.responseHeaders) };
    }
    return { kind: "forward", url: ctx.url, headers: ctx.headers, origin: ctx.origin, responseHeaders: ctx.responseHeaders };
  } catch (e) {
    // Fail closed: a broken edge never lets the request through.
    console.error(`edgeport: internal error: ${(e as Error)?.message ?? e}`);
    return { kind: "respond", response: internalError() };
  }
}
