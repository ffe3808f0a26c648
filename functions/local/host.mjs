// Serves one target's built artifacts on 127.0.0.1 in that target's local runtime (platforms/<name>/host.mjs).
//   node local/host.mjs --manifest build/manifest.json --target cloudflare --origins '{"https://origin.example.com":"http://127.0.0.1:9000"}' [--port 0] [--now-ms N] [--public-port P]
// --public-port: the port viewers address when a front (edgeport dev) forwards to this host.
// After the ready line, stdout carries only events (local/events.mjs): one per request, and edge code's console.
// --origins maps declared origin URLs to local stand-ins (the bundles keep the declared ones).
// Secrets come from EDGEPORT_SECRET_* environment variables (never argv).
// Prints one JSON line {"ready": url, "admin": adminUrl} when listening; stops cleanly on SIGINT/SIGTERM.
// The admin endpoint (loopback only) changes live settings: PUT /live?key=K (body = value), DELETE /live?key=K,
// and POST /store?down=1|0&delayMs=N where the store is local (Cloudflare's KV wrapper, Vercel's Edge Config stand-in).
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PLATFORMS } from "../platforms/index.mjs";

const OPTIONS = {
  manifest: { type: "string" },
  target: { type: "string" },
  origins: { type: "string", default: "{}" },
  port: { type: "string", default: "0" },
  "now-ms": { type: "string" },
  "public-port": { type: "string" },
  standby: { type: "boolean", default: false },
};
let { values: args } = parseArgs({ options: OPTIONS });
if (args.standby) {
  // A standby host (edgeport dev keeps one per target for the next reload): the platform's runtime package is
  // loaded now, the rest of the arguments and the environment (secrets, store endpoints) arrive later as one
  // JSON line on stdin: {"argv": [...], "env": {...}}. Saves the runtime's import on the reload's critical path.
  await PLATFORMS[args.target]?.preload?.();
  const line = await new Promise((resolveLine, reject) => {
    let buf = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (d) => {
      buf += d;
      const i = buf.indexOf("\n");
      if (i >= 0) resolveLine(buf.slice(0, i));
    });
    process.stdin.on("end", () => reject(new Error("standby host: stdin closed before the start line")));
  }).catch(() => process.exit(0));
  const start = JSON.parse(line);
  for (const k of Object.keys(process.env)) if (k.startsWith("EDGEPORT_SECRET_")) delete process.env[k];
  Object.assign(process.env, start.env ?? {});
  ({ values: args } = parseArgs({ args: start.argv, options: OPTIONS }));
}
for (const k of ["manifest", "target"]) {
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
const opts = {
  manifest,
  settings: manifest.targets?.[args.target] ?? {},
  origins: JSON.parse(args.origins),
  port: Number(args.port),
  publicPort: args["public-port"] ? Number(args["public-port"]) : undefined,
  secrets,
  nowMs: args["now-ms"],
};

const target = PLATFORMS[args.target];
if (!target) {
  console.error(`host.mjs: unknown target ${args.target} (known: ${Object.keys(PLATFORMS).join(", ")})`);
  process.exit(2);
}
const host = await target.start(opts, artifacts);

const admin = createServer(async (req, res) => {
  try {
    const u = new URL(req.url, "http://admin");
    const chunks = [];
    for await (const c of req) chunks.push(c);
    if (u.pathname === "/live" && host.setLive && (req.method === "PUT" || req.method === "DELETE")) {
      await host.setLive(u.searchParams.get("key"), req.method === "PUT" ? Buffer.concat(chunks).toString() : null);
    } else if (u.pathname === "/store" && host.setStore && req.method === "POST") {
      host.setStore({
        down: u.searchParams.has("down") ? u.searchParams.get("down") === "1" : undefined,
        delayMs: u.searchParams.has("delayMs") ? Number(u.searchParams.get("delayMs")) : undefined,
      });
    } else {
      res.writeHead(404).end(`${args.target} has no admin endpoint ${req.method} ${u.pathname}\n`);
      return;
    }
    res.writeHead(204).end();
  } catch (e) {
    res.writeHead(500).end(`${e?.message ?? e}\n`);
  }
});
await new Promise((r) => admin.listen(0, "127.0.0.1", r));
process.stdout.write(JSON.stringify({ ready: host.url, admin: `http://127.0.0.1:${admin.address().port}`, target: args.target }) + "\n");
// Where a host runs code other than the bundle as built (Vercel's format change), the map from what it runs to
// the bundle: {"event":"sourcemap","frame","bundle","map"|"firstLineShift"} (local/events.mjs).
for (const m of host.sourceMaps ?? []) process.stdout.write(JSON.stringify({ event: "sourcemap", ...m }) + "\n");

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 2000);
  try {
    admin.close();
    await host.close();
  } finally {
    clearTimeout(force);
    process.exit(0);
  }
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
