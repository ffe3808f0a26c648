// Bundles the reference implementations (bench/reference/*.ts) and the peers (bench/peers/, Hono and jose from
// bench/node_modules) the way functions/build.mjs
// bundles edgeport's adapters: same esbuild version and per-target settings (format, platform,
// conditions, minify), so both sides of a comparison reach the runtime in the same shape.
//
//   node bench/build-reference.mjs < job.json      (prints a JSON report on stdout)
// job: { functionsDir, benchDir?, bundles: [{ target, entry, outfile, define? }] }
// `define` values are inlined as JSON (strings, or objects such as the peers' settings; Lambda@Edge has no
// environment variables).
// The job arrives on stdin because it may carry the benchmark's secret.
import { createRequire } from "node:module";
import { mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const COMMON = { bundle: true, minify: true, legalComments: "none", logLevel: "silent", target: "es2022" };

const TARGETS = {
  cloudflare: { format: "esm", platform: "neutral", conditions: ["workerd", "worker", "browser"], external: ["cloudflare:*", "node:*"] },
  vercel: { format: "esm", platform: "neutral", conditions: ["edge-light", "worker", "browser"], mainFields: ["module", "main"] },
  "lambda-edge": { format: "cjs", platform: "node", target: "node20", external: ["@aws-sdk/*"] },
};

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

try {
  const job = await readStdin();
  const fdir = resolve(job.functionsDir);
  const { build } = createRequire(join(fdir, "package.json"))("esbuild");
  const report = [];
  for (const b of job.bundles) {
    const opts = TARGETS[b.target];
    if (!opts) throw new Error(`unknown target ${b.target}`);
    const outfile = resolve(b.outfile);
    mkdirSync(dirname(outfile), { recursive: true });
    const define = Object.fromEntries(Object.entries(b.define ?? {}).map(([k, v]) => [k, JSON.stringify(v)]));
    // Bare imports resolve from bench/node_modules (the peers' pinned hono, jose, @vercel/functions; `npm ci
    // --prefix bench`) and then from functions/node_modules (@vercel/functions for the references), like edgeport's.
    const nodePaths = [...(job.benchDir ? [join(resolve(job.benchDir), "node_modules")] : []), join(fdir, "node_modules")];
    await build({ ...COMMON, ...opts, entryPoints: [resolve(b.entry)], outfile, define, nodePaths });
    report.push({ target: b.target, entry: b.entry, outfile, bytes: statSync(outfile).size });
  }
  process.stdout.write(JSON.stringify(report));
} catch (e) {
  console.error(e?.errors?.map((x) => x.text).join("\n") || e?.message || String(e));
  process.exit(1);
}
