// geo-route: pick the origin for the viewer's country from a deploy-time table.
// Unknown, missing, malformed, XX (no data) and T1 (Tor) go to the fallback,
// which defaults to the strictest region.
import type { PatternBase } from "../core/config";
import type { EdgeContext } from "../core/context";

export interface GeoConfig extends PatternBase {
  type: "geo-route";
  /** ISO 3166-1 alpha-2 -> origin name (groups already expanded) */
  countries: Record<string, string>;
  default: string;
  fallback: string;
  /** header telling the origin which country was used */
  header: string;
}

/** `known`: every ISO 3166-1 code, space-separated (shared by all geo patterns: RuntimeConfig.countries). */
export function originFor(cfg: GeoConfig, known: string, raw: string | null | undefined): { origin: string; country: string } {
  const code = (raw ?? "").trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code) || code === "XX" || code === "T1") return { origin: cfg.fallback, country: "unknown" };
  const mapped = cfg.countries[code];
  if (mapped !== undefined) return { origin: mapped, country: code };
  return known.includes(` ${code} `) ? { origin: cfg.default, country: code } : { origin: cfg.fallback, country: "unknown" };
}

export async function geoStep(ctx: EdgeContext, cfg: GeoConfig): Promise<void> {
  const { origin, country } = originFor(cfg, ctx.cfg.countries ?? "", ctx.country);
  ctx.origin = origin;
  ctx.headers.set(cfg.header, country);
}
