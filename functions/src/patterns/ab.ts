// ab-test: sticky, weighted assignment to a declared variant, then a path rewrite
// or a per-variant origin. Ratios can be changed live in the platform's store;
// the declared ratios apply whenever the store is empty, invalid, slow or down.
import type { PatternBase } from "../core/config";
import type { EdgeContext } from "../core/context";
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

/** A uniform draw in [0, 1) from the platform's CSPRNG (Math.random is not guaranteed unpredictable). */
const uniform = (): number => crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;

/** A variant name drawn in proportion to its weight; a weight of 0 is never drawn. `random` is for tests. */
export function pick(weights: [string, number][], random: () => number = uniform): string {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const r = random() * total;
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

function variantCookie(cfg: AbConfig, variant: Variant): string {
  return `${cfg.cookie}=${variant.name}; Path=/; Max-Age=${cfg.cookieMaxAge}; Secure; HttpOnly; SameSite=Lax`;
}

async function assign(ctx: EdgeContext, cfg: AbConfig): Promise<Variant> {
  const live = cfg.live ? parseLiveWeights(await liveValue(ctx.platform, cfg.live.key, cfg.live.ttl * 1000, cfg.live.timeoutMs), cfg) : null;
  const chosen = pick(cfg.variants.map((v) => [v.name, live ? (live.get(v.name) ?? 0) : v.weight]));
  return cfg.variants.find((v) => v.name === chosen)!;
}

/**
 * Assign (viewer side) and route (origin side). Where the whole chain runs at once the first visit's cookie
 * rides on the response whatever its status. On Lambda@Edge viewer-request assigns and puts the variant in the
 * request's Cookie header - the cache key and the origin see it -, origin-request rewrites the path and picks
 * the origin (it matches the path the viewer asked for), and the origin side sets the cookie:
 * origin-response runs for every answer from the origin, errors included, and CloudFront keeps the Set-Cookie
 * with a cached object and sends it on every hit of that key (variant included); origin-request covers the
 * answers it generates itself (composed pages), for which origin-response does not run. See docs/targets.md.
 */
export async function abStep(ctx: EdgeContext, cfg: AbConfig): Promise<void> {
  const sticky = parseCookies(ctx.request.headers.get("cookie")).get(cfg.cookie);
  let variant = cfg.variants.find((v) => v.name === sticky);
  if (ctx.phase === "all" || ctx.phase === "viewer-request") {
    if (!variant) {
      variant = await assign(ctx, cfg);
      if (ctx.phase === "all") ctx.responseHeaders.append("set-cookie", variantCookie(cfg, variant));
      // The origin (and a cache keyed on the cookie) sees the assignment on the first visit too.
      ctx.headers.set("cookie", withCookie(ctx.headers.get("cookie"), cfg.cookie, variant.name));
    }
    ctx.headers.set(cfg.header, variant.name);
  }
  if ((ctx.phase === "all" || ctx.phase === "origin-request") && variant) {
    if (variant.path) ctx.url.pathname = rewritePath(variant.path, ctx.url.pathname);
    if (variant.origin) ctx.origin = variant.origin;
  }
  if ((ctx.phase === "origin-request" || ctx.phase === "origin-response") && variant) {
    ctx.responseHeaders.append("set-cookie", variantCookie(cfg, variant));
  }
}
