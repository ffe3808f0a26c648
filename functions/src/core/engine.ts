// The platform-neutral edge engine: pick the patterns whose routes match, run
// them in chain order, and tell the adapter what to do. Adapters translate their
// platform's request into a Web Request and this outcome back into the platform's
// terms (fetch / next() / CloudFront records).
import { chainFor, type PatternBase, type RuntimeConfig } from "./config";
import type { EdgeContext, Phase, StepDef, StepTable } from "./context";
import { entryHeaders, jsonResponse, withHeaders } from "./http";
import { canonicalPath } from "./path";
import type { Platform } from "./platform";

export { DEFAULT_ORIGIN } from "./context";
export type { EdgeContext, Phase } from "./context";

/**
 * What the adapter does with a request. Every request that reaches the edge is either answered here or
 * forwarded with the canonical path and the entry-filtered headers - also when no pattern covers it.
 */
export type EdgeOutcome =
  | { kind: "respond"; response: Response }
  | { kind: "forward"; url: URL; headers: Headers; origin?: string; responseHeaders: Headers };

export function internalError(): Response {
  return jsonResponse(503, { error: "edge_unavailable" }, { "cache-control": "no-store", "retry-after": "1" });
}

function badPath(reason: string): Response {
  return jsonResponse(400, { error: "bad_path", detail: `the path has ${reason}` }, { "cache-control": "no-store" });
}

export interface RunOptions {
  phase?: Phase;
  country?: string | null;
}

/** Run the chain of `cfg`'s patterns that cover the request, each through its step in `steps` (patterns/index.ts). */
export async function runEdge<P extends PatternBase>(
  request: Request, cfg: RuntimeConfig<P>, platform: Platform, steps: StepTable<P>, opts: RunOptions = {},
): Promise<EdgeOutcome> {
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
      // The table is keyed by type, so the row found takes this pattern's own config; TypeScript cannot correlate
      // the key with the row's parameter type, hence the widening cast.
      const step = (steps as unknown as Record<string, StepDef<P> | undefined>)[pattern.type];
      if (!step) throw new Error(`pattern type ${pattern.type} is not in this bundle`);
      if (step.methods && !step.methods.includes(request.method)) continue;
      const res = await step.run(ctx, pattern);
      // A WebSocket upgrade answer is returned as it is (rebuilding it would drop the socket).
      if (res) return { kind: "respond", response: res.status === 101 ? res : withHeaders(res, ctx.responseHeaders) };
    }
    return { kind: "forward", url: ctx.url, headers: ctx.headers, origin: ctx.origin, responseHeaders: ctx.responseHeaders };
  } catch (e) {
    // Fail closed: a broken edge never lets the request through.
    // The stack goes to the platform's logs (and, mapped to the sources, to `edgeport dev`'s output).
    console.error(`edgeport: internal error: ${(e as Error)?.stack ?? e}`);
    return { kind: "respond", response: internalError() };
  }
}
