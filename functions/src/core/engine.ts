// The platform-neutral edge engine: pick the patterns whose routes match, run
// them in chain order, and tell the adapter what to do. Adapters translate their
// platform's request into a Web Request and this outcome back into the platform's
// terms (fetch / next() / CloudFront records).
import { abStep } from "../patterns/ab";
import { ESI_METHODS, esiStep } from "../patterns/esi";
import { geoStep } from "../patterns/geo";
import { jwtStep } from "../patterns/jwt";
import { roomStep } from "../patterns/room";
import { chainFor, type PatternConfig, type RuntimeConfig } from "./config";
import { entryHeaders, withHeaders } from "./http";
import { canonicalPath } from "./path";
import type { Platform } from "./platform";

/**
 * Where in the request's life the engine runs. Cloudflare and Vercel run every
 * pattern at once ("all"); Lambda@Edge splits them over CloudFront triggers
 * (origin-response: only response headers count, the request goes nowhere).
 */
export type Phase = "all" | "viewer-request" | "origin-request" | "origin-response";

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

/**
 * What the adapter does with a request. Every request that reaches the edge is either answered here or
 * forwarded with the canonical path and the entry-filtered headers - also when no pattern covers it.
 */
export type EdgeOutcome =
  | { kind: "respond"; response: Response }
  | { kind: "forward"; url: URL; headers: Headers; origin?: string; responseHeaders: Headers };

type Step = (ctx: EdgeContext, cfg: any) => Promise<Response | void>;

/**
 * A pattern's step and the request methods it acts on (each pattern module declares its own; absent: every
 * method). A request with another method skips the pattern as if its routes did not cover the path.
 */
interface StepDef {
  run: Step;
  methods?: readonly string[];
}

const STEPS: Record<PatternConfig["type"], StepDef> = {
  "geo-route": { run: geoStep },
  "jwt-auth": { run: jwtStep },
  "ab-test": { run: abStep },
  "esi-compose": { run: esiStep, methods: ESI_METHODS },
  "realtime-room": { run: roomStep },
};

export const DEFAULT_ORIGIN = "default";

export function internalError(): Response {
  return new Response(JSON.stringify({ error: "edge_unavailable" }), {
    status: 503,
    headers: { "content-type": "application/json", "cache-control": "no-store", "retry-after": "1" },
  });
}

function badPath(reason: string): Response {
  return new Response(JSON.stringify({ error: "bad_path", detail: `the path has ${reason}` }), {
    status: 400,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

export interface RunOptions {
  phase?: Phase;
  country?: string | null;
}

export async function runEdge(request: Request, cfg: RuntimeConfig, platform: Platform, opts: RunOptions = {}): Promise<EdgeOutcome> {
  try {
    // One canonical path for matching and for the origin (core/path.ts); what cannot be made canonical is refused.
    const url = new URL(request.url);
    const canonical = canonicalPath(url.pathname);
    if (!canonical.ok) return { kind: "respond", response: badPath(canonical.reason) };
    url.pathname = canonical.path;
    const ctx: EdgeContext = {
      request, url, headers: entryHeaders(request.headers, cfg.entry), responseHeaders: new Headers(),
      phase: opts.phase ?? "all", country: opts.country, platform, cfg,
    };
    const carried = ctx.phase === "origin-response" ? request.headers : undefined;
    for (const pattern of chainFor(cfg, canonical.path, carried)) {
      const step = STEPS[pattern.type];
      if (!step) throw new Error(`pattern type ${(pattern as PatternConfig).type} is not in this bundle`);
      if (step.methods && !step.methods.includes(request.method)) continue;
      const res = await step.run(ctx, pattern);
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
