// Vercel Routing Middleware: how the adapter is bundled (esbuild options) and how it runs locally (host.mjs,
// Vercel's edge-runtime). Registered in platforms/index.mjs.
import { fileURLToPath } from "node:url";
import { coreSwap } from "../core-swap.mjs";

export const name = "vercel";
export const entry = fileURLToPath(new URL("./adapter.ts", import.meta.url));

/** The signature crypto of this target: ./crypto.ts (HS256 in JavaScript, the rest WebCrypto) for src/core/crypto. */
export const cryptoSwap = coreSwap(new URL("../../src/core/crypto.ts", import.meta.url), new URL("./crypto.ts", import.meta.url));

/** esbuild options for the target's engine (the same for every stack). */
export function esbuildOptions(_b) {
  return {
    entryPoints: [entry],
    format: "esm",
    platform: "neutral",
    conditions: ["edge-light", "worker", "browser"],
    mainFields: ["module", "main"],
    plugins: [cryptoSwap],
    // The stack's config (declared in front) and the static `export const config = { matcher }` (after) are
    // added to this engine per stack by the build layer (components/edgeport/build/engine.py).
  };
}

/** Load the local runtime's package ahead of a start (a standby host: local/host.mjs --standby). */
export const preload = () => import("edge-runtime");

/** Serve the target's one artifact locally (local/host.mjs calls this). */
export async function start(opts, artifacts) {
  const { startVercel } = await import("./host.mjs");
  return startVercel({ ...opts, artifact: artifacts[0] });
}
