// Lambda@Edge: how the adapter is bundled (esbuild options, one bundle per CloudFront trigger) and how it runs
// locally (host.mjs, a loopback CloudFront in Node). Registered in platforms/index.mjs.
import { fileURLToPath } from "node:url";
import { coreSwap } from "../core-swap.mjs";

export const name = "lambda-edge";
export const entry = fileURLToPath(new URL("./adapter.ts", import.meta.url));

/**
 * The signature crypto of this target: wherever the edge code imports src/core/crypto (WebCrypto), the bundle gets
 * ./crypto.ts (synchronous node:crypto, the same interface) instead, so the verifier (src/patterns/jwt.ts) never
 * names a platform (../core-swap.mjs). tests/jwt_vectors/run.mjs and fuzz.mjs build their "node" runtime with it too.
 */
export const cryptoSwap = coreSwap(new URL("../../src/core/crypto.ts", import.meta.url), new URL("./crypto.ts", import.meta.url));

/** esbuild options for the target's engine (one for every trigger: the config is injected per bundle). */
export function esbuildOptions(_b) {
  return {
    entryPoints: [entry],
    format: "cjs",
    platform: "node",
    target: "node20",
    // The nodejs22.x runtime ships the AWS SDK v3. It is found through NODE_PATH, which only
    // require() honours: lazy import()s become require() calls.
    external: ["@aws-sdk/*"],
    supported: { "dynamic-import": false },
    plugins: [cryptoSwap],
    // No define for __EDGEPORT_CONFIG__: the engine is the same for every stack; the build layer declares the
    // stack's config in front of it (components/edgeport/build/engine.py).
  };
}

/** Serve every trigger's artifact locally behind one emulated distribution (local/host.mjs calls this). */
export async function start(opts, artifacts) {
  const { startLambdaEdge } = await import("./host.mjs");
  return startLambdaEdge({ ...opts, artifacts });
}
