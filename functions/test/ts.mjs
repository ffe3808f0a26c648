// Loads a TypeScript module for a unit test: esbuild bundles it (no type check, as in the build) into a temporary
// ES module, which is then imported. Tests live beside the sources they test and pass the file's URL:
//   const { canonicalPath } = await importTs(new URL("./path.ts", import.meta.url));
import { build } from "esbuild";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "edgeport-ts-"));
let n = 0;

export async function importTs(file) {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  const res = await build({ entryPoints: [path], bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
  const out = join(dir, `${++n}-${basename(path).replace(/\.ts$/, ".mjs")}`);
  writeFileSync(out, res.outputFiles[0].text);
  return import(pathToFileURL(out).href);
}
