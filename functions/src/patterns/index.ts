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

/** Each pattern type's step, typed with that pattern's config. */
export const STEPS: StepTable<PatternConfig> = {
  "geo-route": { run: geoStep },
  "jwt-auth": { run: jwtStep },
  "ab-test": { run: abStep },
  "esi-compose": { run: esiStep, methods: ESI_METHODS },
  "realtime-room": { run: roomStep },
};

/** The engine over every registered pattern: what each platform adapter calls. */
export function runPatterns(request: Request, cfg: EdgeConfig, platform: Platform, opts: RunOptions = {}): Promise<EdgeOutcome> {
  return runEdge(request, cfg, platform, STEPS, opts);
}
