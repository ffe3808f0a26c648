// Serves one target's built artifacts on 127.0.0.1 in that target's local runtime.
//   node local/host.mjs --manifest build/manifest.json --target cloudflare --origin http://127.0.0.1:9000 [--port 0] [--now-ms N]
// Secrets come from EDGEPORT_SECRET_* environment variables (never argv).
// Prints one JSON line {"ready": url} when listening; stops cleanly on SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startCloudflare } from "./cloudflare.mjs";
import { startLambdaEdge } from "./lambda-edge.mjs";
import { startVercel } from "./vercel.mjs";

const { values: args } = parseArgs({
  options: {
    manifest: { type: "string" },
    target: { type: "string" },
    origin: { type: "string" },
    port: { type: "string", default: "0" },
    "now-ms": { type: "string" },
  },
});
for (const k of ["manifest", "target", "origin"]) {
  if (!args[k]) {
    console.error(`host.mjs: --${k} is required`);
    process.exit(2);
  }
}

const manifestPath = resolve(args.manifest);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const artifacts = manifest.artifacts
  .filter((a) => a.target === args.target)
  .map((a) => ({
    ...a,
    path: resolve(dirname(manifestPath), a.file),
    config: a.configFile ? JSON.parse(readFileSync(resolve(dirname(manifestPath), a.configFile), "utf8")) : undefined,
  }));
if (!artifacts.length) {
  console.error(`host.mjs: the build has no ${args.target} artifact`);
  process.exit(2);
}
const secrets = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("EDGEPORT_SECRET_")));
const opts = { manifest, origin: args.origin, port: Number(args.port), secrets, nowMs: args["now-ms"] };

let host;
if (args.target === "cloudflare") host = await startCloudflare({ ...opts, artifact: artifacts[0] });
else if (args.target === "vercel") host = await startVercel({ ...opts, artifact: artifacts[0] });
else if (args.target === "lambda-edge") host = await startLambdaEdge({ ...opts, artifacts });
else {
  console.error(`host.mjs: unknown target ${args.target}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify({ ready: host.url, target: args.target }) + "\n");

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 2000);
  try {
    await host.close();
  } finally {
    clearTimeout(force);
    process.exit(0);
  }
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
