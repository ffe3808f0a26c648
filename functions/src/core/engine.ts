// The platform-neutral edge engine: pick the patterns whose routes match, run
// them in chain order, and tell the adapter what to do. Adapters translate their
// platform's request into a Web Request and this outcome back into the platform's
// terms (fetch / next() / CloudFront request record).
import { jwtStep } from "../patterns/jwt";
import { chainFor, type PatternConfig, type RuntimeConfig } from "./config";
import type { Platform } from "./platform";

export interface EdgeContext {
  /** the incoming request (never mutated) */
  request: Request;
  /** where the request goes next; patterns may rewrite the path */
  url: URL;
  /** the headers sent on to the origin; patterns strip and add */
  headers: Headers;
}

export type EdgeOutcome =
  | { kind: "respond"; response: Response }
  | { kind: "forward"; url: URL; headers: Headers }
  | { kind: "pass" };

type Step = (ctx: EdgeContext, cfg: any, platform: Platform) => Promise<Response | void>;

const STEPS: Record<PatternConfig["type"], Step> = {
  "jwt-auth": jwtStep,
};

export function internalError(): Response {
  return new Response(JSON.stringify({ error: "edge_unavailable" }), {
    status: 503,
    headers: { "content-type": "application/json", "cache-control": "no-store", "retry-after": "1" },
  });
}

/** The request path as the origin will see it: dot segments resolved (also %2e forms). */
export function normalisedPath(url: URL): string {
  return url.pathname;
}

export async function runEdge(request: Request, cfg: RuntimeConfig, platform: Platform): Promise<EdgeOutcome> {
  try {
    const url = new URL(request.url);
    const chain = chainFor(cfg, normalisedPath(url));
    if (chain.length === 0) return { kind: "pass" };
    const ctx: EdgeContext = { request, url, headers: new Headers(request.headers) };
    for (const pattern of chain) {
      const step = STEPS[pattern.type];
      if (!step) throw new Error(`pattern type ${pattern.type} is not in this bundle`);
      const res = await step(ctx, pattern, platform);
      if (res) return { kind: "respond", response: res };
    }
    return { kind: "forward", url: ctx.url, headers: ctx.headers };
  } catch (e) {
    // Fail closed: a broken edge never lets the request through.
    console.error(`edgeport: internal error: ${(e as Error)?.message ?? e}`);
    return { kind: "respond", response: internalError() };
  }
}
