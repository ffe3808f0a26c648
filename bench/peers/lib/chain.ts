// The chain's other two steps as Hono middleware a user would write (no library covers them):
//   geo  - the viewer's country -> an origin (the chain stack's rules: EEA, GB, CH -> eu; US, CA -> us; everyone
//          else -> the default origin), told to the origin in x-edgeport-geo;
//   ab   - a sticky cookie experiment: a returning visitor keeps the variant its cookie names, a first visit is
//          drawn by weight and gets the cookie (hono/cookie, https://hono.dev/docs/helpers/cookie); the variant is
//          told to the origin in a header, and new-hero's path is rewritten.
// Middleware and c.set/c.get as in https://hono.dev/docs/guides/middleware and https://hono.dev/docs/api/context.
// Where the country comes from and how the request is forwarded differ per platform: the entry files pass them in.
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { SETTINGS } from "./settings";

export interface Routed {
  origin: string; // host
  country: string;
  variant: string;
  path: string;
}

export function originFor(country: string | undefined): string {
  return (country && SETTINGS.countries[country]) || SETTINGS.fallbackOrigin;
}

/** geo: pick the origin from the country the platform tells (`country(c)`). */
export const geo = (country: (c: Context) => string | undefined): MiddlewareHandler =>
  createMiddleware(async (c, next) => {
    const cc = country(c);
    c.set("country", cc ?? "XX");
    c.set("origin", originFor(cc));
    await next();
  });

const { cookie, maxAge, variants } = SETTINGS.experiment;
const total = variants.reduce((s, v) => s + v.weight, 0);

export function draw(): (typeof variants)[number] {
  let r = Math.random() * total;
  for (const v of variants) if ((r -= v.weight) < 0) return v;
  return variants[variants.length - 1];
}

/** The variant a cookie value names, or a fresh draw (`fresh` true). */
export function pick(value: string | undefined): { variant: (typeof variants)[number]; fresh: boolean } {
  const known = value === undefined ? undefined : variants.find((v) => v.name === value);
  return known ? { variant: known, fresh: false } : { variant: draw(), fresh: true };
}

export function variantPath(variant: (typeof variants)[number], path: string): string {
  return variant.path ? variant.path.replace("{path}", path) : path;
}

/**
 * ab: sticky assignment; with `cookieOnResponse`, a first visit's cookie is set on the way out (after the
 * forward). Lambda@Edge's request triggers have no response to set it on (the app hands back a request record):
 * there it takes a viewer-response function, which is not part of the timed request on any side.
 */
export const ab = (cookieOnResponse: boolean): MiddlewareHandler =>
  createMiddleware(async (c, next) => {
    const { variant, fresh } = pick(getCookie(c, cookie));
    c.set("variant", variant.name);
    c.set("path", variantPath(variant, c.req.path));
    await next();
    if (fresh && cookieOnResponse) setCookie(c, cookie, variant.name, { path: "/", maxAge, secure: true, httpOnly: true, sameSite: "Lax" });
  });

/** What the chain tells the origin: identity, country and variant. */
export function chainHeaders(c: Context, identity: [string, string][]): [string, string][] {
  return [...identity, ["x-edgeport-geo", c.get("country")], [SETTINGS.experiment.header, c.get("variant")]];
}
