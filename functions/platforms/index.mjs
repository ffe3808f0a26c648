// The platform registry of the edge code: one line per platform folder. Each folder holds the platform's adapter
// (adapter.ts), its esbuild options and local start (index.mjs), its local host (host.mjs) and their tests. The
// names match the Python target registry (components/edgeport/targets/); build.mjs and local/host.mjs look
// platforms up here and name none.
import * as cloudflare from "./cloudflare/index.mjs";
import * as lambdaEdge from "./lambda-edge/index.mjs";
import * as vercel from "./vercel/index.mjs";

export const PLATFORMS = Object.fromEntries([cloudflare, vercel, lambdaEdge].map((p) => [p.name, p]));

/** The platform named `name`, or an error listing the known ones. */
export function platform(name) {
  const p = PLATFORMS[name];
  if (!p) throw new Error(`unknown target ${name} (this edge code has: ${Object.keys(PLATFORMS).join(", ")})`);
  return p;
}
