// What a pattern step sees and returns. The core defines the shapes; each pattern module (src/patterns/) supplies
// a step of this type and patterns/index.ts gathers them in one table.
import type { PatternBase, RuntimeConfig } from "./config";
import type { Platform } from "./platform";

/**
 * Where in the request's life the engine runs. Cloudflare and Vercel run every
 * pattern at once ("all"); Lambda@Edge splits them over CloudFront triggers
 * (origin-response: only response headers count, the request goes nowhere).
 */
export type Phase = "all" | "viewer-request" | "origin-request" | "origin-response";

export interface EdgeContext {
  /** the incoming request (never mutated) */
  request: Request;
  /** where the request goes next; patterns may rewrite the path */
  url: URL;
  /** the headers sent on to the origin; patterns strip and add */
  headers: Headers;
  /** name of the origin a pattern chose (declared in cfg.origins); undefined = the default origin */
  origin?: string;
  /** headers added to the response the client gets (e.g. Set-Cookie) */
  responseHeaders: Headers;
  phase: Phase;
  /** the viewer's country as the platform reports it (raw) */
  country: string | null | undefined;
  platform: Platform;
  cfg: RuntimeConfig;
}

/** A pattern's step: answer the request (a Response) or adjust the context and let the chain go on (void). */
export type Step<C extends PatternBase> = (ctx: EdgeContext, cfg: C) => Promise<Response | void>;

/**
 * A pattern's step and the request methods it acts on (absent: every method). A request with another method
 * skips the pattern as if its routes did not cover the path.
 */
export interface StepDef<C extends PatternBase> {
  run: Step<C>;
  methods?: readonly string[];
}

/** One step per pattern type of the union `P`, each typed with its own pattern's config. */
export type StepTable<P extends PatternBase> = { [K in P["type"]]: StepDef<Extract<P, { type: K }>> };

export const DEFAULT_ORIGIN = "default";
