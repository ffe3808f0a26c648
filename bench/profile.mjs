// Where an implementation's time goes inside the runtime: the CPU profile (V8's sampling profiler, through
// node:inspector in this process) of warm requests, per scenario, attributed to edgeport's sources through the
// engine's source map. Driven by `bench/run.py --profile`; runs the same drivers and checks as measure.mjs, on the
// runtimes that run in this Node process (Vercel's edge-runtime VM, Lambda@Edge's handler; workerd is a separate
// process the inspector here cannot see).
//
//   node bench/profile.mjs < job.json      (one JSON object on stdout)
//
// job: measure.mjs's warm job with one implementation (impls[0]), plus
//   engineRoot: functions/.engine (the engines and their maps), intervalUs: sampling interval (default 25)
// Output per scenario: requests, µs per request (wall), and the top frames by self time and by total time, each
// as { where, us_per_request, share } where `where` is "src/<file>.ts:<line> <name>" for edgeport's own code (the
// function's first line, from the map), "<url> <name>" for runtime and Node internals, "(native) <name>" otherwise.
import { Session } from "node:inspector/promises";
import { readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join, relative, resolve } from "node:path";
import { DRIVERS, one, readStdin, scenariosFor, stopNodeOrigin } from "./measure.mjs";

const LAMBDA_WRAPPER_LENGTH = "(function (exports, require, module, __filename, __dirname, console) {".length;

/** The engine a built bundle carries (its text after the injected config line), with its source map; engines are
 * cached per hash of the sources under functions/.engine/<hash>/ (components/edgeport/build/engine.py). */
function engineOf(bundleText, engineRoot) {
  const body = bundleText.slice(bundleText.indexOf("\n") + 1);
  for (const dir of readdirSync(engineRoot)) {
    let files;
    try {
      files = readdirSync(join(engineRoot, dir));
    } catch {
      continue;
    }
    for (const f of files) {
      if (!f.endsWith(".js")) continue;
      const text = readFileSync(join(engineRoot, dir, f), "utf8").replace(/\n\/\/# sourceMappingURL=.*\n?$/, "");
      if (body.startsWith(text)) {
        const engineDir = join(engineRoot, dir);
        return { dir: engineDir, file: f, map: new SourceMap(JSON.parse(readFileSync(join(engineDir, `${f}.map`), "utf8"))) };
      }
    }
  }
  throw new Error(`no engine under ${engineRoot} matches ${"the bundle"}`);
}

/** A function's name from the source line it starts on (the map gives the line; V8's name is minified). */
function nameAt(lineText, fallback) {
  const m = /(?:async\s+)?function\s*\*?\s*([\w$]+)|(?:const|let|var)\s+([\w$]+)\s*=|([\w$]+)\s*(?:=\s*(?:async\s*)?\(|\([^)]*\)\s*(?::[^{]*)?\{)|([\w$]+)\s*:\s*(?:async\s*)?\(/.exec(lineText);
  return (m && (m[1] ?? m[2] ?? m[3] ?? m[4])) || fallback || "(anonymous)";
}

function attribute(job, impl, mw) {
  const fdir = job.functionsDir;
  // bundle file -> its engine (Lambda@Edge: one bundle per trigger; the frames' url is the file loadHandler ran)
  const engines = new Map([...new Set([impl.bundle, ...Object.values(impl.bundles ?? {})])]
    .map((f) => [f, engineOf(readFileSync(f, "utf8"), job.engineRoot)]));
  const sources = new Map(); // source path -> lines
  const vmMap = mw?.map ? new SourceMap(JSON.parse(mw.map)) : null; // Vercel: IIFE (what the VM runs) -> bundle
  return (frame) => {
    const { url, lineNumber: line, columnNumber: col, functionName } = frame;
    let bl = line;
    let bc = col;
    let engine = engines.get(impl.bundle);
    if (job.runtime === "lambda-edge") {
      engine = engines.get(url.replace(/^file:\/\//, ""));
      if (!engine) return null;
      if (bl === 0) bc -= LAMBDA_WRAPPER_LENGTH;
    } else {
      if (!vmMap || url.startsWith("node:") || url.startsWith("file:") || url.startsWith("/")) return null;
      const e = vmMap.findEntry(line, col);
      if (!e?.originalSource) return null;
      bl = e.originalLine;
      bc = e.originalColumn;
    }
    if (bl < 1) return null; // the injected config line
    const e = engine.map.findEntry(bl - 1, bc);
    if (!e?.originalSource) return null;
    const src = resolve(engine.dir, e.originalSource);
    let lines = sources.get(src);
    if (!lines) {
      const i = engine.map.payload.sources.indexOf(e.originalSource);
      const text = engine.map.payload.sourcesContent?.[i] ?? readFileSync(src, "utf8");
      lines = text.split("\n");
      sources.set(src, lines);
    }
    return `${relative(fdir, src)}:${e.originalLine + 1} ${nameAt(lines[e.originalLine] ?? "", e.name ?? functionName)}`;
  };
}

function label(frame, ours) {
  const mine = ours(frame);
  if (mine) return mine;
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return `(native) ${name}`;
  const url = frame.url.replace(/^file:\/\//, "");
  const short = url.includes("node_modules/") ? url.slice(url.lastIndexOf("node_modules/") + 13) : url.startsWith("node:") ? url : relative(process.cwd(), url);
  return `${short} ${name}`;
}

/** Self and total (inclusive, counted once per stack) microseconds per label. */
function summarise(profile, ours) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const labels = new Map();
  const byLabelSelf = new Map();
  const byLabelTotal = new Map();
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const labelOf = (id) => {
    if (!labels.has(id)) labels.set(id, label(nodes.get(id).callFrame, ours));
    return labels.get(id);
  };
  for (const [id, us] of self) {
    if (!us) continue;
    const l = labelOf(id);
    byLabelSelf.set(l, (byLabelSelf.get(l) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const lc = labelOf(cur);
      if (seen.has(lc)) continue;
      seen.add(lc);
      byLabelTotal.set(lc, (byLabelTotal.get(lc) ?? 0) + us);
    }
  }
  return { self: byLabelSelf, total: byLabelTotal };
}

function top(map, requests, sampled, k = 25) {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
    .map(([where, us]) => ({ where, us_per_request: Number((us / requests).toFixed(2)), share: Number((us / sampled).toFixed(3)) }));
}

let code = 0;
let out;
try {
  const job = await readStdin();
  job.functionsDir = resolve(job.functionsDir);
  const impl = job.impls[0];
  const d = Object.assign(await DRIVERS[job.runtime](job, impl), { runtime: job.runtime });
  const scenarios = scenariosFor(job, impl);
  try {
    await d.load();
    await d.prepare?.();
    for (const s of scenarios) for (let i = 0; i < job.warmup; i++) await one(d, impl.name, s);
    await d.settle?.();
    const ours = attribute(job, impl, d.mw);
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: job.intervalUs ?? 25 });
    out = { runtime: job.runtime, implementation: impl.name, scenarios: [] };
    for (const s of scenarios) {
      await session.post("Profiler.start");
      const t = performance.now();
      for (let i = 0; i < job.n; i++) await one(d, impl.name, s);
      const wall = performance.now() - t;
      const { profile } = await session.post("Profiler.stop");
      const sampled = profile.timeDeltas.reduce((a, b) => a + b, 0);
      const { self, total } = summarise(profile, ours);
      out.scenarios.push({ scenario: s.name, requests: job.n, us_per_request_wall: Number(((wall * 1000) / job.n).toFixed(1)),
                           top_self: top(self, job.n, sampled), top_total: top(total, job.n, sampled, 40) });
    }
    session.disconnect();
  } finally {
    await d.close();
    await stopNodeOrigin();
  }
} catch (e) {
  out = { error: e?.stack ?? String(e) };
  code = 1;
}
process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
