// HS256 with Hono's own middleware, configured from its docs: hono/jwt,
// https://hono.dev/docs/middleware/builtin/jwt (`secret` + the required `alg`; `verification` for iss/aud; exp,
// nbf and iat are checked by default when present). It leaves the verified payload in c.get('jwtPayload') and
// answers a missing or bad token with 401 and WWW-Authenticate. RS256/ES256: hono-jwk.ts.
import type { MiddlewareHandler } from "hono";
import { jwt } from "hono/jwt";
import { SETTINGS } from "./settings";

export const verification = { iss: SETTINGS.issuer, aud: SETTINGS.audience };

/** HS256 with the secret the platform hands over (a Workers binding only exists per request: docs' pattern). */
export const hs256 = (secret: string): MiddlewareHandler => jwt({ secret, alg: "HS256", verification });
