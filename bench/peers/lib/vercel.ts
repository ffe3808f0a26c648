// Continuing to the origin from Vercel Routing Middleware: next() with request-header overrides, or rewrite() to
// another origin or path (https://vercel.com/docs/routing-middleware/api, @vercel/functions/middleware). Hono runs
// there through hono/vercel's handle() (https://hono.dev/docs/getting-started/vercel); Hono has no next()/rewrite()
// helper of its own, so the app returns @vercel/functions' responses.
import type { Context } from "hono";
import { next, rewrite } from "@vercel/functions/middleware";

export interface Forward {
  headers: [string, string][];
  host?: string;
  path?: string;
}

export function forward(c: Context, f: Forward): Response {
  const headers = new Headers(c.req.raw.headers);
  for (const [k, v] of f.headers) headers.set(k, v);
  if (!f.host && !f.path) return next({ request: { headers } });
  const url = new URL(c.req.url);
  if (f.host) url.hostname = f.host;
  if (f.path) url.pathname = f.path;
  return rewrite(url, { request: { headers } });
}
