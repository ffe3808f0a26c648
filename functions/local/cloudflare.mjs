// Cloudflare locally: the built worker in workerd through Miniflare, with the same
// JSON config binding and secret bindings the WorkersScript gets. `upstream`
// makes fetch(request) reach the origin the way a zone route would.
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";

export async function startCloudflare({ artifact, manifest, origin, port, secrets, nowMs }) {
  const code = readFileSync(artifact.path, "utf8");
  const modules = [{ type: "ESModule", path: "worker.mjs", contents: code }];
  if (nowMs !== undefined) {
    // Test clock: a wrapper module pins Date.now() before the worker runs.
    modules.unshift(
      { type: "ESModule", path: "entry.mjs", contents: 'import "./clock.mjs";\nexport { default } from "./worker.mjs";\n' },
      { type: "ESModule", path: "clock.mjs", contents: `Date.now = () => ${Number(nowMs)};\n` },
    );
  }
  const mf = new Miniflare({
    modules,
    modulesRoot: "/",
    compatibilityDate: manifest.cloudflare.compatibilityDate,
    compatibilityFlags: manifest.cloudflare.compatibilityFlags ?? [],
    bindings: { EDGEPORT_CONFIG: artifact.config, ...secrets },
    upstream: origin,
    cf: { country: "US", colo: "LCL" },
    host: "127.0.0.1",
    port,
  });
  const url = await mf.ready;
  return { url: url.href, close: () => mf.dispose() };
}
