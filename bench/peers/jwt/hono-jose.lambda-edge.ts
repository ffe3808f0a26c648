// jwt-hs256 / jwt-rs256 / jwt-es256 with Hono + jose (jwtVerify; createLocalJWKSet for RS256/ES256) as a
// Lambda@Edge viewer-request function (hono/lambda-edge, https://hono.dev/docs/getting-started/lambda-edge).
// Verified requests continue (callback with the edited record) with the identity headers the edgeport stack
// forwards; a missing or bad token gets a generated 401.
import { Hono } from "hono";
import { handle } from "hono/lambda-edge";
import { hs256 } from "../lib/jose-auth";
import { es256, rs256 } from "../lib/jose-jwks";
import { type Bindings, forward, JWT_SECRET } from "../lib/lambda";
import { identityHeaders } from "../lib/settings";

type Env = { Bindings: Bindings; Variables: { jwtPayload: Record<string, unknown> } };

const secret = new TextEncoder().encode(JWT_SECRET);
const app = new Hono<Env>();
app.use("/hs/*", hs256(() => secret));
app.use("/rs/*", rs256);
app.use("/es/*", es256);
app.all("*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { headers: identityHeaders(payload) });
});

export const handler = handle(app);
