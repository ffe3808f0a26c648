// The runtime configuration: what the Python spec layer emits for one bundle
// (one target, and on Lambda@Edge one trigger). Cloudflare receives it as a JSON
// binding; Vercel and Lambda@Edge get it inlined at build time.
import type { AbConfig } from "../patterns/ab";
import type { EsiConfig } from "../patterns/esi";
import type { GeoConfig } from "../patterns/geo";
import type { JwtConfig } from "../patterns/jwt";
import type { RoomConfig } from "../patterns/room";

/** How a route is matched against the request path (computed by the spec layer). */
export type RouteMatcher = { exact: string } | { prefix: string };

export interface PatternBase {
  name: string;
  routes: RouteMatcher[];
}

export type PatternConfig = JwtConfig | AbConfig | GeoConfig | EsiConfig | RoomConfig;

export interface SecretRef {
  /** binding / environment variable name (Cloudflare, Vercel, local) */
  env: string;
  /** Secrets Manager secret id in us-east-1 (Lambda@Edge only) */
  awsSecretId?: string;
}

export interface RuntimeConfig {
  version: 1;
  app: string;
  stack: string;
  target: "cloudflare" | "vercel" | "lambda-edge";
  /** the CloudFront trigger this bundle serves (Lambda@Edge only) */
  event?: "viewer-request" | "origin-request" | "viewer-response";
  /** patterns in chain order; each runs when one of its routes matches */
  patterns: PatternConfig[];
  secrets: Record<string, SecretRef>;
  origins: Record<string, string>;
  /** seconds a fetched secret stays cached per container (Lambda@Edge) */
  secretTtl?: number;
  /** every ISO 3166-1 alpha-2 code, space-separated (present when a geo-route runs in this bundle) */
  countries?: string;
}

export function routeMatches(m: RouteMatcher, path: string): boolean {
  return "exact" in m ? path === m.exact : path.startsWith(m.prefix);
}

/** The patterns whose routes match the path, in chain order. */
export function chainFor(cfg: RuntimeConfig, path: string): PatternConfig[] {
  return cfg.patterns.filter((p) => p.routes.some((r) => routeMatches(r, path)));
}
