// Cloudflare locally: the built worker in workerd through Miniflare, with the same
// JSON config binding, secret bindings, KV namespace and Durable Object class the
// WorkersScript gets. A small local-only front worker plays the zone: it applies the
// Workers routes and turns the x-edgeport-country header into request.cf.country (as
// Cloudflare's edge would set it). An outbound service sends fetches for declared
// origins to their local stand-ins.
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
  const toOrigin = (request) => {
    const ray = request.headers.get("cf-ray");
    const to = remap(request.url);
    if (ray && to.href !== request.url) {
      if (!fetchesByRay.has(ray) && fetchesByRay.size > 1000) fetchesByRay.delete(fetchesByRay.keys().next().value);
      fetchesByRay.set(ray, [...(fetchesByRay.get(ray) ?? []), nameOf(request.url)]);
    }
    const headers = new Headers(request.headers);
    headers.delete("host");
    return fetch(to, { method: request.method, headers, body: request.body, duplex: "half", redirect: "manual" });
  };
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
        kvNamespaces: settings.kv ?? [],
        durableObjects,
        outboundService: (request) => toOrigin(request),
      },
    ],
  });
  const url = await mf.ready;
  const kv = (settings.kv ?? []).length ? await mf.getKVNamespace(settings.kv[0], "main") : null;
  async function setLive(key, value) {
    if (!kv) throw new Error("this stack has no live settings on cloudflare");
    if (value === null) await kv.delete(key);
    else await kv.put(key, value);
  }
  for (const [key, value] of Object.entries(settings.live ?? {})) await setLive(key, value);
  return { url: url.href, setLive, close: () => mf.dispose() };
}
