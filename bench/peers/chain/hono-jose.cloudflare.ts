// The chain geo -> auth -> ab on /shop/* with Hono + jose (jwtVerify) on Cloudflare Workers
// (https://hono.dev/docs/getting-started/cloudflare-workers): the country from request.cf
// (https://developers.cloudflare.com/workers/runtime-apis/request/#incomingrequestcfproperties) picks the origin,
// the HS256 token is checked, the experiment assigns or keeps a variant (cookie on first visits), and the request
// goes to the chosen origin with identity, country and variant headers. lib/chain.ts has the geo and ab steps.
import { Hono } from "hono";
import { ab, chainHeaders, geo } from "../lib/chain";
import { forward } from "../lib/cloudflare";
import { hs256 } from "../lib/jose-auth";
import { identityHeaders } from "../lib/settings";

type Env = { Bindings: { JWT_SECRET: string }; Variables: Record<string, any> };

const app = new Hono<Env>();
app.use("/shop/*", geo((c) => (c.req.raw as { cf?: { country?: string } }).cf?.country));
app.use("/shop/*", hs256((c) => new TextEncoder().encode(c.env.JWT_SECRET)));
app.use("/shop/*", ab(true));
app.all("/shop/*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { host: c.get("origin"), path: c.get("path"), headers: chainHeaders(c, identityHeaders(payload)) });
});

export default app;
