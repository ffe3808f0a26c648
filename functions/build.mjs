// Builds edge bundles with esbuild. Driven by the Python build layer:
//   node build.mjs --job job.json        (prints a JSON report on stdout)
// A job lists bundles: { target, event?, config, outfile, matcher? }.
// Each target's esbuild options live in its platform folder (platforms/<name>/index.mjs).
import { build } from "esbuild";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { platform } from "./platforms/index.mjs";


const COMMON = {
  bundle: true,
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "silent",
  target: "es2022",
};

export async function buildBundles(job) {
  const report = [];
  for (const b of job.bundles) {
    const options = platform(b.target).esbuildOptions(b);
    const outfile = resolve(job.outDir ?? ".", b.outfile);
    mkdirSync(dirname(outfile), { recursive: true });
    const t0 = performance.now();
    const res = await build({ ...COMMON, ...options, outfile });
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
