// The pattern registry of the edge code: one line per pattern module. It is the only file that names every
// pattern; the core (src/core/) knows patterns only as PatternBase and runs whatever table it is handed.
// A new pattern is its module here plus one import, one union member and one table row (docs/extending.md).
import { runEdge, type EdgeOutcome, type RunOptions } from "../core/engine";
import type { RuntimeConfig } from "../core/config";
import type { StepTable } from "../core/context";
import type { Platform } from "../core/platform";
import { abStep, type AbConfig } from "./ab";
import { ESI_METHODS, esiStep, type EsiConfig } from "./esi";
import { geoStep, type GeoConfig } from "./geo";
import { jwtStep, type JwtConfig } from "./jwt";
import { roomStep, type RoomConfig } from "./room";

/** Every pattern's runtime config (what the Python pattern module's runtime_config() emits). */
export type PatternConfig = JwtConfig | AbConfig | GeoConfig | EsiConfig | RoomConfig;

/** The runtime config of one bundle with every pattern this edge code knows (checked against Python's output). */
export type EdgeConfig = RuntimeConfig<PatternConfig>;

// Which patterns an engine carries: the build defines each flag as true or false (build.mjs, from the pattern types
// of the bundle's config), and esbuild drops the steps whose flag is false together with their imports, so a
// stack's bundle holds only the patterns it uses. A flag left undefined is an error at the first request.
declare const EDGEPORT_WITH_GEO_ROUTE: boolean;
declare const EDGEPORT_WITH_JWT_AUTH: boolean;
declare const EDGEPORT_WITH_AB_TEST: boolean;
declare const EDGEPORT_WITH_ESI_COMPOSE: boolean;
declare const EDGEPORT_WITH_REALTIME_ROOM: boolean;

/** Each pattern type's step, typed with that pattern's config (the ones this engine carries). */
// (A step left out is absent at run time; the engine answers a pattern without its step with a 500, failing closed.)
export const STEPS = {
  ...(EDGEPORT_WITH_GEO_ROUTE && { "geo-route": { run: geoStep } }),
  ...(EDGEPORT_WITH_JWT_AUTH && { "jwt-auth": { run: jwtStep } }),
  ...(EDGEPORT_WITH_AB_TEST && { "ab-test": { run: abStep } }),
  ...(EDGEPORT_WITH_ESI_COMPOSE && { "esi-compose": { run: esiStep, methods: ESI_METHODS } }),
  ...(EDGEPORT_WITH_REALTIME_ROOM && { "realtime-room": { run: roomStep } }),
} as StepTable<PatternConfig>;

/** The engine over every registered pattern: what each platform adapter calls. */
export function runPatterns(request: Request, cfg: EdgeConfig, platform: Platform, opts: RunOptions = {}): Promise<EdgeOutcome> {
  return runEdge(request, cfg, platform, STEPS, opts);
}
