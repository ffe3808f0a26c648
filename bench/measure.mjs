// In-runtime latency of edge bundles, measured the way docs/benchmarks.md describes:
// sequential requests after a warm-up, each timed with performance.now() around one
// dispatch into the runtime (the response body is read inside the timed region).
//
//   node bench/measure.mjs < job.json     (one JSON object on stdout; driven by bench/run.py)
//
// job: {
//   functionsDir, runtime: "cloudflare" | "vercel" | "lambda-edge", mode: "warm" | "cold",
//   cloudflare: { compatibilityDate, compatibilityFlags, hostname, kv, durableObjects, live },
//                                                                     // manifest targets.cloudflare
//   vercel: { edgeConfig, live },                                     // manifest targets.vercel
//   origins: { <name>: url },                                         // the stack's declared origins
//   siteHost: "bench.example.com",                                    // the site's own host
//   site: { <path>: { type, body, delayMs, delayCookie? } },          // origin pages (others: echo); delayCookie:
//                                                                     // a cookie whose value (ms) replaces delayMs
//   impls: [{ name, bundle, bundles?, config?, env?, liveStore?, cache? }], // "warm": all, "cold": exactly one
//   event: "viewer-request" | "origin-request",                       // Lambda@Edge trigger
//   events: ["viewer-request", "origin-request"],                     // Lambda@Edge: triggers run in turn per
//                                                                     // request (impl.bundles: event -> bundle)
//   cfTransport: "http" | "dispatchFetch",                            // Cloudflare only (default http)
//   ttfb: false,                                                      // also time the first body byte
//   scenarios: [{ name, method, host, path, headers, country?, implHeaders?: { <impl name>: headers },
//                 expect: { <impl name>: Expect }, n?, warmup? }],          // n/warmup: this scenario's own
//   n, warmup, rounds,
//   settleMs: 0                                                       // "warm", Lambda@Edge: untimed pause after the warm-up
// }
// Expect = { kind: "forward" | "respond", status?, headers?: { name: value | true | null },
//            host?, path?, bodyIncludes?: [string], bodyExcludes?: [string], responseHeaders? }
//   (true = present, null = absent; host/path: where a forward goes; body*: of a response; responseHeaders: of
//   the answer to a forward - Set-Cookie - where the runtime's timed part has one: Cloudflare, Vercel).
//   implHeaders: request headers only that implementation gets (the floor is told the outcome expected).
//   rotate: [headers, ...] taken in turn, one set per request (a different token on every request: a cache miss).
//   Every warm-up and every timed request is checked; a mismatch fails the run, so the numbers
//   always describe the intended code path.
// impl.liveStore (Vercel): serve the manifest's live settings from a loopback Edge Config
// stand-in (EDGE_CONFIG). impl.cache (Cloudflare): site paths put into caches.default before the
// first request, untimed (the ESI reference reads its shell from a cache it never fills).
// scenario.country: the viewer's country as each platform delivers it (Cloudflare request.cf via
// Miniflare's MF-CF-Blob header, Vercel x-vercel-ip-country, CloudFront-Viewer-Country on an
// origin-request record).
//
// How each runtime is driven (bundles loaded the way functions/local/* load them for `edgeport dev`,
// minus what only the local host needs):
//   cloudflare   workerd through Miniflare, requests sent as HTTP to its own loopback port with
//                Node's fetch (undici, keep-alive): Node -> Miniflare's entry worker -> the Worker.
//                job.cfTransport "dispatchFetch" uses Miniflare's dispatchFetch instead (one more
//                hop, ~0.5 ms on a 2-vCPU machine). The bundle and bindings are set up as in
//                functions/platforms/cloudflare/host.mjs (modules, compatibility date/flags, secret
//                bindings, KV, Durable Objects, upstream = the stack's hostname); the
//                host's front worker (a local-only country header) is left out, and "continue to
//                the origin" (fetch) goes to a tiny origin Worker in the same workerd via
//                `outboundService`, so no Node server is on the timed path.
//   vercel       Vercel's edge-runtime VM loaded by functions/platforms/vercel/host.mjs (loadMiddleware),
//                timed around runtime.dispatchFetch + waitUntil; x-middleware-next/rewrite means
//                "forward". Matcher and origin proxying are host work and are not timed. Fetches
//                the middleware makes itself (ESI shell and fragments) go to a loopback origin
//                server in this process.
//   lambda-edge  the CommonJS handler loaded with loadHandler (functions/platforms/lambda-edge/host.mjs),
//                called in-process with a CloudFront viewer-request or origin-request event built
//                by makeEvent (built before the timer starts; origin-request records carry the
//                distribution's default origin and its Host, as CloudFront sends them). Results are
//                checked against CloudFront's rules (cloudfront-rules.mjs) outside the timed region.
//                The handler's own fetches go to the same loopback origin server as on Vercel.
// Output per (implementation, scenario): n, p50/p90/p99/mean/min/max in ms, req/s, and how many
// samples overlapped a garbage collection of this Node process (with p99 over the others); with
// job.ttfb also ttfb_* (time to the first byte of the response body) next to the totals.
// The job arrives on stdin because it carries the benchmark's secret.
import dc from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// The origin behind the edge: the pages of job.site (after their delay), an echo of the request
// for every other path, so forwards can be checked against what the origin actually received.
// A page with delayCookie waits for that cookie's value (ms) instead of delayMs when the request carries it (the
// ESI latency sweep: both sides pass the viewer's cookie on to their fragment fetches).
const pageDelay = (page, cookie) => {
  if (page.delayCookie) {
    for (const part of String(cookie ?? "").split(";")) {
      const [k, v] = part.trim().split("=");
      if (k === page.delayCookie && /^[0-9]+$/.test(v ?? "")) return Number(v);
    }
  }
  return page.delayMs ?? 0;
};
const ORIGIN_WORKER = `const pageDelay = ${pageDelay.toString()};
export default {
  async fetch(request, env) {
    const page = env.SITE[new URL(request.url).pathname];
    if (page) {
      const delay = pageDelay(page, request.headers.get("cookie"));
      if (delay) await new Promise((r) => setTimeout(r, delay));
      return new Response(page.body, { headers: { "content-type": page.type } });
    }
    const headers = {};
    request.headers.forEach((v, k) => { headers[k] = v; });
    return new Response(JSON.stringify({ method: request.method, url: request.url, headers }),
      { headers: { "content-type": "application/json", "x-bench-origin": "1" } });
  },
};`;
const CF_BLOB = { country: "US", colo: "LCL" }; // always set: undefined would make Miniflare fetch cf.json

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const lower = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const webHeaders = (s) => Object.fromEntries(Object.entries(s.headers).filter(([k]) => k.toLowerCase() !== "host"));
const urlOf = (s) => `https://${s.host}${s.path}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Headers of an answer as { name: value } (Set-Cookie: every cookie, joined), optionally filtered by name. */
function answerHeaders(h, keep = () => true) {
  const out = {};
  h.forEach((v, k) => {
    if (keep(k) && k !== "set-cookie") out[k] = v;
  });
  const cookies = h.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies.join(", ");
  return out;
}

/** Read a response body; with `timed`, also when its first byte arrived (performance.now()). */
async function readBody(res, timed) {
  if (!timed) return { body: await res.text() };
  let body = "";
  let firstByteAt;
  if (res.body) {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (firstByteAt === undefined && value.byteLength) firstByteAt = performance.now();
      body += dec.decode(value, { stream: true });
    }
    body += dec.decode();
  }
  return { body, firstByteAt };
}

/** Close a loopback server now: keep-alive connections from the runtime under test would hold it open. */
function stopServer(server) {
  server.closeAllConnections();
  return new Promise((r) => server.close(r));
}

// ---------------------------------------------------------------- loopback origin (Vercel, Lambda@Edge)
// Same pages as ORIGIN_WORKER, as a Node server on 127.0.0.1 in this process (where the edge-runtime
// VM and the Lambda handler run too). One per process, shared by both implementations.

let nodeOrigin;
function startNodeOrigin(job) {
  nodeOrigin ??= new Promise((resolveStart) => {
    const site = job.site ?? {};
    const server = createServer(async (req, res) => {
      const page = site[new URL(req.url, "http://origin").pathname];
      if (page) {
        const delay = pageDelay(page, req.headers.cookie);
        if (delay) await sleep(delay);
        res.writeHead(200, { "content-type": page.type }).end(page.body);
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-bench-origin": "1" })
        .end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, "127.0.0.1", () => resolveStart({ base: `http://127.0.0.1:${server.address().port}`, close: () => stopServer(server) }));
  });
  return nodeOrigin;
}

/** Declared origins and the site's own host -> the loopback origin; nothing else may leave the machine. */
function remapper(job, base) {
  const mapped = new Set([...Object.values(job.origins ?? {}), `https://${job.siteHost}`].map((u) => new URL(u).origin));
  return (input) => {
    const u = new URL(String(input));
    if (mapped.has(u.origin)) {
      const out = new URL(base);
      out.pathname = u.pathname;
      out.search = u.search;
      return out;
    }
    if (u.hostname === "127.0.0.1") return u;
    throw new Error(`bench: refusing to fetch ${u.origin}: not a declared origin, and nothing leaves this machine`);
  };
}

/** A loopback stand-in for Edge Config's read API (GET <id>/item/<key>), serving the manifest's live settings. */
function startEdgeConfig(items) {
  const token = "bench-token";
  return new Promise((resolveStart) => {
    const server = createServer((req, res) => {
      const m = /^\/ecfg_bench\/item\/([^/?]+)/.exec(req.url ?? "");
      const key = m && decodeURIComponent(m[1]);
      if (req.headers.authorization !== `Bearer ${token}`) return res.writeHead(401).end();
      if (!key || !(key in items)) return res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      res.writeHead(200, { "content-type": "application/json" }).end(items[key]); // the values are JSON text
    });
    server.listen(0, "127.0.0.1", () => resolveStart({
      conn: `http://127.0.0.1:${server.address().port}/ecfg_bench?token=${token}`,
      close: () => stopServer(server),
    }));
  });
}

// ---------------------------------------------------------------- drivers
// A driver: load() (timed for cold starts), prepare() (untimed harness set-up), settle() (warm runs
// only, after the warm-up, untimed: let reads the warm-up began in the background land), pre(scenario) -> state
// (untimed), fire(scenario, state) -> raw (timed), outcome(scenario, state, raw) ->
// { kind, status, headers, url?, body? } (untimed), close().

async function cloudflareDriver(job, impl) {
  // Miniflare's own Response: its proxy (getCaches) serialises that class, not Node's.
  const { Miniflare, Response: MfResponse } = createRequire(join(job.functionsDir, "package.json"))("miniflare");
  const cf = job.cloudflare ?? {}; // the manifest's settings for the cloudflare target
  const bindings = { ...(impl.env ?? {}) };
  const isEdgeport = impl.name === "edgeport"; // its config is in the bundle; it also gets the stack's KV and DOs
  return {
    async load() {
      this.mf = new Miniflare({
        host: "127.0.0.1",
        port: 0,
        cf: CF_BLOB,
        // as on a zone route: the Worker sees https://<hostname>/..., and fetch(request) goes "upstream"
        ...(cf.hostname ? { upstream: `https://${cf.hostname}` } : {}),
        workers: [
          {
            name: "edge",
            modules: [{ type: "ESModule", path: "worker.mjs", contents: readFileSync(impl.bundle, "utf8") }],
            modulesRoot: "/",
            compatibilityDate: cf.compatibilityDate,
            compatibilityFlags: cf.compatibilityFlags ?? [],
            bindings,
            ...(isEdgeport ? { kvNamespaces: cf.kv ?? [], durableObjects: cf.durableObjects ?? {} } : {}),
            outboundService: "origin",
          },
          { name: "origin", modules: true, script: ORIGIN_WORKER, compatibilityDate: cf.compatibilityDate, bindings: { SITE: job.site ?? {} } },
        ],
      });
      this.url = await this.mf.ready;
    },
    async prepare() {
      // Seeding stores is deployment work (Pulumi seeds KV with the declared ratios), not cold start.
      if (isEdgeport && (cf.kv ?? []).length) {
        const kv = await this.mf.getKVNamespace(cf.kv[0], "edge");
        for (const [k, v] of Object.entries(cf.live ?? {})) await kv.put(k, v);
      }
      if (!impl.cache?.length) return;
      const caches = await this.mf.getCaches();
      for (const path of impl.cache) {
        const page = job.site?.[path];
        if (!page) throw new Error(`${impl.name}: cache seed ${path} is not a site page`);
        const url = `https://${cf.hostname}${path}`;
        await caches.default.put(url, new MfResponse(page.body, { headers: { "content-type": page.type, "cache-control": "public, max-age=3600" } }));
        if (!(await caches.default.match(url))) throw new Error(`${impl.name}: ${url} did not stay in caches.default`);
      }
    },
    pre(s) {
      const headers = webHeaders(s);
      if (s.country === undefined) return { headers };
      const blob = { ...CF_BLOB, country: s.country };
      // over HTTP, Miniflare's entry worker takes request.cf from this header (dispatchFetch: the cf option)
      return job.cfTransport === "dispatchFetch" ? { headers, cf: blob } : { headers: { ...headers, "MF-CF-Blob": JSON.stringify(blob) } };
    },
    async fire(s, st) {
      // "http": Node fetch (undici, keep-alive) to workerd's own loopback port, as a client would;
      // "dispatchFetch": Miniflare's API, which adds its own hop (~0.5 ms here).
      const res = job.cfTransport === "dispatchFetch"
        ? await this.mf.dispatchFetch(urlOf(s), { method: s.method, headers: st.headers, ...(st.cf ? { cf: st.cf } : {}) })
        : await fetch(new URL(s.path, this.url), { method: s.method, headers: st.headers });
      return { status: res.status, headers: res.headers, ...(await readBody(res, job.ttfb)) };
    },
    outcome(s, _st, raw) {
      if (raw.headers.get("x-bench-origin") === "1") {
        const echo = JSON.parse(raw.body);
        return { kind: "forward", status: raw.status, headers: echo.headers, url: echo.url, responseHeaders: answerHeaders(raw.headers) };
      }
      return { kind: "respond", status: raw.status, headers: Object.fromEntries(raw.headers), body: raw.body };
    },
    close() {
      return this.mf?.dispose();
    },
  };
}

async function vercelDriver(job, impl) {
  const { loadMiddleware } = await import(pathToFileURL(join(job.functionsDir, "platforms", "vercel", "host.mjs")).href);
  // loadMiddleware converts the module to a classic script with esbuild; start esbuild's
  // service first so a cold start measures the runtime, not the esbuild process spawn.
  await createRequire(join(job.functionsDir, "package.json"))("esbuild").transform("");
  const origin = await startNodeOrigin(job);
  const store = impl.liveStore ? await startEdgeConfig(job.vercel?.live ?? {}) : null;
  return {
    async load() {
      const env = { ...(impl.env ?? {}), ...(store ? { EDGE_CONFIG: store.conn } : {}) };
      this.mw = await loadMiddleware(impl.bundle, { env, remap: remapper(job, origin.base) });
      for (const s of job.scenarios) {
        if (!this.mw.matches(s.path)) throw new Error(`${impl.name}: the middleware matcher does not run on ${s.path}`);
      }
    },
    pre(s) {
      const headers = webHeaders(s);
      // Vercel's proxy sets the geolocation headers (clients cannot); here the scenario does.
      return { headers: s.country === undefined ? headers : { ...headers, "x-vercel-ip-country": s.country } };
    },
    async fire(s, st) {
      const res = await this.mw.runtime.dispatchFetch(urlOf(s), { method: s.method, headers: st.headers });
      await res.waitUntil();
      return { status: res.status, headers: res.headers, ...(await readBody(res, job.ttfb)) };
    },
    outcome(s, st, raw) {
      const h = raw.headers;
      const rewritten = h.get("x-middleware-rewrite");
      if (h.get("x-middleware-next") === "1" || rewritten) {
        let fwd = lower(st.headers);
        const override = h.get("x-middleware-override-headers");
        if (override !== null) {
          fwd = {};
          for (const k of override.split(",").filter(Boolean)) fwd[k] = h.get(`x-middleware-request-${k}`);
        }
        return { kind: "forward", status: 200, headers: fwd, url: rewritten ? new URL(rewritten, urlOf(s)).href : urlOf(s),
                 responseHeaders: answerHeaders(h, (k) => !k.startsWith("x-middleware-")) };
      }
      return { kind: "respond", status: raw.status, headers: Object.fromEntries(h), body: raw.body };
    },
    close() {
      return store?.close();
    },
  };
}

/** The handlers share this process: their fetches go to the loopback origin (patched once per process). */
let fetchPatched = false;
async function patchFetch(remap, functionsDir) {
  if (fetchPatched) return;
  fetchPatched = true;
  const { remappedFetch } = await import(`${pathToFileURL(join(functionsDir, "local")).href}/origins.mjs`);
  globalThis.fetch = remappedFetch(globalThis.fetch, remap);
}

async function lambdaDriver(job, impl) {
  const local = pathToFileURL(join(job.functionsDir, "platforms", "lambda-edge")).href;
  const { loadHandler, makeEvent, cfHeaders } = await import(`${local}/host.mjs`);
  const { validateResult, isGeneratedResponse } = await import(`${local}/cloudfront-rules.mjs`);
  const origin = await startNodeOrigin(job);
  await patchFetch(remapper(job, origin.base), job.functionsDir);
  // One trigger (job.event), or several run in turn per request (job.events), each from its own bundle.
  const events = job.events ?? [job.event ?? "viewer-request"];
  const event = events[0];
  const defaultOrigin = new URL(job.origins?.default ?? `https://${job.siteHost}`);
  const customOrigin = () => ({
    custom: { customHeaders: {}, domainName: defaultOrigin.hostname, keepaliveTimeout: 5, path: "", port: 443, protocol: "https",
              readTimeout: 30, sslProtocols: ["TLSv1.2"] },
  });
  return {
    load() {
      this.handlers = events.map((e) => loadHandler(impl.bundles?.[e] ?? impl.bundle));
      this.handler = this.handlers[0];
    },
    // A container starts reading its secrets while it loads, and its live A/B ratios on the first A/B request,
    // which does not wait for them (declared ratios until the read lands): a warm container has both.
    settle() {
      return new Promise((r) => setTimeout(r, job.settleMs ?? 0));
    },
    pre(s) {
      const raw = Object.entries(s.headers).flat();
      const request = { clientIp: "203.0.113.10", method: s.method, uri: s.path, querystring: "", headers: cfHeaders(raw) };
      if (event === "origin-request") {
        // What CloudFront sends an origin-request trigger on a cache miss: the distribution's
        // default origin, Host = that origin, and (origin request policy) the viewer's country.
        request.origin = customOrigin();
        request.headers.host = [{ key: "Host", value: defaultOrigin.host }];
        if (s.country !== undefined) request.headers["cloudfront-viewer-country"] = [{ key: "CloudFront-Viewer-Country", value: s.country }];
      }
      const ev = makeEvent(event, request);
      const st = { event: ev, input: structuredClone(ev) };
      if (events.length > 1) {
        // The next trigger's additions, made before the timer: CloudFront adds the distribution's origin, sets Host to
        // it and (origin request policy) the viewer's country; the config names the trigger.
        st.next = events.slice(1).map((e) => ({
          config: { ...ev.Records[0].cf.config, eventType: e },
          origin: customOrigin(),
          host: [{ key: "Host", value: defaultOrigin.host }],
          country: s.country === undefined ? undefined : [{ key: "CloudFront-Viewer-Country", value: s.country }],
        }));
      }
      return st;
    },
    async fire(_s, st) {
      if (events.length === 1) return this.handler(st.event);
      // Triggers in turn, as CloudFront runs them on a cache miss: a generated response ends the request; a request
      // record goes on, with what CloudFront adds for origin-facing triggers (the shallow copies cost the same on
      // every side; the records a handler returns are kept for the checks).
      const steps = [];
      let ev = st.event;
      for (let i = 0; ; i++) {
        const out = await this.handlers[i](ev);
        steps.push({ event: events[i], out });
        if (i === events.length - 1 || isGeneratedResponse(out)) return { steps };
        const add = st.next[i];
        const headers = { ...out.headers, host: add.host };
        if (add.country) headers["cloudfront-viewer-country"] = add.country;
        ev = { Records: [{ cf: { config: add.config, request: { ...out, headers, origin: add.origin } } }] };
      }
    },
    outcome(_s, st, res) {
      let out = res;
      if (res?.steps) {
        // each trigger's result against CloudFront's rules: the first against the event as it was before the timer,
        // the others against their input rebuilt from the previous result (handlers edit their record in place)
        res.steps.forEach((x, i) => {
          let input = st.input;
          if (i > 0) {
            const prev = res.steps[i - 1].out;
            const add = st.next[i - 1];
            const headers = { ...prev.headers, host: add.host, ...(add.country ? { "cloudfront-viewer-country": add.country } : {}) };
            input = { Records: [{ cf: { config: add.config, request: { ...prev, headers, origin: customOrigin() } } }] };
          }
          validateResult(x.event, input, x.out);
        });
        out = res.steps[res.steps.length - 1].out;
      } else {
        validateResult(event, st.input, out); // throws what CloudFront would answer with a 502
      }
      const headers = Object.fromEntries(Object.entries(out.headers ?? {}).map(([k, vs]) => [k, vs.map((v) => v.value).join(", ")]));
      if (isGeneratedResponse(out)) return { kind: "respond", status: Number(out.status), headers, body: out.body };
      const c = out.origin?.custom;
      const url = c ? `${c.protocol}://${c.domainName}${c.path ?? ""}${out.uri}` : `https://${headers.host}${out.uri}`;
      return { kind: "forward", status: 200, headers, url };
    },
    close() {},
  };
}

const DRIVERS = { cloudflare: cloudflareDriver, vercel: vercelDriver, "lambda-edge": lambdaDriver };
const TRANSPORT = {
  cloudflare: "workerd (Miniflare), HTTP to its loopback port with Node fetch (origin = Worker in the same workerd)",
  "cloudflare/dispatchFetch": "workerd via Miniflare dispatchFetch (origin = Worker in the same workerd)",
  vercel: "edge-runtime VM runtime.dispatchFetch",
  "lambda-edge": "handler called in-process with a CloudFront event",
};

// ---------------------------------------------------------------- checking and statistics

function check(implName, s, got, runtime) {
  // "edgeport@lambda-edge": where a runtime's timed part differs (Lambda@Edge times one trigger of several).
  const want = s.expect[`${implName}@${runtime}`] ?? s.expect[implName];
  if (!want) throw new Error(`scenario ${s.name} has no expectation for ${implName}`);
  const problems = [];
  if (got.kind !== want.kind) problems.push(`expected ${want.kind}, got ${got.kind}`);
  if (want.status !== undefined && got.status !== want.status) problems.push(`expected status ${want.status}, got ${got.status}`);
  for (const [k, v] of Object.entries(want.headers ?? {})) {
    const have = got.headers?.[k.toLowerCase()];
    if (v === true ? have == null : v === null ? have != null : have !== v) problems.push(`header ${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(have)}`);
  }
  if (want.host !== undefined || want.path !== undefined) {
    const u = got.url ? new URL(got.url) : null;
    if (want.host !== undefined && u?.host !== want.host) problems.push(`expected to go to host ${want.host}, went to ${u?.host}`);
    if (want.path !== undefined && u?.pathname !== want.path) problems.push(`expected path ${want.path}, got ${u?.pathname}`);
  }
  if (got.responseHeaders) {
    for (const [k, v] of Object.entries(want.responseHeaders ?? {})) {
      const have = got.responseHeaders[k.toLowerCase()];
      if (v === true ? have == null : v === null ? have != null : have !== v) problems.push(`answer header ${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(have)}`);
    }
  }
  for (const x of want.bodyIncludes ?? []) if (!String(got.body ?? "").includes(x)) problems.push(`body lacks ${JSON.stringify(x)}`);
  for (const x of want.bodyExcludes ?? []) if (String(got.body ?? "").includes(x)) problems.push(`body contains ${JSON.stringify(x)}`);
  if (problems.length) {
    const said = got.kind === "respond" ? ` (answered ${got.status}: ${String(got.body ?? "").slice(0, 200)})` : "";
    throw new Error(`${implName} / ${s.name}: ${problems.join("; ")}${said}`);
  }
}

// 5 significant digits: Vercel and Lambda@Edge cells can be a few hundred nanoseconds, where a
// fixed 0.0001 ms rounding would leave one digit (and ratios of rounding noise).
const sig5 = (x) => Number(x.toPrecision(5));

function percentiles(samples, prefix = "") {
  const s = Float64Array.from(samples).sort();
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    [`${prefix}p50_ms`]: sig5(q(0.5)),
    [`${prefix}p90_ms`]: sig5(q(0.9)),
    [`${prefix}p99_ms`]: sig5(q(0.99)),
    [`${prefix}mean_ms`]: sig5(mean),
    [`${prefix}min_ms`]: sig5(s[0]),
    [`${prefix}max_ms`]: sig5(s[s.length - 1]),
  };
}

function stats(samples, wallMs) {
  return { n: samples.length, ...percentiles(samples), req_per_s: Math.round((samples.length / wallMs) * 1000) };
}

// scenario.rotate: header sets taken in turn, one per request, counted per implementation and scenario (each
// implementation's runtime keeps its own caches; a shared counter would let one see every k-th value only).
const turns = new Map();
function rotated(implName, s) {
  if (!s.rotate?.length) return s;
  const k = `${implName}\u0000${s.name}`;
  const i = turns.get(k) ?? 0;
  turns.set(k, i + 1);
  return { ...s, headers: { ...s.headers, ...s.rotate[i % s.rotate.length] } };
}

/** One checked request. acc (timed runs): collects its start and, with job.ttfb, its time to first byte. */
async function one(d, implName, s0, acc) {
  const s = rotated(implName, s0); // untimed
  const st = d.pre(s);
  const t = performance.now();
  const raw = await d.fire(s, st);
  const ms = performance.now() - t;
  if (acc) {
    acc.starts.push(t);
    if (acc.ttfb) acc.ttfb.push(raw.firstByteAt === undefined ? ms : raw.firstByteAt - t); // empty body: first byte = last
  }
  check(implName, s, d.outcome(s, st, raw), d.runtime);
  return ms;
}

// Garbage collections of this Node process (the client; and the runtime itself for edge-runtime
// and Lambda@Edge, which run in-process; workerd's own GC is not visible from here).
function observeGc() {
  const { PerformanceObserver } = globalThis;
  const entries = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) entries.push([e.startTime, e.startTime + e.duration]);
  });
  obs.observe({ entryTypes: ["gc"] });
  return {
    async stop() {
      await sleep(20); // let buffered entries arrive
      obs.disconnect();
      return entries.sort((a, b) => a[0] - b[0]);
    },
  };
}

/** Which samples overlapped a GC pause: their count, and p99 over the others. */
function gcStats(samples, starts, gcs) {
  const hit = (t0, t1) => {
    let lo = 0, hi = gcs.length; // first gc with end >= t0
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (gcs[mid][1] < t0) lo = mid + 1;
      else hi = mid;
    }
    return lo < gcs.length && gcs[lo][0] <= t1;
  };
  const clean = [];
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    if (hit(starts[i], starts[i] + samples[i])) n++;
    else clean.push(samples[i]);
  }
  const s = Float64Array.from(clean).sort();
  const p99 = s.length ? s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] : null;
  return { samples_with_node_gc: n, p99_without_node_gc_ms: p99 === null ? null : sig5(p99) };
}

// ---------------------------------------------------------------- modes

/** The scenarios as `impl` receives them: with the request headers only it gets (scenario.implHeaders). */
function scenariosFor(job, impl) {
  return job.scenarios.map((s) => (s.implHeaders?.[impl.name] ? { ...s, headers: { ...s.headers, ...s.implHeaders[impl.name] } } : s));
}

/**
 * Lambda@Edge store calls (Secrets Manager, SSM) of this process, as they happen: the AWS SDK's Node HTTP handler
 * goes through node:http, whose client requests are published on diagnostics_channel ("http.client.request.start",
 * "http.client.response.finish": https://nodejs.org/docs/latest-v20.x/api/diagnostics_channel.html#http). Only
 * requests to the store endpoints the harness set (AWS_ENDPOINT_URL_*) count; the handlers' own fetches use undici.
 */
function watchStoreCalls() {
  const hosts = new Set(["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SSM"]
    .map((k) => process.env[k]).filter(Boolean).map((u) => new URL(u).host));
  const calls = new Map();
  const onStart = ({ request }) => {
    if (hosts.has(String(request.getHeader?.("host") ?? ""))) calls.set(request, { action: String(request.getHeader?.("x-amz-target") ?? request.path), start: performance.now() });
  };
  const onFinish = ({ request }) => {
    const c = calls.get(request);
    if (c) c.end ??= performance.now();
  };
  dc.subscribe("http.client.request.start", onStart);
  dc.subscribe("http.client.response.finish", onFinish);
  return {
    stop() {
      dc.unsubscribe("http.client.request.start", onStart);
      dc.unsubscribe("http.client.response.finish", onFinish);
      return [...calls.values()];
    },
  };
}

async function cold(job) {
  const impl = job.impls[0];
  const d = { runtime: job.runtime, ...(await DRIVERS[job.runtime](job, impl)) };
  const stores = job.runtime === "lambda-edge" ? watchStoreCalls() : null;
  try {
    const t0 = performance.now();
    await d.load();
    const t1 = performance.now();
    await d.prepare?.();
    const acc = { starts: [], ttfb: null };
    const first = await one(d, impl.name, scenariosFor(job, impl)[0], acc);
    const tEnd = acc.starts[0] + first; // the first response complete (the untimed prepare() lies before it)
    const r = (x) => Math.round(x * 100) / 100;
    const out = { runtime: job.runtime, implementation: impl.name, load_ms: r(t1 - t0), first_request_ms: r(first), total_ms: r(t1 - t0 + first) };
    if (stores) {
      // every store call begun by the time the first response was complete, in ms from the start of loading (the
      // untimed prepare() included), next to when that response was complete; end null: still under way then (the
      // request did not wait for it)
      const calls = stores.stop().filter((c) => c.start <= tEnd);
      out.first_response_at_ms = r(tEnd - t0);
      out.store_calls = calls.map((c) => ({ action: c.action, start_ms: r(c.start - t0), end_ms: c.end === undefined || c.end > tEnd ? null : r(c.end - t0) }));
    }
    return out;
  } finally {
    stores?.stop();
    await d.close();
  }
}

async function warm(job) {
  const drivers = [];
  try {
    for (const impl of job.impls) {
      drivers.push({ impl, scenarios: scenariosFor(job, impl), d: Object.assign(await DRIVERS[job.runtime](job, impl), { runtime: job.runtime }) });
    }
    // Loading is not timed here: start both runtimes at once (two workerd processes boot in parallel).
    await Promise.all(drivers.map(async ({ d }) => {
      await d.load();
      await d.prepare?.();
    }));
    for (const { impl, d, scenarios } of drivers) for (const s of scenarios) for (let i = 0; i < (s.warmup ?? job.warmup); i++) await one(d, impl.name, s);
    await Promise.all(drivers.map(({ d }) => d.settle?.()));
    // Interleave: every round runs a block of each (implementation, scenario), alternating
    // which implementation goes first, so drift on a shared machine hits both sides alike.
    const rounds = Math.max(1, Math.min(job.rounds, job.n));
    const acc = new Map();
    const gc = observeGc();
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...drivers].reverse() : drivers;
      for (let si = 0; si < job.scenarios.length; si++) {
        // a scenario may run fewer requests than the job (the ESI latency sweep): spread over the same rounds
        const n = job.scenarios[si].n ?? job.n;
        const count = Math.floor(n / rounds) + (r < n % rounds ? 1 : 0);
        for (const { impl, d, scenarios } of order) {
          const s = scenarios[si];
          const key = `${impl.name}\u0000${s.name}`;
          const a = acc.get(key) ?? { impl: impl.name, scenario: s.name, samples: [], starts: [], ttfb: job.ttfb ? [] : null, wall: 0 };
          acc.set(key, a);
          const t = performance.now();
          for (let i = 0; i < count; i++) a.samples.push(await one(d, impl.name, s, a));
          a.wall += performance.now() - t;
        }
      }
    }
    const gcs = await gc.stop();
    const results = [...acc.values()].map((a) => ({
      implementation: a.impl,
      scenario: a.scenario,
      ...stats(a.samples, a.wall),
      ...(a.ttfb ? percentiles(a.ttfb, "ttfb_") : {}),
      ...gcStats(a.samples, a.starts, gcs),
    }));
    const transport = TRANSPORT[job.runtime === "cloudflare" && job.cfTransport === "dispatchFetch" ? "cloudflare/dispatchFetch" : job.runtime];
    return { runtime: job.runtime, transport, warmup: job.warmup, rounds, results };
  } finally {
    for (const { d } of drivers) await d.close();
  }
}

// bench/profile.mjs runs the same drivers and checks under the profiler.
export { DRIVERS, one, readStdin, scenariosFor, stopNodeOrigin };

async function stopNodeOrigin() {
  if (nodeOrigin) await (await nodeOrigin).close();
}

async function main() {
  let code = 0;
  let out;
  try {
    const job = await readStdin();
    job.functionsDir = resolve(job.functionsDir);
    if (!DRIVERS[job.runtime]) throw new Error(`unknown runtime ${job.runtime}`);
    out = job.mode === "cold" ? await cold(job) : await warm(job);
  } catch (e) {
    out = { error: e?.message ?? String(e) };
    code = 1;
  } finally {
    await stopNodeOrigin();
  }
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
