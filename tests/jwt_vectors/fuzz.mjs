// Generated tokens through edgeport's verifier (functions/src/patterns/jwt.ts) in each runtime the edge code runs
// in: workerd (Miniflare), Vercel's edge-runtime (with Vercel's crypto module: HS256 in JavaScript) and Node
// (Lambda@Edge, with its node:crypto module in place of WebCrypto). Loaded the way run.mjs loads it: the source
// bundled with esbuild per target (bundles.mjs), then handed to its runtime. Each runtime is started once and gets
// the cases in batches (one fetch / evaluate / call per batch), not one process per token. Driven by
// tests/test_jwt_fuzz.py.
//   node tests/jwt_vectors/fuzz.mjs input.json
//   input:  {"nowMs": n, "secret": s, "configs": [cfg...], "tokens": [[cfg index, token]...],
//            "steps": [[cfg index, token]...], "batch": n}
//   output: {"workerd": {"tokens": [...], "steps": [...], "ms": n}, "edge-runtime": {...}, "node": {...}}
// A token's result is "+" (verifyJwt returned claims), "-<reason>" (JwtReject: a 401) or "!<message>" (anything
// else was thrown: a 503). A step (the whole jwtStep, as a request meets it) is [status, {header: value}]: the
// headers the origin would get besides the token, or null when the edge answered.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FUNCTIONS, harnessBundles } from "./bundles.mjs";

const require = createRequire(join(FUNCTIONS, "package.json"));
const { transform } = require("esbuild");

const HARNESS = `
import { verifyJwt, jwtStep, JwtReject } from "./jwt";
export async function runBatch(input) {
  const { nowMs, secret, configs } = input;
  const platform = { secret: async () => secret, live: async () => null, now: () => nowMs };
  const tokens = [];
  for (const [i, token] of input.tokens) {
    try {
      await verifyJwt(token, configs[i], platform);
      tokens.push("+");
    } catch (e) {
      tokens.push(e instanceof JwtReject ? "-" + e.reason : "!" + String(e && e.message));
    }
  }
  const steps = [];
  for (const [i, token] of input.steps) {
    const headers = new Headers({ authorization: "Bearer " + token });
    try {
      const res = await jwtStep({ headers, platform }, configs[i]);
      const sent = {};
      for (const [k, v] of headers) if (k !== "authorization") sent[k] = v;
      steps.push(res ? [res.status, null] : [200, sent]);
    } catch (e) {
      steps.push([503, "!" + String(e && e.message)]);
    }
  }
  return { tokens, steps };
}`;

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const size = input.batch ?? 2000;
const batches = [];
for (let at = 0; at < Math.max(input.tokens.length, input.steps.length); at += size) {
  batches.push({ nowMs: input.nowMs, secret: input.secret, configs: input.configs,
                 tokens: input.tokens.slice(at, at + size), steps: input.steps.slice(at, at + size) });
}

// One bundle per runtime, each with its target's crypto module (bundles.mjs).
const { workerd: bundle, "edge-runtime": vercelBundle, node: nodeBundle } = await harnessBundles(HARNESS);

// Runs every batch through `one` (batch -> {tokens, steps}) and joins the answers.
async function all(one) {
  const started = Date.now();
  const out = { tokens: [], steps: [] };
  for (const b of batches) {
    const r = await one(b);
    out.tokens.push(...r.tokens);
    out.steps.push(...r.steps);
  }
  return { ...out, ms: Date.now() - started };
}

async function inNode() {
  const dir = mkdtempSync(join(tmpdir(), "edgeport-fuzz-"));
  try {
    writeFileSync(join(dir, "h.mjs"), nodeBundle);
    const h = await import(pathToFileURL(join(dir, "h.mjs")).href);
    return await all((b) => h.runBatch(b));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inEdgeRuntime() {
  const { EdgeRuntime } = require("edge-runtime");
  const { code } = await transform(vercelBundle, { format: "iife", globalName: "_h", loader: "js" });
  const runtime = new EdgeRuntime();
  runtime.evaluate(code);
  // The batch crosses into the VM as one string and is parsed there, so every object the verifier sees is the
  // edge runtime's own.
  return all(async (b) => {
    runtime.context.__batch = JSON.stringify(b);
    return JSON.parse(await runtime.evaluate("(async () => JSON.stringify(await _h.runBatch(JSON.parse(__batch))))()"));
  });
}

async function inWorkerd() {
  const { Miniflare } = require("miniflare");
  const mf = new Miniflare({
    modules: [ // the first module is the worker's entry
      { type: "ESModule", path: "w.mjs", contents: 'import { runBatch } from "./h.mjs";\nexport default { async fetch(r) { return Response.json(await runBatch(await r.json())); } };' },
      { type: "ESModule", path: "h.mjs", contents: bundle },
    ],
    modulesRoot: "/",
    compatibilityDate: "2026-04-01",
  });
  try {
    return await all(async (b) => {
      const res = await mf.dispatchFetch("http://fuzz/", { method: "POST", body: JSON.stringify(b) });
      if (!res.ok) throw new Error(`workerd answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
      return res.json();
    });
  } finally {
    await mf.dispose();
  }
}

process.stdout.write(JSON.stringify({ workerd: await inWorkerd(), "edge-runtime": await inEdgeRuntime(), node: await inNode() }) + "\n");
