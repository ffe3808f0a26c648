// RS256/ES256 with Hono's own middleware, configured from its docs: hono/jwk,
// https://hono.dev/docs/middleware/builtin/jwk (a fixed key set in `keys`, `alg` as the allowed list; the token's
// `kid` picks the key; `verification` as for hono/jwt). Same payload and 401 as hono/jwt (hono-auth.ts).
import type { MiddlewareHandler } from "hono";
import { jwk } from "hono/jwk";
import { verification } from "./hono-auth";
import { SETTINGS } from "./settings";

export const rs256: MiddlewareHandler = jwk({ keys: [SETTINGS.jwks.RS256 as any], alg: ["RS256"], verification });
export const es256: MiddlewareHandler = jwk({ keys: [SETTINGS.jwks.ES256 as any], alg: ["ES256"], verification });
