// Vercel Routing Middleware locally: the deployed middleware.js in Vercel's own
// edge-runtime VM, behind a host that applies `config.matcher` and the
// x-middleware-* conventions (next / rewrite / request header override / response
// header merge) the way Vercel's proxy does, then continues to the origin
// (vercel.json's rewrite). Live settings come from a loopback stand-in for the
// Edge Config read API (GET /<id>/item/<key> with a bearer token).
import { EdgeRuntime } from "edge-runtime";
import { transform } from "esbuild";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { pathToRegexp } from "path-to-regexp";
import { fetchOrigin, requestFromNode, serve } from "../../local/http.mjs";
import { edgeConsole, logged, originNamer } from "../../local/events.mjs";
import { COUNTRY_HEADER, originMapper } from "../../local/origins.mjs";

export async function loadMiddleware(file, { env, nowMs, remap, console: edgeConsoleImpl }) {
  // The VM runs classic scripts: wrap the same module as an IIFE (format only).
  // The map of this format change lets `edgeport dev` trace a stack frame in the VM back to the bundle, and from
  // there to the sources (the build's own map).
  const { code, map } = await transform(readFileSync(file, "utf8"), { format: "iife", globalName: "_mw", loader: "js", sourcemap: "external" });
  const runtime = new EdgeRuntime({
    extend: (ctx) => {
      ctx.process = { env: { ...env } };
      // The middleware's console output becomes events (Vercel shows it in the runtime logs per request).
      if (edgeConsoleImpl) ctx.console = edgeConsoleImpl;
      const vmFetch = ctx.fetch;
      // Requests to declared origins go to their local stand-ins.
      ctx.fetch = (input, init) => {
        const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
        const to = remap(url).href;
        return to === url ? vmFetch(input, init) : vmFetch(to, typeof input === "object" && !(input instanceof URL) ? { method: input.method, headers: input.headers, body: input.body, ...init } : init);
      };
      return ctx;
    },
  });
  if (nowMs !== undefined) runtime.evaluate(`Date.now = () => ${Number(nowMs)};`);
  runtime.evaluate(code);
  runtime.evaluate('addEventListener("fetch", (e) => e.respondWith(_mw.default(e.request)))');
  const matchers = [].concat(runtime.evaluate("_mw.config && _mw.config.matcher") ?? "/:path*").map((m) => pathToRegexp(m));
  return { runtime, map, matches: (path) => matchers.some((re) => re.test(path)) };
}

/** One request through Vercel's middleware semantics. `defaultOrigin` is where vercel.json rewrites to. */
export async function vercelHandle(mw, request, defaultOrigin, remap) {
  const url = new URL(request.url);
  const body = request.body ? await request.arrayBuffer() : undefined;
  const toDefault = (target, headers) => {
    const u = new URL(defaultOrigin);
    u.pathname = u.pathname.replace(/\/$/, "") + target.pathname;
    u.search = target.search;
    return fetchOrigin(remap(u), { method: request.method, headers, body });
  };
  if (!mw.matches(url.pathname)) return toDefault(url, request.headers);
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
      ? await toDefault(target, fwd)
      : await fetchOrigin(remap(target), { method: request.method, headers: fwd, body }); // external rewrite
  const out = new Headers(upstream.headers);
  res.headers.forEach((v, k) => {
    if (k.startsWith("x-middleware-")) return;
    if (k === "set-cookie") out.append(k, v);
    else out.set(k, v);
  });
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

/** A loopback stand-in for Edge Config's read API, with switches to make it slow or down. */
async function startEdgeConfig(items) {
  const token = "local-token";
  const state = { items: new Map(Object.entries(items)), delayMs: 0, down: false };
  const server = createServer(async (req, res) => {
    const m = /^\/ecfg_local\/item\/([^/?]+)/.exec(req.url ?? "");
    if (state.down) {
      req.socket.destroy();
      return;
    }
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    const key = m && decodeURIComponent(m[1]);
    if (!key || !state.items.has(key)) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    const raw = state.items.get(key);
    let body;
    try {
      body = JSON.stringify(JSON.parse(raw));
    } catch {
      body = JSON.stringify(raw); // not JSON: stored as a JSON string, as Edge Config would
    }
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const conn = `http://127.0.0.1:${server.address().port}/ecfg_local?token=${token}`;
  return { conn, state, close: () => new Promise((r) => server.close(r)) };
}

export async function startVercel({ artifact, settings, manifest, origins, port, publicPort, secrets, nowMs }) {
  const remap = originMapper(origins);
  const edgeConfig = settings.edgeConfig ? await startEdgeConfig(settings.live ?? {}) : null;
  const env = { ...secrets, ...(edgeConfig ? { EDGE_CONFIG: edgeConfig.conn } : {}) };
  const mw = await loadMiddleware(artifact.path, { env, nowMs, remap, console: edgeConsole() });
  let base;
  const server = await serve(logged(async (req) => {
    const request = requestFromNode(req, base);
    // Vercel sets geolocation headers itself; a client cannot supply them.
    const country = request.headers.get(COUNTRY_HEADER);
    for (const k of [...request.headers.keys()]) if (k.startsWith("x-vercel-ip-") || k === COUNTRY_HEADER) request.headers.delete(k);
    if (country !== null) request.headers.set("x-vercel-ip-country", country);
    return vercelHandle(mw, request, manifest.origins.default, remap);
  }, originNamer(manifest.origins)), port);
  // Behind `edgeport dev`'s front the viewer addresses the front's port: the request URL the middleware sees.
  base = `http://127.0.0.1:${publicPort || server.address().port}/`;
  async function setLive(key, value) {
    if (!edgeConfig) throw new Error("this stack has no live settings on vercel");
    if (value === null) edgeConfig.state.items.delete(key);
    else edgeConfig.state.items.set(key, value);
  }
  function setStore({ down, delayMs }) {
    if (!edgeConfig) throw new Error("this stack has no live settings on vercel");
    if (down !== undefined) edgeConfig.state.down = down;
    if (delayMs !== undefined) edgeConfig.state.delayMs = delayMs;
  }
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    // Stack frames of the middleware read "evalmachine.<anonymous>:L:C" in this transformed script.
    sourceMaps: [{ frame: "evalmachine.<anonymous>", bundle: artifact.path, map: JSON.parse(mw.map) }],
    setLive,
    setStore,
    close: async () => {
      await new Promise((r) => server.close(r));
      if (edgeConfig) await edgeConfig.close();
    },
  };
}
