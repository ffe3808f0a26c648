// Lambda@Edge's node:crypto signature module (crypto.ts) against the WebCrypto one it replaces (src/core/crypto.ts):
// the same answers for good and bad signatures, the same refusals of keys, and the build swap itself. The large
// corpora (Wycheproof, RFC examples, the fuzz run) compare the two through the verifier in tests/test_jwt_*.py.
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { cryptoSwap, esbuildOptions } from "./index.mjs";

const dir = mkdtempSync(join(tmpdir(), "edgeport-crypto-"));
async function load(name, contents, plugins = []) {
  const res = await build({
    stdin: { contents, resolveDir: fileURLToPath(new URL("../../src/patterns/", import.meta.url)), loader: "ts" },
    bundle: true, format: "esm", platform: "node", write: false, logLevel: "silent", plugins,
  });
  const out = join(dir, `${name}.mjs`);
  writeFileSync(out, res.outputFiles[0].text);
  return { mod: await import(pathToFileURL(out).href), text: res.outputFiles[0].text };
}
// The same import statement, as the verifier writes it, built without and with the swap.
const IMPORT = 'export * from "../core/crypto";';
const web = (await load("web", IMPORT)).mod;
const swapped = await load("node", IMPORT, [cryptoSwap]);
const node = swapped.mod;

test("the swap replaces the core module, and only it", () => {
  assert.match(swapped.text, /node:crypto/);
  assert.doesNotMatch(swapped.text, /subtle/);
  assert.deepEqual(esbuildOptions({}).plugins, [cryptoSwap]);
});

const data = new TextEncoder().encode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0");
const both = async (f) => [await f(web), await f(node)];
const outcome = (p) => Promise.resolve().then(p).then((v) => v, (e) => `threw: ${e instanceof Error}`);

test("HMAC: the same verdicts, and an empty key refused by both", async () => {
  for (const [alg, hash, len] of [["HS256", "sha256", 32], ["HS384", "sha384", 48], ["HS512", "sha512", 64]]) {
    const raw = new TextEncoder().encode(`secret for ${alg}`);
    const tag = createHmac(hash, raw).update(data).digest();
    const flipped = Uint8Array.from(tag, (b, i) => (i === len - 1 ? b ^ 1 : b));
    for (const [sig, want] of [[tag, true], [flipped, false], [tag.subarray(0, len - 1), false], [new Uint8Array(0), false]]) {
      const got = await both(async (m) => m.verify(alg, await m.importHmacKey(raw, alg), new Uint8Array(sig), data));
      assert.deepEqual(got, [want, want], `${alg} ${sig.length} bytes`);
    }
    assert.deepEqual(await both((m) => outcome(() => m.importHmacKey(new Uint8Array(0), alg))), ["threw: true", "threw: true"]);
  }
});

test("ES256 and RS256: the same verdicts, and the same keys refused", async () => {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const other = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const ecJwk = ec.publicKey.export({ format: "jwk" });
  const rsaJwk = rsa.publicKey.export({ format: "jwk" });
  const es = sign("sha256", data, { key: ec.privateKey, dsaEncoding: "ieee-p1363" });
  const rs = sign("sha256", data, rsa.privateKey);
  const cases = [
    ["ES256", ecJwk, es, true], ["ES256", ecJwk, Buffer.from(es).reverse(), false], ["ES256", ecJwk, new Uint8Array(64), false],
    ["RS256", rsaJwk, rs, true], ["RS256", rsaJwk, Buffer.from(rs).reverse(), false], ["RS256", rsaJwk, rs.subarray(1), false],
    ["RS256", rsaJwk, new Uint8Array(0), false],
  ];
  for (const [alg, jwk, sig, want] of cases) {
    const got = await both(async (m) => m.verify(alg, await m.importJwk(jwk, alg), new Uint8Array(sig), data));
    assert.deepEqual(got, [want, want], `${alg} ${sig.length} bytes`);
  }
  const bad = [
    ["ES256", { ...ecJwk, x: rsaJwk.e }],                    // not a point
    ["ES256", { ...ecJwk, y: ecJwk.x }],                     // off the curve
    ["ES256", other.publicKey.export({ format: "jwk" })],   // P-384
    ["ES256", rsaJwk], ["RS256", ecJwk],                     // the other key type
    ["RS256", { kty: "RSA", e: rsaJwk.e }],                  // no modulus
  ];
  for (const [alg, jwk] of bad) {
    assert.deepEqual(await both((m) => outcome(() => m.importJwk(jwk, alg))), ["threw: true", "threw: true"], `${alg} ${JSON.stringify(jwk).slice(0, 60)}`);
  }
});

test("verification is synchronous on Lambda@Edge", async () => {
  const raw = new TextEncoder().encode("k");
  const key = await node.importHmacKey(raw, "HS256");
  assert.equal(typeof node.verify("HS256", key, new Uint8Array(32), data), "boolean");
});
