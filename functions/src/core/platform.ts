// What a pattern may ask of the platform it runs on. Each adapter implements it.
export interface Platform {
  /** The value of a declared secret; throws when it is unavailable. */
  secret(name: string): Promise<string>;
  /** Epoch milliseconds. */
  now(): number;
}

/** Thrown for failures of the platform or configuration (never of the request): answered with 503. */
export class EdgeInternalError extends Error {}
