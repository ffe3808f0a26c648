// The verifier harnesses of run.mjs and fuzz.mjs, bundled once per runtime the way each target builds its edge code:
//   workerd       the verifier with WebCrypto (src/core/crypto.ts), as on Cloudflare;
//   edge-runtime  Vercel's crypto module in its place (HS256 in JavaScript, the rest WebCrypto; the plugin from the
//                 target's esbuild options, functions/platforms/vercel/index.mjs);
//   node          Lambda@Edge's synchronous node:crypto module (functions/platforms/lambda-edge/index.mjs).
// So the corpora check that every target's module gives the same answers. Each bundle is checked to carry its module.
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const FUNCTIONS = fileURLToPath(new URL("../../functions/", import.meta.url));
const { build } = createRequire(join(FUNCTIONS, "package.json"))("esbuild");

const pluginsOf = async (target) =>
  (await import(pathToFileURL(join(FUNCTIONS, "platforms", target, "index.mjs")).href)).esbuildOptions({}).plugins;

/** harness: ES module source importing from functions/src/patterns -> {workerd, "edge-runtime", node} bundles. */
export async function harnessBundles(harness) {
  const one = async (extra) => (await build({
    stdin: { contents: harness, resolveDir: join(FUNCTIONS, "src", "patterns"), loader: "js" },
    bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent", target: "es2022", ...extra,
  })).outputFiles[0].text;
  const workerd = await one({});
  const vercel = await one({ plugins: await pluginsOf("vercel") });
  if (!vercel.includes("Hs256Key") || workerd.includes("Hs256Key")) throw new Error("the edge-runtime harness did not get the Vercel crypto module");
  const node = await one({ platform: "node", plugins: await pluginsOf("lambda-edge") });
  if (!node.includes("node:crypto") || node.includes("crypto.subtle")) throw new Error("the node harness did not get the Lambda@Edge crypto module");
  return { workerd, "edge-runtime": vercel, node };
}
