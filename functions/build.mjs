// Builds edge bundles with esbuild. Driven by the Python build layer:
//   node build.mjs --job job.json        (prints a JSON report on stdout)
// A job lists bundles: { target, event?, outfile, patterns?, known? } (an engine: the config is injected later).
// Each target's esbuild options live in its platform folder (platforms/<name>/index.mjs).
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
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

/**
 * esbuild's messages as people read compiler errors: "file:line:col: error: text", the source line and a caret
 * under the column (esbuild gives each message a location with lineText; esbuild.github.io/api/#message-object).
 */
export function formatMessages(messages, kind = "error", reportDir = process.cwd()) {
  return messages
    .map((m) => {
      const loc = m.location;
      if (!loc) return `${kind}: ${m.text}`;
      // esbuild names files relative to its working directory (functions/); shown relative to where edgeport runs.
      const file = relative(reportDir, resolve(loc.file)) || loc.file;
      const num = String(loc.line);
      const frame = loc.lineText
        ? `\n  ${num} | ${loc.lineText}\n  ${" ".repeat(num.length)} | ${" ".repeat(loc.column)}${"^".repeat(Math.max(1, loc.length || 1))}`
        : "";
      const notes = (m.notes ?? []).map((n) => `\n  note: ${n.text}`).join("");
      return `${file}:${loc.line}:${loc.column + 1}: ${kind}: ${m.text}${frame}${notes}`;
    })
    .join("\n");
}

export async function buildBundles(job) {
  const report = [];
  for (const b of job.bundles) {
    const options = platform(b.target).esbuildOptions(b);
    // Which pattern steps the engine carries (src/patterns/index.ts): b.patterns of b.known (the Python pattern
    // registry's types); without a list, every pattern.
    const define = {};
    for (const t of b.known ?? []) define[`EDGEPORT_WITH_${t.toUpperCase().replace(/-/g, "_")}`] = String(!b.patterns || b.patterns.includes(t));
    const outfile = resolve(job.outDir ?? ".", b.outfile);
    mkdirSync(dirname(outfile), { recursive: true });
    const t0 = performance.now();
    // A source map is made for local error locations, but written apart from the bundle (job.mapDir): the bundle's
    // bytes are those of a build without one ("external" adds no sourceMappingURL comment), and nothing a target
    // uploads (Vercel deploys its whole output directory) carries the sources.
    const res = await build({ ...COMMON, ...options, define: { ...options.define, ...define }, outfile, sourcemap: "external", write: false });
    for (const f of res.outputFiles) {
      if (f.path.endsWith(".map")) {
        if (!job.mapDir) continue;
        const mapFile = resolve(job.mapDir, `${b.outfile}.map`);
        mkdirSync(dirname(mapFile), { recursive: true });
        writeFileSync(mapFile, f.contents);
      } else writeFileSync(f.path, f.contents);
    }
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
    console.error(e?.errors?.length ? formatMessages(e.errors, "error", process.env.EDGEPORT_REPORT_DIR || process.cwd()) : e?.message || String(e));
    process.exit(1);
  }
}
