// Signature test vectors through the verifier's own signature check (functions/src/patterns/jwt.ts
// signatureHolds: the same key import, algorithm parameters and length rule verifyJwt uses) in each runtime:
// workerd (Miniflare), Vercel's edge-runtime and Node.
//   node tests/jwt_vectors/run.mjs vectors.json   -> {"workerd": [...], "edge-runtime": [...], "node": [...]}
// Each result is true/false (the signature holds or not) or "threw: <message>".
import { readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const FUNCTIONS = fileURLToPath(new URL("../../functions/", import.meta.url));
const require = createRequire(join(FUNCTIONS, "package.json"));
const { build, transform } = require("esbuild");

const HARNESS = `
import { signatureHolds } from "./jwt";
const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
export async function runVectors(vectors) {
  const out = [];
  for (const v of vectors) {
    try {
      out.push(await signatureHolds(v.alg, v.jwk, hex(v.sig), hex(v.msg)));
    } catch (e) {
      out.push("threw: " + (e && e.message));
    }
  }
  return out;
}`;

const vectors = JSON.parse(readFileSync(process.argv[2], "utf8"));
const bundle = (await build({
  stdin: { contents: HARNESS, resolveDir: join(FUNCTIONS, "src", "patterns"), loader: "js" },
  bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent", target: "es2022",
})).outputFiles[0].text;

async function inNode() {
  const dir = mkdtempSync(join(tmpdir(), "edgeport-vectors-"));
  writeFileSync(join(dir, "h.mjs"), bundle);
  return (await import(pathToFileURL(join(dir, "h.mjs")).href)).runVectors(vectors);
}

async function inEdgeRuntime() {
  const { EdgeRuntime } = require("edge-runtime");
  const { code } = await transform(bundle, { format: "iife", globalName: "_h", loader: "js" });
  const runtime = new EdgeRuntime();
  runtime.evaluate(code);
  return runtime.evaluate(`_h.runVectors(${JSON.stringify(vectors)})`);
}

async function inWorkerd() {
  const { Miniflare } = require("miniflare");
  const mf = new Miniflare({
    modules: [ // the first module is the worker's entry
      { type: "ESModule", path: "w.mjs", contents: 'import { runVectors } from "./h.mjs";\nexport default { async fetch(r) { return Response.json(await runVectors(await r.json())); } };' },
      { type: "ESModule", path: "h.mjs", contents: bundle },
    ],
    modulesRoot: "/",
    compatibilityDate: "2026-04-01",
  });
  try {
    const res = await mf.dispatchFetch("http://vectors/", { method: "POST", body: JSON.stringify(vectors) });
    return await res.json();
  } finally {
    await mf.dispose();
  }
}

process.stdout.write(JSON.stringify({ workerd: await inWorkerd(), "edge-runtime": await inEdgeRuntime(), node: await inNode() }) + "\n");
