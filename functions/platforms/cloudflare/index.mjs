// Cloudflare Workers: how the adapter is bundled (esbuild options) and how it runs locally (host.mjs, workerd
// through Miniflare). Registered in platforms/index.mjs.
import { fileURLToPath } from "node:url";

export const name = "cloudflare";
export const entry = fileURLToPath(new URL("./adapter.ts", import.meta.url));
// An engine whose patterns need Durable Objects also exports the class (with-rooms.ts); without, it is left out.
const withRooms = fileURLToPath(new URL("./with-rooms.ts", import.meta.url));

/** esbuild options for an engine `b` ({ target, outfile, patterns, needs }): the Worker is ESM for workerd. */
export function esbuildOptions(b) {
  return {
    entryPoints: [b.needs && !b.needs.includes("durable-objects") ? entry : withRooms],
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    // No define for __EDGEPORT_CONFIG__: the build layer declares the stack's config in front of this engine.
  };
}

/** Load the local runtime's package ahead of a start (a standby host: local/host.mjs --standby). */
export const preload = () => import("miniflare");

/** Serve the target's one artifact locally (local/host.mjs calls this). */
export async function start(opts, artifacts) {
  const { startCloudflare } = await import("./host.mjs");
  return startCloudflare({ ...opts, artifact: artifacts[0] });
}
