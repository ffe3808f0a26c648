// jwt-hs256 / jwt-rs256 / jwt-es256 with Hono + hono/jwt (HS256) and hono/jwk (RS256, ES256) on Cloudflare
// Workers (https://hono.dev/docs/getting-started/cloudflare-workers). Verified requests go to the origin with
// the identity headers the edgeport stack forwards; a missing or bad token is the middleware's 401.
import { Hono } from "hono";
import { hs256 } from "../lib/hono-auth";
import { es256, rs256 } from "../lib/hono-jwk";
import { forward } from "../lib/cloudflare";
import { identityHeaders } from "../lib/settings";

type Env = { Bindings: { JWT_SECRET: string }; Variables: { jwtPayload: Record<string, unknown> } };

const app = new Hono<Env>();
// A Workers binding only exists per request: the jwt docs' pattern for secrets from c.env.
app.use("/hs/*", (c, next) => hs256(c.env.JWT_SECRET)(c, next));
app.use("/rs/*", rs256);
app.use("/es/*", es256);
app.all("*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { headers: identityHeaders(payload) });
});

export default app;
