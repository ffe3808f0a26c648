// Vercel Routing Middleware adapter. Config is inlined at build time (deployments
// are immutable), secrets come from sensitive environment variables, live settings
// from Edge Config (EDGE_CONFIG connection string), the country from
// x-vercel-ip-country, and "continue to origin" is next() — or rewrite() when a
// pattern changed the path or the origin (both written by middleware.ts, as
// @vercel/functions writes them). The `config.matcher` export is appended
// by the build as a literal so Vercel can read it statically.
import { DEFAULT_ORIGIN } from "../../src/core/engine";
import { runPatterns, type EdgeConfig } from "../../src/patterns";
import { sameHeaders } from "../../src/core/http";
import { originUrl } from "../../src/core/origin";
import type { Platform } from "../../src/core/platform";
import { goOn } from "./middleware";

declare const __EDGEPORT_CONFIG__: EdgeConfig;
declare const process: { env: Record<string, string | undefined> };

const CFG: EdgeConfig = __EDGEPORT_CONFIG__;

/**
 * One Edge Config item. The REST read API is a single GET, so it is called directly
 * rather than through @vercel/edge-config (smaller bundle, and the connection string
 * may point at a local stand-in during development).
 */
async function edgeConfigItem(key: string): Promise<string | null> {
  const conn = process.env.EDGE_CONFIG;
  if (!conn) throw new Error("EDGE_CONFIG is not set");
  const u = new URL(conn);
  const token = u.searchParams.get("token");
  const res = await fetch(`${u.origin}${u.pathname}/item/${encodeURIComponent(key)}?version=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`Edge Config answered ${res.status}`);
  const value: unknown = await res.json();
  return typeof value === "string" ? value : JSON.stringify(value);
}

const platform: Platform = {
  async secret(name) {
    const ref = CFG.secrets[name];
    const v = ref ? process.env[ref.env] : undefined;
    if (!v) throw new Error(`environment variable for secret ${name} is missing`);
    return v;
  },
  live: edgeConfigItem,
  now: () => Date.now(),
};

export default async function middleware(request: Request): Promise<Response> {
  const out = await runPatterns(request, CFG, platform, { country: request.headers.get("x-vercel-ip-country") });
  if (out.kind === "respond") return out.response;
  // The request headers are replaced only when the edge changed them (x-middleware-override-headers).
  const replaced = sameHeaders(request.headers, out.headers) ? undefined : out.headers;
  const original = new URL(request.url);
  const origin = out.origin ?? DEFAULT_ORIGIN;
  if (origin === DEFAULT_ORIGIN && out.url.pathname === original.pathname && out.url.search === original.search) {
    return goOn(null, out.responseHeaders, replaced); // next(): vercel.json sends it on to the default origin
  }
  // A changed path (the canonical spelling, an A/B variant) or another origin: rewrite to the declared origin.
  return goOn(originUrl(CFG, origin, out.url.pathname, out.url.search), out.responseHeaders, replaced);
}
