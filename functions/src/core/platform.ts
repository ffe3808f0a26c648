// What a pattern may ask of the platform it runs on. Each adapter implements it.
export interface Platform {
  /** The value of a declared secret; throws when it is unavailable. */
  secret(name: string): Promise<string>;
  /** A live setting from the platform's store (KV, Edge Config, SSM); null when absent. Throws when the store fails. */
  live(key: string): Promise<string | null>;
  /** Epoch milliseconds. */
  now(): number;
  /** Keep work alive after the response (Cloudflare ctx.waitUntil); absent elsewhere. */
  waitUntil?(p: Promise<unknown>): void;
  /** A shared HTTP cache the edge may use (Cloudflare caches.default); absent elsewhere. */
  cache?: { match(url: string): Promise<Response | undefined>; put(url: string, res: Response): Promise<void> };
  /**
   * Hand a WebSocket upgrade to the stateful object named `id` (one per room), for the room pattern `pattern`
   * (Cloudflare Durable Objects only).
   */
  room?(pattern: string, id: string, request: Request): Promise<Response>;
}

/** Thrown for failures of the platform or configuration (never of the request): answered with 503. */
export class EdgeInternalError extends Error {}
