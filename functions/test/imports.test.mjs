// The edge code's layering, read from its import statements: no import circle; the core (src/core) imports no
// pattern and no platform; a pattern module imports only the core; nothing under src/ reaches a platform or a
// local host; a platform folder imports no other platform; build.mjs and local/host.mjs find platforms only
// through the registry (platforms/index.mjs).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Static imports and re-exports (a statement at the start of a line), side-effect imports and `await import()`;
// a string that merely contains an import (the local Cloudflare host writes worker source) is not one.
const SPECS = [
  /^\s*(?:import|export)\b[^;()=]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/gm,
  /^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm,
  /\bawait import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
];

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|mjs)$/.test(n) && !/\.test\.mjs$/.test(n) ? [p] : [];
  });
}

function resolveSpec(from, spec) {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, join(base, "index.ts"), join(base, "index.mjs")]) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {}
  }
  throw new Error(`${relative(ROOT, from)} imports ${spec}, which does not resolve`);
}

/** file (relative to functions/) -> the files it imports (relative) */
function graph() {
  const all = [...files(join(ROOT, "src")), ...files(join(ROOT, "platforms")), ...files(join(ROOT, "local")), join(ROOT, "build.mjs")];
  const g = new Map();
  for (const f of all) {
    const text = readFileSync(f, "utf8").replace(/^\s*\/\/.*$/gm, "");
    const specs = SPECS.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]));
    g.set(relative(ROOT, f), [...new Set(specs.map((s) => relative(ROOT, resolveSpec(f, s))))]);
  }
  return g;
}

/** One import circle in `g` as a list of files, or null. */
export function findCycle(g) {
  const state = new Map();
  const stack = [];
  function visit(n) {
    state.set(n, 1);
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  }
  for (const n of g.keys()) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

const G = graph();
const edges = (pred) => [...G].flatMap(([f, deps]) => (pred(f) ? deps.map((d) => `${f} -> ${d}`) : []));

test("the import reader sees the graph (the checks below have something to check)", () => {
  assert.ok(G.size >= 25, `only ${G.size} files`);
  assert.ok(G.get("src/patterns/index.ts").includes("src/patterns/jwt.ts"));
  assert.ok(G.get("build.mjs").includes("platforms/index.mjs"));
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])), ["a", "b", "c", "a"]);
  assert.equal(findCycle(new Map([["a", ["b"]], ["b", []], ["c", ["a", "b"]]])), null);
});

test("no import circle", () => {
  assert.equal(findCycle(G), null);
});

test("the core imports only the core", () => {
  assert.deepEqual(edges((f) => f.startsWith("src/core/")).filter((e) => !e.split(" -> ")[1].startsWith("src/core/")), []);
});

test("a pattern module imports only the core; only the registry gathers patterns", () => {
  const bad = edges((f) => f.startsWith("src/patterns/") && f !== "src/patterns/index.ts")
    .filter((e) => !e.split(" -> ")[1].startsWith("src/core/"));
  assert.deepEqual(bad, []);
});

test("nothing under src/ reaches a platform or a local host", () => {
  assert.deepEqual(edges((f) => f.startsWith("src/")).filter((e) => !e.split(" -> ")[1].startsWith("src/")), []);
});

test("a platform imports no other platform; build.mjs and the local host use the registry", () => {
  const folder = (f) => f.split("/")[1];
  // A module directly under platforms/ other than the registry (core-swap.mjs) is build tooling every platform may use.
  const shared = (f) => f.split("/").length === 2 && f !== "platforms/index.mjs";
  const cross = edges((f) => f.startsWith("platforms/") && f !== "platforms/index.mjs").filter((e) => {
    const [a, b] = e.split(" -> ");
    return b.startsWith("platforms/") && folder(a) !== folder(b) && !shared(b);
  });
  assert.deepEqual(cross, []);
  const direct = edges((f) => f === "build.mjs" || f.startsWith("local/"))
    .filter((e) => e.split(" -> ")[1].startsWith("platforms/") && e.split(" -> ")[1] !== "platforms/index.mjs");
  assert.deepEqual(direct, []);
});
