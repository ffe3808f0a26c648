// Local "DNS" for declared origins: the bundles keep their deployed origin URLs
// (byte-for-byte what is deployed); the local hosts send requests for those
// origins to loopback servers instead.
import { noteOrigin } from "./events.mjs";

/** Build a remapper from {declaredOriginUrl: localUrl}. */
export function originMapper(map = {}) {
  const table = new Map(Object.entries(map).map(([declared, local]) => [new URL(declared).origin, new URL(local)]));
  return function remap(input) {
    const u = new URL(String(input));
    const local = table.get(u.origin);
    if (!local) return u;
    noteOrigin(u.href); // for the request log of `edgeport dev`
    // Assign the parts: resolving "//host/..." against the local URL would leave loopback.
    const out = new URL(local.href);
    out.pathname = local.pathname.replace(/\/$/, "") + u.pathname;
    out.search = u.search;
    return out;
  };
}

/** A fetch() that sends requests for declared origins to their local stand-ins. */
export function remappedFetch(baseFetch, remap) {
  return (input, init) => {
    const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
    const to = remap(url).href;
    if (to === url) return baseFetch(input, init);
    return typeof input === "object" && !(input instanceof URL) ? baseFetch(new Request(to, input), init) : baseFetch(to, init);
  };
}

/** The header a developer or test sets to pretend to come from a country (local hosts only). */
export const COUNTRY_HEADER = "x-edgeport-country";
