// jwt-hs256 / jwt-rs256 / jwt-es256 with Hono + hono/jwt (HS256) and hono/jwk (RS256, ES256) as Vercel Routing
// Middleware (hono/vercel's handle(), https://hono.dev/docs/getting-started/vercel; the secret from process.env,
// which Vercel gives middleware). Verified requests continue with next() and the identity headers the edgeport
// stack forwards; a missing or bad token is the middleware's 401.
import { Hono } from "hono";
import { handle } from "hono/vercel";
import { hs256 } from "../lib/hono-auth";
import { es256, rs256 } from "../lib/hono-jwk";
import { forward } from "../lib/vercel";
import { identityHeaders } from "../lib/settings";

declare const process: { env: Record<string, string | undefined> };

type Env = { Variables: { jwtPayload: Record<string, unknown> } };

const app = new Hono<Env>();
app.use("/hs/*", hs256(process.env.JWT_SECRET as string));
app.use("/rs/*", rs256);
app.use("/es/*", es256);
app.all("*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { headers: identityHeaders(payload) });
});

export default handle(app);
export const config = { matcher: ["/hs/:path*", "/rs/:path*", "/es/:path*"] };
