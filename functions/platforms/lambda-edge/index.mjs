// Lambda@Edge: how the adapter is bundled (esbuild options, one bundle per CloudFront trigger) and how it runs
// locally (host.mjs, a loopback CloudFront in Node). Registered in platforms/index.mjs.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const name = "lambda-edge";
export const entry = fileURLToPath(new URL("./adapter.ts", import.meta.url));

const CORE_CRYPTO = fileURLToPath(new URL("../../src/core/crypto.ts", import.meta.url));
const NODE_CRYPTO = fileURLToPath(new URL("./crypto.ts", import.meta.url));

/**
 * The signature crypto of this target: wherever the edge code imports src/core/crypto (WebCrypto), the bundle gets
 * ./crypto.ts (synchronous node:crypto, the same interface) instead, so the verifier (src/patterns/jwt.ts) never
 * names a platform. A plugin rather than esbuild's `alias`, which substitutes package paths only and the import is
 * relative. tests/jwt_vectors/run.mjs and fuzz.mjs build their "node" runtime with it too.
 */
export const cryptoSwap = {
  name: "edgeport-lambda-edge-crypto",
  setup(b) {
    b.onResolve({ filter: /(^|\/)crypto(\.ts)?$/ }, (args) => {
      if (args.importer === NODE_CRYPTO || !args.path.startsWith(".")) return undefined;
      const target = resolve(args.resolveDir, args.path);
      return target === CORE_CRYPTO || `${target}.ts` === CORE_CRYPTO ? { path: NODE_CRYPTO } : undefined;
    });
  },
};

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
