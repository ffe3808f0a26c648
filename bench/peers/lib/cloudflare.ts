// Continuing to the origin from a Worker: fetch() with the request's method, headers and body, to another host
// or path where the chain says so (https://developers.cloudflare.com/workers/runtime-apis/fetch/;
// https://hono.dev/docs/getting-started/cloudflare-workers).
import type { Context } from "hono";

export interface Forward {
  headers: [string, string][];
  host?: string;
  path?: string;
}

export function forward(c: Context, f: Forward): Promise<Response> {
  const url = new URL(c.req.url);
  if (f.host) url.hostname = f.host;
  if (f.path) url.pathname = f.path;
  const headers = new Headers(c.req.raw.headers);
  for (const [k, v] of f.headers) headers.set(k, v);
  return fetch(url, { method: c.req.method, headers, body: c.req.raw.body, redirect: "manual" });
}
