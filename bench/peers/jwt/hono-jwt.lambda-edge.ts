// jwt-hs256 / jwt-rs256 / jwt-es256 with Hono + hono/jwt (HS256) and hono/jwk (RS256, ES256) as a Lambda@Edge
// viewer-request function (hono/lambda-edge, https://hono.dev/docs/getting-started/lambda-edge). Verified
// requests continue (callback with the edited record) with the identity headers the edgeport stack forwards; a
// missing or bad token is the middleware's 401, which the adapter turns into a generated response.
import { Hono } from "hono";
import { handle } from "hono/lambda-edge";
import { hs256 } from "../lib/hono-auth";
import { es256, rs256 } from "../lib/hono-jwk";
import { type Bindings, forward, JWT_SECRET } from "../lib/lambda";
import { identityHeaders } from "../lib/settings";

type Env = { Bindings: Bindings; Variables: { jwtPayload: Record<string, unknown> } };

const app = new Hono<Env>();
app.use("/hs/*", hs256(JWT_SECRET));
app.use("/rs/*", rs256);
app.use("/es/*", es256);
app.all("*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { headers: identityHeaders(payload) });
});

export const handler = handle(app);
