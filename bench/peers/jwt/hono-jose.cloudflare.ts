// jwt-hs256 / jwt-rs256 / jwt-es256 with Hono + jose (jwtVerify; createLocalJWKSet for RS256/ES256) on Cloudflare
// Workers (https://hono.dev/docs/getting-started/cloudflare-workers). Verified requests go to the origin with the
// identity headers the edgeport stack forwards; a missing or bad token gets 401.
import { Hono } from "hono";
import { hs256 } from "../lib/jose-auth";
import { es256, rs256 } from "../lib/jose-jwks";
import { forward } from "../lib/cloudflare";
import { identityHeaders } from "../lib/settings";

type Env = { Bindings: { JWT_SECRET: string }; Variables: { jwtPayload: Record<string, unknown> } };

const app = new Hono<Env>();
app.use("/hs/*", hs256((c) => new TextEncoder().encode(c.env.JWT_SECRET)));
app.use("/rs/*", rs256);
app.use("/es/*", es256);
app.all("*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { headers: identityHeaders(payload) });
});

export default app;
