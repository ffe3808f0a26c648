// Cloudflare locally: the built worker in workerd through Miniflare, with the same
// JSON config binding, secret bindings, KV namespace and Durable Object class the
// WorkersScript gets. A small local-only front worker turns the x-edgeport-country
// header into request.cf.country (as Cloudflare's edge would set it), and an
// outbound service sends fetches for declared origins to their local stand-ins.
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { COUNTRY_HEADER, originMapper } from "./origins.mjs";

const FRONT = `export default { async fetch(request, env) {
  const country = request.headers.get(${JSON.stringify(COUNTRY_HEADER)});
  const headers = new Headers(request.headers);
  headers.delete(${JSON.stringify(COUNTRY_HEADER)});
  const cf = { ...(request.cf ?? {}) };
  if (country !== null) cf.country = country; else delete cf.country;
  return env.MAIN.fetch(new Request(request, { headers, cf }));
} };`;

export async function startCloudflare({ artifact, settings, origins, port, secrets, nowMs }) {
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
  const durableObjects = Object.fromEntries(Object.entries(settings.durableObjects ?? {}).map(([b, cls]) => [b, cls]));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    upstream: `https://${settings.hostname}`,
    workers: [
      { name: "front", modules: [{ type: "ESModule", path: "front.mjs", contents: FRONT }], compatibilityDate: settings.compatibilityDate,
        serviceBindings: { MAIN: "main" } },
      {
        name: "main",
        modules,
        modulesRoot: "/",
        compatibilityDate: settings.compatibilityDate,
        compatibilityFlags: settings.compatibilityFlags ?? [],
        bindings: { EDGEPORT_CONFIG: artifact.config, ...secrets },
        kvNamespaces: settings.kv ?? [],
        durableObjects,
        outboundService: (request) => {
          const headers = new Headers(request.headers);
          headers.delete("host");
          return fetch(remap(request.url), { method: request.method, headers, body: request.body, duplex: "half", redirect: "manual" });
        },
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
