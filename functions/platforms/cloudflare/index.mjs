// Cloudflare Workers: how the adapter is bundled (esbuild options) and how it runs locally (host.mjs, workerd
// through Miniflare). Registered in platforms/index.mjs.
import { fileURLToPath } from "node:url";

export const name = "cloudflare";
export const entry = fileURLToPath(new URL("./adapter.ts", import.meta.url));
// Every Cloudflare engine exports the Durable Object class beside the handler (with-rooms.ts), rooms declared or not:
// a script whose migrations created the class must keep exporting it, or its upload is refused - and deleting the
// class (deleted_classes) would delete every room's storage. A stack without rooms exports a stub of that name, so it
// can add its rooms back without a migration (tests/test_lifecycle.py, test 6).
const withRooms = fileURLToPath(new URL("./with-rooms.ts", import.meta.url));

/** esbuild options for an engine ({ target, outfile, patterns }): the Worker is ESM for workerd. */
export function esbuildOptions(_b) {
  return {
    entryPoints: [withRooms],
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
