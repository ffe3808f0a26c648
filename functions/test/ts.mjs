// Loads a TypeScript module of src/ for a unit test: esbuild bundles it (no type check, as in the build)
// into a temporary ES module, which is then imported.
import { build } from "esbuild";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "src");
const dir = mkdtempSync(join(tmpdir(), "edgeport-ts-"));

export async function importTs(relative) {
  const res = await build({ entryPoints: [join(SRC, relative)], bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
  const file = join(dir, relative.replace(/[\\/]/g, "_").replace(/\.ts$/, ".mjs"));
  writeFileSync(file, res.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}
