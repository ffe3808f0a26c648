// The runtime configuration: what the Python spec layer emits for one bundle
// (one target, and on Lambda@Edge one trigger). Cloudflare receives it as a JSON
// binding; Vercel and Lambda@Edge get it inlined at build time.
//
// The core knows patterns only as PatternBase: the union of the pattern configs and the
// concrete RuntimeConfig live in patterns/index.ts, so the core imports no pattern.
import { matchKey } from "./path";

/** A declared route (computed by the spec layer): an exact path, or a prefix for routes ending in "*". */
export type RouteMatcher = { exact: string } | { prefix: string };

export interface PatternBase {
  /** the pattern type; each pattern module narrows it to its own literal (patterns/index.ts keys the step table on it) */
  type: string;
  name: string;
  routes: RouteMatcher[];
  /**
   * A security boundary (jwt-auth): its routes cover every spelling an origin could route onto them (ASCII case,
   * a trailing "/" or "."). Other patterns match the canonical path as declared.
   */
  guard?: boolean;
  /** routes inside `routes` the pattern leaves alone (deny by default: jwt-auth on "/*" with public exceptions) */
  exclude?: RouteMatcher[];
  /**
   * Lambda@Edge origin-response: the request header the pattern's viewer-request part set for the origin. The
   * request origin-response sees is the one sent to the origin, whose path a pattern may have rewritten, so the
   * pattern is selected by this header there instead of by its routes.
   */
  carriedBy?: string;
}

export interface SecretRef {
  /** binding / environment variable name (Cloudflare, Vercel, local) */
  env: string;
  /** Secrets Manager secret id in us-east-1 (Lambda@Edge only) */
  awsSecretId?: string;
  /** Regions holding the secret, us-east-1 (the primary) first, then its replicas (Lambda@Edge only) */
  awsRegions?: string[];
  /**
   * For each known Region not holding the secret, the nearest one that does (Lambda@Edge only; the build's answers
   * from components/edgeport/spec/aws_regions.py, read by platforms/lambda-edge/aws-regions.ts)
   */
  awsNearest?: Record<string, string>;
}

/**
 * What every request loses on entry, before any pattern runs, whether or not a pattern matches: the headers
 * the edge sets for the origin (identity headers) in any spelling, and every x-edgeport-* header except those
 * an earlier CloudFront trigger of the same request set (`keep`, Lambda@Edge origin-request only).
 */
export interface EntryRules {
  strip: string[];
  keep: string[];
}

/** The runtime config over the pattern configs `P` (patterns/index.ts instantiates it with every pattern). */
export interface RuntimeConfig<P extends PatternBase = PatternBase> {
  version: 1;
  app: string;
  stack: string;
  /** the target name (the Python target registry's name; each platform's adapter is built for one) */
  target: string;
  /** the CloudFront trigger this bundle serves (Lambda@Edge only) */
  event?: "viewer-request" | "origin-request" | "origin-response";
  /** patterns in chain order; each runs when one of its routes matches */
  patterns: P[];
  secrets: Record<string, SecretRef>;
  origins: Record<string, string>;
  entry: EntryRules;
  /** seconds a fetched secret stays cached per container (Lambda@Edge) */
  secretTtl?: number;
  /** Lambda@Edge origin-request: each declared origin as an event origin object (targets/lambda_edge event_origin) */
  cfOrigins?: Record<string, unknown>;
  /** every ISO 3166-1 alpha-2 code, space-separated (present when a geo-route runs in this bundle) */
  countries?: string;
}

/** Does a route cover a canonical path, spelled as declared? (Exclusions always match this way: failing closed.) */
export function routeMatches(m: RouteMatcher, path: string): boolean {
  return "exact" in m ? path === m.exact : path.startsWith(m.prefix);
}

/**
 * Does a guard's route cover a canonical path? Leniently: ASCII case and a trailing "/" or "." do not count, and a
 * prefix route "/api/*" also covers "/api" - every spelling a common origin framework routes onto the route is
 * covered (docs/jwt.md "Paths").
 */
export function guardMatches(m: RouteMatcher, path: string): boolean {
  if ("exact" in m) return matchKey(path) === matchKey(m.exact);
  return path.toLowerCase().startsWith(m.prefix.toLowerCase()) || matchKey(path) === matchKey(m.prefix);
}

export function patternCovers(p: PatternBase, path: string): boolean {
  const matches = p.guard ? guardMatches : routeMatches;
  return p.routes.some((r) => matches(r, path)) && !(p.exclude ?? []).some((r) => routeMatches(r, path));
}

/** The patterns whose routes cover the canonical path (origin-response: that were carried), in chain order. */
export function chainFor<P extends PatternBase>(cfg: RuntimeConfig<P>, path: string, carried?: Headers): P[] {
  if (carried) return cfg.patterns.filter((p) => p.carriedBy !== undefined && carried.has(p.carriedBy));
  return cfg.patterns.filter((p) => patternCovers(p, path));
}
