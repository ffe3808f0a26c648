// jwt-hs256 / jwt-rs256 / jwt-es256 with Hono + jose (jwtVerify; createLocalJWKSet for RS256/ES256) as Vercel
// Routing Middleware (hono/vercel's handle(), https://hono.dev/docs/getting-started/vercel; the secret from
// process.env, encoded once as jose's docs do). Verified requests continue with next() and the identity headers
// the edgeport stack forwards; a missing or bad token gets 401.
import { Hono } from "hono";
import { handle } from "hono/vercel";
import { hs256 } from "../lib/jose-auth";
import { es256, rs256 } from "../lib/jose-jwks";
import { forward } from "../lib/vercel";
import { identityHeaders } from "../lib/settings";

declare const process: { env: Record<string, string | undefined> };

type Env = { Variables: { jwtPayload: Record<string, unknown> } };

const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const app = new Hono<Env>();
app.use("/hs/*", hs256(() => secret));
app.use("/rs/*", rs256);
app.use("/es/*", es256);
app.all("*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { headers: identityHeaders(payload) });
});

export default handle(app);
export const config = { matcher: ["/hs/:path*", "/rs/:path*", "/es/:path*"] };
