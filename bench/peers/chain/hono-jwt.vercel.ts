// The chain geo -> auth -> ab on /shop/* with Hono + hono/jwt as Vercel Routing Middleware
// (hono/vercel's handle(), https://hono.dev/docs/getting-started/vercel): the country Vercel's proxy puts in
// x-vercel-ip-country (https://vercel.com/docs/headers/request-headers#x-vercel-ip-country; read directly:
// importing @vercel/functions' geolocation() would put its whole CommonJS package, ~20 KB, into the bundle) picks
// the origin, the HS256 token is checked, the experiment assigns or keeps a variant (cookie on first visits), and
// the request is rewritten to the chosen origin with identity, country and variant headers.
import { Hono } from "hono";
import { handle } from "hono/vercel";
import { ab, chainHeaders, geo } from "../lib/chain";
import { forward } from "../lib/vercel";
import { hs256 } from "../lib/hono-auth";
import { identityHeaders } from "../lib/settings";

declare const process: { env: Record<string, string | undefined> };

type Env = { Variables: Record<string, any> };

const app = new Hono<Env>();
app.use("/shop/*", geo((c) => c.req.header("x-vercel-ip-country")));
app.use("/shop/*", hs256(process.env.JWT_SECRET as string));
app.use("/shop/*", ab(true));
app.all("/shop/*", (c) => {
  const payload = c.get("jwtPayload");
  if (typeof payload?.sub !== "string") return c.text("Unauthorized", 401);
  return forward(c, { host: c.get("origin"), path: c.get("path"), headers: chainHeaders(c, identityHeaders(payload)) });
});

export default handle(app);
export const config = { matcher: ["/shop/:path*"] };
