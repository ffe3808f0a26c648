// Cloudflare locally: the built worker in workerd through Miniflare, with the same
// JSON config binding, secret bindings, KV namespace and Durable Object class the
// WorkersScript gets. A small local-only front worker plays the zone: it applies the
// Workers routes and turns the x-edgeport-country header into request.cf.country (as
// Cloudflare's edge would set it). An outbound service sends fetches for declared
// origins to their local stand-ins. The KV namespace reaches the Worker through a wrapper that
// the admin endpoint can make slow or unreachable (setStore, like Vercel's Edge Config stand-in).
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { eachLine, emit, originNamer } from "../../local/events.mjs";
import { COUNTRY_HEADER, originMapper } from "../../local/origins.mjs";

// A console line of the front worker that is a request log entry, not edge code output.
const LOG_MARK = "\u001eedgeport-request ";

// The zone in front of the Worker: Cloudflare sends a request to the Worker only when the URL (host, path and
// query string) matches one of the Workers routes edgeport creates, and everything else straight to the origin
// (developers.cloudflare.com/workers/configuration/routing/routes/, "Matching behavior": "*" may only begin the
// host and end the path; the query string is part of what is matched). The routes are the emitted ones
// (edgeport.targets.cloudflare.worker_routes), so what is tested is what production routes.
const FRONT = `function routeMatches(pattern, url) {
  const slash = pattern.indexOf("/");
  const host = pattern.slice(0, slash), path = pattern.slice(slash);
  const hostOk = host.startsWith("*") ? url.host.endsWith(host.slice(1)) : url.host === host;
  const target = url.pathname + url.search;
  return hostOk && (path.endsWith("*") ? target.startsWith(path.slice(0, -1)) : target === path);
}
async function serve(request, env, headers, country) {
  // The edge answers "Expect: 100-continue" itself (RFC 9110 §10.1.1); the expectation is not relayed.
  headers.delete("expect");
  const url = new URL(request.url);
  if (env.ROUTES.some((r) => routeMatches(r, url))) {
    const cf = { ...(request.cf ?? {}) };
    if (country !== null) cf.country = country; else delete cf.country;
    return env.MAIN.fetch(new Request(request, { headers, cf }));
  }
  const origin = new URL(env.ORIGIN);
  origin.pathname = origin.pathname.replace(/\\/$/, "") + url.pathname;
  origin.search = url.search;
  return fetch(origin, { method: request.method, headers, body: request.body, redirect: "manual" });
}
export default { async fetch(request, env) {
  const t0 = Date.now();
  const country = request.headers.get(${JSON.stringify(COUNTRY_HEADER)});
  const headers = new Headers(request.headers);
  headers.delete(${JSON.stringify(COUNTRY_HEADER)});
  // Cloudflare gives every request a CF-Ray id (a client cannot choose it) and sends it on to the origin
  // (developers.cloudflare.com/fundamentals/reference/http-headers/#cf-ray); here it also ties the origin
  // fetches the host sees to the request log line below.
  const ray = crypto.randomUUID().replace(/-/g, "").slice(0, 16) + "-LCL";
  headers.set("cf-ray", ray);
  const url = new URL(request.url);
  const res = await serve(request, env, headers, country);
  console.log(${JSON.stringify(LOG_MARK)} + JSON.stringify({ method: request.method, path: url.pathname + url.search, status: res.status, ms: Date.now() - t0, ray }));
  return res;
} };`;

// The live-settings KV namespace as the Worker sees it: a Miniflare wrapped binding (a module instantiated in the
// Worker's isolate over inner bindings) that forwards each call to the real local namespace, unless the host's
// store switches (asked for per call from STORE, a Node service binding) make it wait or fail first - a store that
// is slow or unreachable, as KV can be from a Worker. Only KVNamespace's methods are forwarded.
const KV_WRAPPER = `export default function (env) {
  const kv = env[env.NAMESPACE];
  async function gate() {
    const s = await (await env.STORE.fetch("http://store/")).json();
    if (s.down) throw new Error("KV " + env.NAMESPACE + " is unreachable (local store fault)");
    if (s.delayMs) await new Promise((r) => setTimeout(r, s.delayMs));
  }
  const call = (m) => async (...args) => { await gate(); return kv[m](...args); };
  return { get: call("get"), getWithMetadata: call("getWithMetadata"), put: call("put"), delete: call("delete"), list: call("list") };
}`;

export async function startCloudflare({ artifact, settings, manifest, origins, port, secrets, nowMs }) {
  const nameOf = originNamer(manifest.origins);
  const fetchesByRay = new Map(); // cf-ray -> the declared origins fetched for it (attached to its log line)
  const defaultOrigin = manifest.origins.default;
  const code = readFileSync(artifact.path, "utf8");
  const modules = [{ type: "ESModule", path: "worker.mjs", contents: code }];
  if (nowMs !== undefined) {
    // Test clock: a wrapper module pins Date.now() before the worker runs.
    modules.unshift(
      { type: "ESModule", path: "entry.mjs", contents: 'import "./clock.mjs";\nexport * from "./worker.mjs";\nexport { default } from "./worker.mjs";\n' },
      { type: "ESModule", path: "clock.mjs", contents: `Date.now = () => ${Number(nowMs)};\n` },
    );
  }
  const remap = originMapper(origins);
  // Fetches to declared origins leave workerd here and go to their local stand-ins.
  const toOrigin = async (request) => {
    const ray = request.headers.get("cf-ray");
    const to = remap(request.url);
    if (ray && to.href !== request.url) {
      if (!fetchesByRay.has(ray) && fetchesByRay.size > 1000) fetchesByRay.delete(fetchesByRay.keys().next().value);
      fetchesByRay.set(ray, [...(fetchesByRay.get(ray) ?? []), nameOf(request.url)]);
    }
    const headers = new Headers(request.headers);
    headers.delete("host");
    const res = await fetch(to, { method: request.method, headers, body: request.body, duplex: "half", redirect: "manual" });
    // Miniflare hands this answer to workerd over a keep-alive loopback connection and, when its body breaks off (an
    // origin reset mid-body), ends it early without closing the connection: workerd would see the cut only when that
    // idle connection times out (Node's keepAliveTimeout, 5 s). "Connection: close" ends the connection with the
    // answer, so the cut reaches the Worker when it happens, as it would from a real origin.
    const out = new Headers(res.headers);
    out.set("connection", "close");
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  };
  const kvBindings = settings.kv ?? [];
  const store = { down: false, delayMs: 0 };
  const durableObjects = Object.fromEntries(Object.entries(settings.durableObjects ?? {}).map(([b, cls]) => [b, cls]));
  // workerd's structured logs carry each console call's level (log, info, debug, warn, error); the front worker's
  // request lines are among them. Other runtime output (workerd's own errors) arrives on its stderr.
  const handleStructuredLogs = ({ level, message }) => {
    if (!message.startsWith(LOG_MARK)) return emit({ event: "console", level, text: message });
    const { ray, ...rest } = JSON.parse(message.slice(LOG_MARK.length));
    emit({ event: "request", ...rest, origins: fetchesByRay.get(ray) ?? [] });
    fetchesByRay.delete(ray);
  };
  const handleRuntimeStdio = (stdout, stderr) => {
    stdout.resume(); // the structured logs, read by Miniflare (handleStructuredLogs)
    eachLine(stderr, (line) => emit({ event: "console", level: "error", text: line }));
  };
  const mf = new Miniflare({
    structuredWorkerdLogs: true,
    handleStructuredLogs,
    handleRuntimeStdio,
    host: "127.0.0.1",
    port,
    upstream: `https://${settings.hostname}`,
    workers: [
      { name: "front", modules: [{ type: "ESModule", path: "front.mjs", contents: FRONT }], compatibilityDate: settings.compatibilityDate,
        serviceBindings: { MAIN: "main" }, bindings: { ROUTES: settings.routes ?? [], ORIGIN: defaultOrigin },
        outboundService: (request) => toOrigin(request) },
      {
        name: "main",
        modules,
        modulesRoot: "/",
        compatibilityDate: settings.compatibilityDate,
        compatibilityFlags: settings.compatibilityFlags ?? [],
        bindings: { ...secrets },
        wrappedBindings: Object.fromEntries(kvBindings.map((b) => [b, { scriptName: "kv", bindings: { NAMESPACE: b } }])),
        durableObjects,
        outboundService: (request) => toOrigin(request),
      },
      ...(kvBindings.length ? [{
        name: "kv", modules: [{ type: "ESModule", path: "kv.mjs", contents: KV_WRAPPER }],
        kvNamespaces: kvBindings, serviceBindings: { STORE: () => Response.json(store) },
      }] : []),
    ],
  });
  const url = await mf.ready;
  const kv = kvBindings.length ? await mf.getKVNamespace(kvBindings[0], "kv") : null;
  async function setLive(key, value) {
    if (!kv) throw new Error("this stack has no live settings on cloudflare");
    if (value === null) await kv.delete(key);
    else await kv.put(key, value);
  }
  function setStore({ down, delayMs }) {
    if (!kv) throw new Error("this stack has no live settings on cloudflare");
    if (down !== undefined) store.down = down;
    if (delayMs !== undefined) store.delayMs = delayMs;
  }
  for (const [key, value] of Object.entries(settings.live ?? {})) await setLive(key, value);
  return { url: url.href, setLive, setStore, close: () => mf.dispose() };
}
