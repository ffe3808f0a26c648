// Vercel's signature crypto: src/core/crypto.ts's interface, with HS256 computed synchronously in JavaScript
// (src/core/sha256.ts) and everything else WebCrypto. The Vercel build puts this module where the verifier imports
// core/crypto (index.mjs, esbuild plugin); nothing imports it by name.
//
// Why HS256 only: the edge-runtime that runs Vercel middleware locally takes crypto.subtle from Node, whose verify
// is an asynchronous job on the libuv thread pool - 55-65 µs per HMAC check on a quiet machine, against 13 µs for
// the same check in JavaScript (docs/benchmarks.md, "Vercel: HS256 without the thread pool"). HS384/HS512 would need
// SHA-512's 64-bit arithmetic in JavaScript for algorithms few stacks use; RS256 and ES256 in JavaScript would be
// slower than the thread pool. Whether Vercel's production runtime has the same thread-pool hop is not known
// offline (docs/targets.md, unverified); the JavaScript check is correct there either way.
//
// Same rules as the WebCrypto module (tests/test_jwt_vectors.py and tests/test_jwt_fuzz.py run their corpora through
// this module in their "edge-runtime" runtime and compare with workerd's WebCrypto): an empty key is refused as
// WebCrypto refuses it, and a tag of another length is false.
import type * as Core from "../../src/core/crypto";
import { importHmacKey as webHmacKey, importJwk, verify as webVerify, type SigAlg, type VerifyKey } from "../../src/core/crypto";
import { hmacEqual, hmacSha256, hmacSha256Key, type HmacSha256Key } from "../../src/core/sha256";

export { importJwk };

/** An HS256 key checked in JavaScript. */
class Hs256Key {
  constructor(readonly key: HmacSha256Key) {}
}

export function importHmacKey(raw: Uint8Array, alg: SigAlg): Promise<VerifyKey> {
  if (alg !== "HS256") return webHmacKey(raw, alg);
  if (raw.length === 0) return Promise.reject(new Error("Zero-length key is not supported"));
  return Promise.resolve(new Hs256Key(hmacSha256Key(raw)));
}

export function verify(alg: SigAlg, key: VerifyKey, sig: Uint8Array, data: Uint8Array): boolean | Promise<boolean> {
  if (key instanceof Hs256Key) return alg === "HS256" && hmacEqual(hmacSha256(key.key, data), sig);
  return webVerify(alg, key, sig, data);
}

// This module must keep src/core/crypto.ts's interface (the build swaps one for the other): checked by tsc.
type SameAsCore<T extends Pick<typeof Core, "importHmacKey" | "importJwk" | "verify">> = T;
export type _SameAsCore = SameAsCore<{ importHmacKey: typeof importHmacKey; importJwk: typeof importJwk; verify: typeof verify }>;
