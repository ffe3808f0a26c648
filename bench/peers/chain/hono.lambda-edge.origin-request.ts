// The chain geo -> auth -> ab on /shop/* with Hono on Lambda@Edge, origin-request part (hono/lambda-edge,
// https://hono.dev/docs/getting-started/lambda-edge), shared by both Hono chains (no token work here): the
// country CloudFront forwards to origin-facing triggers (CloudFront-Viewer-Country, with an origin request
// policy) picks the origin; the record's custom origin and Host are set to it, and the country is told to the
// origin in x-edgeport-geo. (CloudFront Developer Guide, "Lambda@Edge event structure", dynamic origin selection.)
import { Hono } from "hono";
import { handle } from "hono/lambda-edge";
import { geo } from "../lib/chain";
import { type Bindings, forward } from "../lib/lambda";

type Env = { Bindings: Bindings; Variables: Record<string, any> };

// Every path: CloudFront runs this function for the /shop/* behaviour, whose path viewer-request may have rewritten
// (new-hero: /experiments/new-hero/shop/...).
const app = new Hono<Env>();
app.use("*", geo((c) => c.req.header("cloudfront-viewer-country")));
app.all("*", (c) => forward(c, { host: c.get("origin"), headers: [["x-edgeport-geo", c.get("country")]] }));

export const handler = handle(app);
