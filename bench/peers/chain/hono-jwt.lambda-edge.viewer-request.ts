// The chain geo -> auth -> ab on /shop/* with Hono + hono/jwt on Lambda@Edge, viewer-request part
// (hono/lambda-edge, https://hono.dev/docs/getting-started/lambda-edge): the HS256 token is checked and the
// experiment assigns or keeps a variant (header for the origin, path rewrite). The country is not known yet in
// viewer-request (CloudFront adds CloudFront-Viewer-Country for origin-facing triggers), so the origin is picked
// in origin-request (hono.lambda-edge.origin-request.ts); a first visit's cookie would take a viewer-response
// function, untimed like edgeport's own response-side trigger.
import { Hono } from "hono";
import { handle } from "hono/lambda-edge";
import { ab } from "../lib/chain";
import { type Bindings, forward, JWT_SECRET } from "../lib/lambda";
import { hs256 } from "../lib/hono-auth";
import { identityHeaders, SETTINGS } from "../lib/settings";

type Env = { Bindings: Bindings; Variables: Record<string, any> };

const app = new Hono<Env>();
app.use("/shop/*", hs256(JWT_SECRET));
app.use("/shop/*", ab(false));
app.all("/shop/*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  const headers: [string, string][] = [...identityHeaders(payload), [SETTINGS.experiment.header, c.get("variant")]];
  return forward(c, { uri: c.get("path"), headers });
});

export const handler = handle(app);
