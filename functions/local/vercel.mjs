// Vercel Routing Middleware locally: the deployed middleware.js in Vercel's own
// edge-runtime VM, behind a host that applies `config.matcher` and the
// x-middleware-* conventions (next / rewrite / request header override) the way
// Vercel's proxy does, then continues to the origin (vercel.json's rewrite).
import { EdgeRuntime } from "edge-runtime";
import { transform } from "esbuild";
import { readFileSync } from "node:fs";
import { pathToRegexp } from "path-to-regexp";
import { fetchOrigin, requestFromNode, serve } from "./http.mjs";

export async function loadMiddleware(file, env, nowMs) {
  // The VM runs classic scripts: wrap the same module as an IIFE (format only).
  const { code } = await transform(readFileSync(file, "utf8"), { format: "iife", globalName: "_mw", loader: "js" });
  const runtime = new EdgeRuntime({
    extend: (ctx) => {
      ctx.process = { env: { ...env } };
      return ctx;
    },
  });
  if (nowMs !== undefined) runtime.evaluate(`Date.now = () => ${Number(nowMs)};`);
  runtime.evaluate(code);
  runtime.evaluate('addEventListener("fetch", (e) => e.respondWith(_mw.default(e.request)))');
  const matchers = [].concat(runtime.evaluate("_mw.config && _mw.config.matcher") ?? "/:path*").map((m) => pathToRegexp(m));
  return { runtime, matches: (path) => matchers.some((re) => re.test(path)) };
}

/** One request through Vercel's middleware semantics. */
export async function vercelHandle(mw, request, origin) {
  const url = new URL(request.url);
  const toOrigin = (target, headers) =>
    fetchOrigin(new URL(target.pathname + target.search, origin), { method: request.method, headers, body: request.body });
  if (!mw.matches(url.pathname)) return toOrigin(url, request.headers);
  const body = request.body ? await request.arrayBuffer() : undefined;
  const res = await mw.runtime.dispatchFetch(url.href, { method: request.method, headers: request.headers, body });
  await res.waitUntil();
  const rewriteTo = res.headers.get("x-middleware-rewrite");
  const isNext = res.headers.get("x-middleware-next") === "1";
  if (!rewriteTo && !isNext) return res;
  let fwd = new Headers(request.headers);
  const override = res.headers.get("x-middleware-override-headers");
  if (override !== null) {
    fwd = new Headers();
    for (const k of override.split(",").filter(Boolean)) {
      const v = res.headers.get(`x-middleware-request-${k}`);
      if (v !== null) fwd.set(k, v);
    }
  }
  const target = rewriteTo ? new URL(rewriteTo, url) : url;
  const upstream =
    target.origin === url.origin
      ? await fetchOrigin(new URL(target.pathname + target.search, origin), { method: request.method, headers: fwd, body })
      : await fetchOrigin(target, { method: request.method, headers: fwd, body }); // external rewrite
  const out = new Headers(upstream.headers);
  res.headers.forEach((v, k) => {
    if (!k.startsWith("x-middleware-")) out.set(k, v);
  });
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

export async function startVercel({ artifact, origin, port, secrets, nowMs }) {
  const mw = await loadMiddleware(artifact.path, secrets, nowMs);
  let base;
  const server = await serve(async (req) => {
    const request = requestFromNode(req, base);
    // Vercel sets geolocation headers itself; a client cannot supply them.
    for (const k of [...request.headers.keys()]) if (k.startsWith("x-vercel-ip-")) request.headers.delete(k);
    return vercelHandle(mw, request, origin);
  }, port);
  base = `http://127.0.0.1:${server.address().port}/`;
  return { url: base, close: () => new Promise((r) => server.close(r)) };
}
