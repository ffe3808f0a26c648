// An esbuild plugin that gives a platform its own version of one src/core module: wherever the edge code imports
// `core` (a path relative to the importer), the bundle gets `replacement` instead, except in the replacement itself
// (which may build on the core module). The core keeps naming no platform (tests/test_layering.py); the
// replacement keeps the core module's interface (each one checks that with tsc). esbuild's `alias` option would
// not do: it substitutes package paths, and these imports are relative.
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** core, replacement: file URLs or paths of the .ts modules. */
export function coreSwap(core, replacement) {
  const from = core instanceof URL ? fileURLToPath(core) : core;
  const to = replacement instanceof URL ? fileURLToPath(replacement) : replacement;
  return {
    name: `edgeport-core-swap:${to}`,
    setup(b) {
      // Only imports that end in the core module's name, with or without ".ts", are looked at.
      const filter = new RegExp(`(^|/)${basename(from, ".ts").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\.ts)?$`);
      b.onResolve({ filter }, (args) => {
        if (args.importer === to || !args.path.startsWith(".")) return undefined;
        const target = resolve(args.resolveDir, args.path);
        return target === from || `${target}.ts` === from ? { path: to } : undefined;
      });
    },
  };
}
