// Token checks with jose inside a Hono middleware, as jose's docs show them:
//   jwtVerify        https://github.com/panva/jose/blob/main/docs/jwt/verify/functions/jwtVerify.md
//                    (HS256: the secret as bytes, `new TextEncoder().encode(secret)`; options algorithms, issuer,
//                    audience, requiredClaims, clockTolerance)
//   Hono middleware  https://hono.dev/docs/guides/middleware (createMiddleware from hono/factory)
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { jwtVerify, type JWTVerifyGetKey } from "jose";
import { SETTINGS } from "./settings";

type Key = Uint8Array | JWTVerifyGetKey;

const options = (algorithms: string[]) => ({
  algorithms,
  issuer: SETTINGS.issuer,
  audience: SETTINGS.audience,
  requiredClaims: ["exp", "sub"],
  clockTolerance: SETTINGS.leeway,
});

function bearer(c: Context): string | undefined {
  const h = c.req.header("Authorization");
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

export function verifier(key: (c: Context) => Key, algorithms: string[]): MiddlewareHandler {
  const opts = options(algorithms);
  return createMiddleware(async (c, next) => {
    const token = bearer(c);
    try {
      if (!token) throw new Error("no token");
      const k = key(c);
      // (two calls only because jwtVerify's overloads take a key or a key-set function, not their union)
      const { payload } = k instanceof Uint8Array ? await jwtVerify(token, k, opts) : await jwtVerify(token, k, opts);
      c.set("jwtPayload", payload);
    } catch {
      return c.text("Unauthorized", 401, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
    }
    await next();
  });
}

/** HS256 with the secret's bytes (Workers: encoded per request from the binding; elsewhere once, at load). */
export const hs256 = (secret: (c: Context) => Uint8Array): MiddlewareHandler => verifier(secret, ["HS256"]);
