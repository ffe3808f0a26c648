// Builds edge bundles with esbuild. Driven by the Python build layer:
//   node build.mjs --job job.json        (prints a JSON report on stdout)
// A job lists bundles: { target, event?, config, outfile, matcher? }.
// Per-target esbuild settings live here, next to the adapters they build.
import { build } from "esbuild";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

const COMMON = {
  bundle: true,
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "silent",
  target: "es2022",
};

/** esbuild options per target; `config` is inlined where the platform has no runtime config. */
const TARGETS = {
  cloudflare: (b) => ({
    entryPoints: [join(HERE, "src/adapters/cloudflare.ts")],
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    // Config arrives as a JSON binding: the bundle is the same for every stack.
  }),
  vercel: (b) => ({
    entryPoints: [join(HERE, "src/adapters/vercel.ts")],
    format: "esm",
    platform: "neutral",
    conditions: ["edge-light", "worker", "browser"],
    mainFields: ["module", "main"],
    define: { __EDGEPORT_CONFIG__: JSON.stringify(b.config) },
    // Vercel reads `config` statically: emit it as a literal.
    footer: { js: `export const config = ${JSON.stringify({ matcher: b.matcher ?? ["/:path*"] })};` },
  }),
  "lambda-edge": (b) => ({
    entryPoints: [join(HERE, "src/adapters/lambda-edge.ts")],
    format: "cjs",
    platform: "node",
    target: "node20",
    // The nodejs22.x runtime ships the AWS SDK v3. It is found through NODE_PATH, which only
    // require() honours: lazy import()s become require() calls.
    external: ["@aws-sdk/*"],
    supported: { "dynamic-import": false },
    define: { __EDGEPORT_CONFIG__: JSON.stringify(b.config) },
  }),
};

export async function buildBundles(job) {
  const report = [];
  for (const b of job.bundles) {
    const opts = TARGETS[b.target];
    if (!opts) throw new Error(`unknown target ${b.target}`);
    const outfile = resolve(job.outDir ?? ".", b.outfile);
    mkdirSync(dirname(outfile), { recursive: true });
    const t0 = performance.now();
    const res = await build({ ...COMMON, ...opts(b), outfile });
    const inputs = Object.keys(res.metafile.inputs).map((p) => p.replace(/^.*?node_modules\//, "node_modules/"));
    report.push({ target: b.target, event: b.event ?? null, outfile, ms: Math.round(performance.now() - t0), inputs });
  }
  return report;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--job");
  if (i < 0) {
    console.error("usage: node build.mjs --job job.json");
    process.exit(2);
  }
  try {
    const job = JSON.parse(readFileSync(process.argv[i + 1], "utf8"));
    process.stdout.write(JSON.stringify(await buildBundles(job)));
  } catch (e) {
    console.error(e?.errors?.map((x) => x.text).join("\n") || e?.message || String(e));
    process.exit(1);
  }
}
