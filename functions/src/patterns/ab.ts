// ab-test: sticky, weighted assignment to a declared variant, then a path rewrite
// or a per-variant origin. Ratios can be changed live in the platform's store;
// the declared ratios apply whenever the store is empty, invalid, slow or down.
import type { PatternBase } from "../core/config";
import type { EdgeContext } from "../core/engine";
import { parseCookies, withCookie } from "../core/http";
import { liveValue } from "../core/live";

export interface Variant {
  name: string;
  weight: number;
  /** path template: "{path}" is the request path; without it the path is replaced */
  path?: string;
  origin?: string;
}

export interface AbConfig extends PatternBase {
  type: "ab-test";
  variants: Variant[];
  cookie: string;
  cookieMaxAge: number;
  /** header telling the origin the variant */
  header: string;
  live?: { key: string; ttl: number; timeoutMs: number };
}

/** Weights from the live store if valid, else the declared ones. */
export function parseLiveWeights(raw: string | null, cfg: AbConfig): Map<string, number> | null {
  if (raw === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  const declared = new Set(cfg.variants.map((x) => x.name));
  const out = new Map<string, number>();
  let total = 0;
  for (const [k, w] of Object.entries(v as Record<string, unknown>)) {
    if (!declared.has(k) || typeof w !== "number" || !Number.isFinite(w) || w < 0) return null;
    out.set(k, w);
    total += w;
  }
  return total > 0 ? out : null;
}

function pick(weights: [string, number][]): string {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const r = (crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32) * total;
  let acc = 0;
  for (const [name, w] of weights) {
    acc += w;
    if (r < acc) return name;
  }
  return weights.filter(([, w]) => w > 0).at(-1)![0];
}

/** A variant's path template applied to the request path: "{path}" is replaced literally (split/join: no "$&"). */
export function rewritePath(template: string, path: string): string {
  return template.includes("{path}") ? template.split("{path}").join(path).replace(/\/{2,}/g, "/") : template;
}

export async function abStep(ctx: EdgeContext, cfg: AbConfig): Promise<void> {
  const cookies = parseCookies(ctx.request.headers.get("cookie"));
  const sticky = cookies.get(cfg.cookie);
  let variant = cfg.variants.find((v) => v.name === sticky);
  if (ctx.phase !== "origin-request") {
    ctx.headers.delete(cfg.header);
    if (!variant) {
      const live = cfg.live ? parseLiveWeights(await liveValue(ctx.platform, cfg.live.key, cfg.live.ttl * 1000, cfg.live.timeoutMs), cfg) : null;
      const weights: [string, number][] = cfg.variants.map((v) => [v.name, live ? (live.get(v.name) ?? 0) : v.weight]);
      const chosen = pick(weights);
      variant = cfg.variants.find((v) => v.name === chosen)!;
      ctx.responseHeaders.append(
        "set-cookie",
        `${cfg.cookie}=${variant.name}; Path=/; Max-Age=${cfg.cookieMaxAge}; Secure; HttpOnly; SameSite=Lax`,
      );
      // The origin (and a cache keyed on the cookie) sees the assignment on the first visit too.
      ctx.headers.set("cookie", withCookie(ctx.headers.get("cookie"), cfg.cookie, variant.name));
    }
    ctx.headers.set(cfg.header, variant.name);
    if (variant.path) ctx.url.pathname = rewritePath(variant.path, ctx.url.pathname);
  }
  if (ctx.phase !== "viewer-request" && variant?.origin) ctx.origin = variant.origin;
}
