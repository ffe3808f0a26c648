// Continuing to the origin from Lambda@Edge with Hono's adapter (hono/lambda-edge,
// https://hono.dev/docs/getting-started/lambda-edge): the app edits the CloudFront request record it gets in
// c.env.request and hands it back with c.env.callback(null, request); a Response the app returns instead becomes
// a generated response. Headers in the record are lowercase keys of [{ key, value }] (CloudFront Developer Guide,
// "Lambda@Edge event structure").
import type { Context } from "hono";
import type { Callback, CloudFrontRequest } from "hono/lambda-edge";

export type Bindings = { callback: Callback; request: CloudFrontRequest };

declare const __JWT_SECRET__: string;
/** Lambda@Edge has no environment variables: the HS256 secret is inlined at build time. */
export const JWT_SECRET: string = __JWT_SECRET__;

export interface Forward {
  headers: [string, string][];
  /** origin-request: the custom origin's host */
  host?: string;
  uri?: string;
}

export function forward(c: Context<{ Bindings: Bindings; Variables: any }>, f: Forward): Response {
  const request = c.env.request as any;
  for (const [k, v] of f.headers) request.headers[k] = [{ key: k, value: v }];
  if (f.uri) request.uri = f.uri;
  if (f.host) {
    request.origin.custom.domainName = f.host;
    request.headers.host = [{ key: "Host", value: f.host }];
  }
  c.env.callback(null, request);
  return c.body(null);
}
