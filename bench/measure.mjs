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
//   impls: [{ name, bundle, config?, env? }],                         // "warm": all, "cold": exactly one
//   event: "viewer-request",                                          // Lambda@Edge trigger
//   cfTransport: "http" | "dispatchFetch",                            // Cloudflare only (default http)
//   scenarios: [{ name, method, host, path, headers, expect: { <impl name>: Expect } }],
//   n, warmup, rounds
// }
// Expect = { kind: "forward" | "respond", status?, headers?: { name: value | true | null } }
//   (true = present, null = absent). Every warm-up and every timed request is checked; a
//   mismatch fails the run, so the numbers always describe the intended code path.
//
// How each runtime is driven (bundles loaded the way functions/local/* load them for `edgeport dev`,
// minus what only the local host needs):
//   cloudflare   workerd through Miniflare, requests sent as HTTP to its own loopback port with
//                Node's fetch (undici, keep-alive): Node -> Miniflare's entry worker -> the Worker.
//                job.cfTransport "dispatchFetch" uses Miniflare's dispatchFetch instead (one more
//                hop, ~0.5 ms on a 2-vCPU machine). The bundle and bindings are set up as in
//                functions/local/cloudflare.mjs (modules, compatibility date/flags, EDGEPORT_CONFIG
//                and secret bindings, KV, Durable Objects, upstream = the stack's hostname); the
//                host's front worker (a local-only country header) is left out, and "continue to
//                the origin" (fetch) goes to a tiny origin Worker in the same workerd via
//                `outboundService`, so no Node server is on the timed path.
//   vercel       Vercel's edge-runtime VM loaded by functions/local/vercel.mjs (loadMiddleware),
//                timed around runtime.dispatchFetch + waitUntil; x-middleware-next/rewrite means
//                "forward". Matcher and origin proxying are host work and are not timed.
//   lambda-edge  the CommonJS handler loaded with loadHandler (functions/local/lambda-edge.mjs),
//                called in-process with a CloudFront viewer-request event built by makeEvent
//                (built before the timer starts). Results are checked against CloudFront's rules
//                (cloudfront-rules.mjs) outside the timed region.
// Output per (implementation, scenario): n, p50/p90/p99/mean/min/max in ms, req/s, and how many
// samples overlapped a garbage collection of this Node process (with p99 over the others).
// The job arrives on stdin because it carries the benchmark's secret.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ORIGIN_WORKER = `export default {
  async fetch(request) {
    const headers = {};
    request.headers.forEach((v, k) => { headers[k] = v; });
    return new Response(JSON.stringify({ method: request.method, url: request.url, headers }),
      { headers: { "content-type": "application/json", "x-bench-origin": "1" } });
  },
};`;

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const lower = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const webHeaders = (s) => Object.fromEntries(Object.entries(s.headers).filter(([k]) => k.toLowerCase() !== "host"));
const urlOf = (s) => `https://${s.host}${s.path}`;

// ---------------------------------------------------------------- drivers
// A driver: pre(scenario) -> state (untimed), fire(scenario, state) -> raw (timed),
// outcome(scenario, state, raw) -> { kind, status, headers } (untimed), close().

async function cloudflareDriver(job, impl) {
  const { Miniflare } = createRequire(join(job.functionsDir, "package.json"))("miniflare");
  const cf = job.cloudflare ?? {}; // the manifest's settings for the cloudflare target
  const bindings = { ...(impl.env ?? {}) };
  if (impl.config) bindings.EDGEPORT_CONFIG = impl.config;
  const isEdgeport = impl.config !== undefined;
  return {
    async load() {
      this.mf = new Miniflare({
        host: "127.0.0.1",
        port: 0,
        cf: { country: "US", colo: "LCL" }, // always set: undefined would fetch cf.json
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
          { name: "origin", modules: true, script: ORIGIN_WORKER, compatibilityDate: cf.compatibilityDate },
        ],
      });
      this.url = await this.mf.ready;
      if (isEdgeport && (cf.kv ?? []).length) {
        const kv = await this.mf.getKVNamespace(cf.kv[0], "edge");
        for (const [k, v] of Object.entries(cf.live ?? {})) await kv.put(k, v);
      }
    },
    pre: () => undefined,
    async fire(s) {
      // "http": Node fetch (undici, keep-alive) to workerd's own loopback port, as a client would;
      // "dispatchFetch": Miniflare's API, which adds its own hop (~0.5 ms here).
      const res = job.cfTransport === "dispatchFetch"
        ? await this.mf.dispatchFetch(urlOf(s), { method: s.method, headers: webHeaders(s) })
        : await fetch(new URL(s.path, this.url), { method: s.method, headers: webHeaders(s) });
      return { status: res.status, headers: res.headers, body: await res.text() };
    },
    outcome(s, _st, raw) {
      if (raw.headers.get("x-bench-origin") === "1") return { kind: "forward", status: raw.status, headers: JSON.parse(raw.body).headers };
      return { kind: "respond", status: raw.status, headers: Object.fromEntries(raw.headers), body: raw.body };
    },
    close() {
      return this.mf?.dispose();
    },
  };
}

async function vercelDriver(job, impl) {
  const { loadMiddleware } = await import(pathToFileURL(join(job.functionsDir, "local", "vercel.mjs")).href);
  // loadMiddleware converts the module to a classic script with esbuild; start esbuild's
  // service first so a cold start measures the runtime, not the esbuild process spawn.
  await createRequire(join(job.functionsDir, "package.json"))("esbuild").transform("");
  return {
    async load() {
      // remap: identity (the host maps declared origins to local stand-ins; nothing is fetched here)
      this.mw = await loadMiddleware(impl.bundle, { env: impl.env ?? {}, remap: (u) => new URL(u) });
      for (const s of job.scenarios) {
        if (!this.mw.matches(s.path)) throw new Error(`${impl.name}: the middleware matcher does not run on ${s.path}`);
      }
    },
    pre: () => undefined,
    async fire(s) {
      const res = await this.mw.runtime.dispatchFetch(urlOf(s), { method: s.method, headers: webHeaders(s) });
      await res.waitUntil();
      return { status: res.status, headers: res.headers, body: await res.text() };
    },
    outcome(s, _st, raw) {
      const h = raw.headers;
      if (h.get("x-middleware-next") === "1" || h.get("x-middleware-rewrite")) {
        let fwd = lower(webHeaders(s));
        const override = h.get("x-middleware-override-headers");
        if (override !== null) {
          fwd = {};
          for (const k of override.split(",").filter(Boolean)) fwd[k] = h.get(`x-middleware-request-${k}`);
        }
        return { kind: "forward", status: 200, headers: fwd };
      }
      return { kind: "respond", status: raw.status, headers: Object.fromEntries(h), body: raw.body };
    },
    close() {},
  };
}

async function lambdaDriver(job, impl) {
  const local = pathToFileURL(join(job.functionsDir, "local")).href;
  const { loadHandler, makeEvent, cfHeaders } = await import(`${local}/lambda-edge.mjs`);
  const { validateResult, isGeneratedResponse } = await import(`${local}/cloudfront-rules.mjs`);
  return {
    load() {
      this.handler = loadHandler(impl.bundle);
    },
    pre(s) {
      const raw = Object.entries(s.headers).flat();
      const request = { clientIp: "203.0.113.10", method: s.method, uri: s.path, querystring: "", headers: cfHeaders(raw) };
      const event = makeEvent(job.event ?? "viewer-request", request);
      return { event, input: structuredClone(event) };
    },
    fire(_s, st) {
      return this.handler(st.event);
    },
    outcome(_s, st, out) {
      validateResult(job.event ?? "viewer-request", st.input, out); // throws what CloudFront would answer with a 502
      const headers = Object.fromEntries(Object.entries(out.headers ?? {}).map(([k, vs]) => [k, vs.map((v) => v.value).join(", ")]));
      if (isGeneratedResponse(out)) return { kind: "respond", status: Number(out.status), headers, body: out.body };
      return { kind: "forward", status: 200, headers };
    },
    close() {},
  };
}

const DRIVERS = { cloudflare: cloudflareDriver, vercel: vercelDriver, "lambda-edge": lambdaDriver };
const TRANSPORT = {
  cloudflare: "workerd (Miniflare), HTTP to its loopback port with Node fetch (origin = Worker in the same workerd)",
  "cloudflare/dispatchFetch": "workerd via Miniflare dispatchFetch (origin = Worker in the same workerd)",
  vercel: "edge-runtime VM runtime.dispatchFetch",
  "lambda-edge": "handler called in-process with a CloudFront viewer-request event",
};

// ---------------------------------------------------------------- checking and statistics

function check(implName, s, got) {
  const want = s.expect[implName];
  if (!want) throw new Error(`scenario ${s.name} has no expectation for ${implName}`);
  const problems = [];
  if (got.kind !== want.kind) problems.push(`expected ${want.kind}, got ${got.kind}`);
  if (want.status !== undefined && got.status !== want.status) problems.push(`expected status ${want.status}, got ${got.status}`);
  for (const [k, v] of Object.entries(want.headers ?? {})) {
    const have = got.headers?.[k.toLowerCase()];
    if (v === true ? have == null : v === null ? have != null : have !== v) problems.push(`header ${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(have)}`);
  }
  if (problems.length) {
    const said = got.kind === "respond" ? ` (answered ${got.status}: ${String(got.body ?? "").slice(0, 200)})` : "";
    throw new Error(`${implName} / ${s.name}: ${problems.join("; ")}${said}`);
  }
}

function stats(samples, wallMs) {
  const s = Float64Array.from(samples).sort();
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r = (x) => Math.round(x * 10000) / 10000;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    n: samples.length,
    p50_ms: r(q(0.5)),
    p90_ms: r(q(0.9)),
    p99_ms: r(q(0.99)),
    mean_ms: r(mean),
    min_ms: r(s[0]),
    max_ms: r(s[s.length - 1]),
    req_per_s: Math.round((samples.length / wallMs) * 1000),
  };
}

async function one(d, implName, s, starts) {
  const st = d.pre(s);
  const t = performance.now();
  const raw = await d.fire(s, st);
  const ms = performance.now() - t;
  starts?.push(t);
  check(implName, s, d.outcome(s, st, raw));
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
      await new Promise((r) => setTimeout(r, 20)); // let buffered entries arrive
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
  return { samples_with_node_gc: n, p99_without_node_gc_ms: p99 === null ? null : Math.round(p99 * 10000) / 10000 };
}

// ---------------------------------------------------------------- modes

async function cold(job) {
  const impl = job.impls[0];
  const d = await DRIVERS[job.runtime](job, impl);
  try {
    const t0 = performance.now();
    await d.load();
    const t1 = performance.now();
    const first = await one(d, impl.name, job.scenarios[0]);
    const r = (x) => Math.round(x * 100) / 100;
    return { runtime: job.runtime, implementation: impl.name, load_ms: r(t1 - t0), first_request_ms: r(first), total_ms: r(t1 - t0 + first) };
  } finally {
    await d.close();
  }
}

async function warm(job) {
  const drivers = [];
  try {
    for (const impl of job.impls) {
      const d = await DRIVERS[job.runtime](job, impl);
      drivers.push({ impl, d });
      await d.load();
    }
    for (const { impl, d } of drivers) for (const s of job.scenarios) for (let i = 0; i < job.warmup; i++) await one(d, impl.name, s);
    // Interleave: every round runs a block of each (implementation, scenario), alternating
    // which implementation goes first, so drift on a shared machine hits both sides alike.
    const rounds = Math.max(1, Math.min(job.rounds, job.n));
    const acc = new Map();
    const gc = observeGc();
    for (let r = 0; r < rounds; r++) {
      const count = Math.floor(job.n / rounds) + (r < job.n % rounds ? 1 : 0);
      const order = r % 2 ? [...drivers].reverse() : drivers;
      for (const s of job.scenarios) {
        for (const { impl, d } of order) {
          const key = `${impl.name}\u0000${s.name}`;
          const a = acc.get(key) ?? { impl: impl.name, scenario: s.name, samples: [], starts: [], wall: 0 };
          acc.set(key, a);
          const t = performance.now();
          for (let i = 0; i < count; i++) a.samples.push(await one(d, impl.name, s, a.starts));
          a.wall += performance.now() - t;
        }
      }
    }
    const gcs = await gc.stop();
    const results = [...acc.values()].map((a) => ({
      implementation: a.impl,
      scenario: a.scenario,
      ...stats(a.samples, a.wall),
      ...gcStats(a.samples, a.starts, gcs),
    }));
    const transport = TRANSPORT[job.runtime === "cloudflare" && job.cfTransport === "dispatchFetch" ? "cloudflare/dispatchFetch" : job.runtime];
    return { runtime: job.runtime, transport, warmup: job.warmup, rounds, results };
  } finally {
    for (const { d } of drivers) await d.close();
  }
}

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
}
process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
