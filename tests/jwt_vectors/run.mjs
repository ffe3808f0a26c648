// Signature test vectors through the verifier's own signature check (functions/src/patterns/jwt.ts
// signatureHolds: the same key import, algorithm parameters and length rule verifyJwt uses) in each runtime:
// workerd (Miniflare), Vercel's edge-runtime (with Vercel's crypto module: HS256 in JavaScript) and Node (with
// Lambda@Edge's node:crypto module in place of WebCrypto), each as its target builds it, and whole tokens through
// verifyJwt itself.
//   node tests/jwt_vectors/run.mjs input.json   ({"vectors": [...], "tokens": [...]})
//   -> {"workerd": {"vectors": [...], "tokens": [...]}, "edge-runtime": {...}, "node": {...}}
// A vector's result is true/false (the signature holds or not) or "threw: <message>"; a token's is {claims},
// {reason} (refused) or {threw}.
import { readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FUNCTIONS, harnessBundles } from "./bundles.mjs";

const require = createRequire(join(FUNCTIONS, "package.json"));
const { transform } = require("esbuild");

const HARNESS = `
import { signatureHolds, verifyJwt, JwtReject } from "./jwt";
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
}
// Whole tokens through verifyJwt: {token, cfg, secret, nowMs} -> {claims} | {reason} | {threw}.
export async function runTokens(cases) {
  const out = [];
  for (const c of cases) {
    const platform = { secret: async () => c.secret, live: async () => null, now: () => c.nowMs };
    try {
      out.push({ claims: await verifyJwt(c.token, c.cfg, platform) });
    } catch (e) {
      out.push(e instanceof JwtReject ? { reason: e.reason } : { threw: String(e && e.message) });
    }
  }
  return out;
}`;

// {"vectors": [...], "tokens": [...]}
const { vectors, tokens } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const run = async (h) => ({ vectors: await h.runVectors(vectors), tokens: await h.runTokens(tokens) });
// One bundle per runtime, each with its target's crypto module (bundles.mjs).
const { workerd: bundle, "edge-runtime": vercelBundle, node: nodeBundle } = await harnessBundles(HARNESS);

async function inNode() {
  const dir = mkdtempSync(join(tmpdir(), "edgeport-vectors-"));
  writeFileSync(join(dir, "h.mjs"), nodeBundle);
  return run(await import(pathToFileURL(join(dir, "h.mjs")).href));
}

async function inEdgeRuntime() {
  const { EdgeRuntime } = require("edge-runtime");
  const { code } = await transform(vercelBundle, { format: "iife", globalName: "_h", loader: "js" });
  const runtime = new EdgeRuntime();
  runtime.evaluate(code);
  runtime.evaluate(`globalThis.__input = ${JSON.stringify({ vectors, tokens })}`);
  return runtime.evaluate(`(async () => ({ vectors: await _h.runVectors(__input.vectors), tokens: await _h.runTokens(__input.tokens) }))()`);
}

async function inWorkerd() {
  const { Miniflare } = require("miniflare");
  const mf = new Miniflare({
    modules: [ // the first module is the worker's entry
      { type: "ESModule", path: "w.mjs", contents: 'import { runVectors, runTokens } from "./h.mjs";\nexport default { async fetch(r) { const i = await r.json(); return Response.json({ vectors: await runVectors(i.vectors), tokens: await runTokens(i.tokens) }); } };' },
      { type: "ESModule", path: "h.mjs", contents: bundle },
    ],
    modulesRoot: "/",
    compatibilityDate: "2026-04-01",
  });
  try {
    const res = await mf.dispatchFetch("http://vectors/", { method: "POST", body: JSON.stringify({ vectors, tokens }) });
    return await res.json();
  } finally {
    await mf.dispose();
  }
}

process.stdout.write(JSON.stringify({ workerd: await inWorkerd(), "edge-runtime": await inEdgeRuntime(), node: await inNode() }) + "\n");
