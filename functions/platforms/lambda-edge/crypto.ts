// Lambda@Edge's signature crypto: src/core/crypto.ts's interface with synchronous node:crypto instead of WebCrypto.
// The Lambda@Edge build puts this module where the verifier (src/patterns/jwt.ts) imports core/crypto (index.mjs,
// `cryptoSwap`); nothing imports it by name.
//
// Why: in Node, crypto.subtle.verify is an asynchronous job on the libuv thread pool. The HMAC/RSA/ECDSA work is a
// few µs to a few tens of µs; the hop to the pool and back and the promise plumbing around it cost tens of µs per
// request on top (docs/benchmarks.md, "Where edgeport's time goes", row 3). The same OpenSSL operations called
// synchronously skip all of it. Lambda@Edge runs one request at a time per container, so nothing else waits on the
// main thread meanwhile.
//
// Same rules as the WebCrypto module (tests/test_jwt_vectors.py and tests/test_jwt_fuzz.py run their corpora
// through this module in their "node" runtime and through WebCrypto in workerd and edge-runtime, and compare):
// - an empty HMAC key is refused (WebCrypto: "Zero-length key is not supported"), node:crypto would take it;
// - only kty/crv/x/y/n/e of a JWK are used, and the key type and curve must be the algorithm's;
// - verify answers true or false and never throws for a signature the verifier lets through (its length rule runs
//   first); an HMAC tag of another length is false before it is compared.
import { createHmac, createPublicKey, createSecretKey, type KeyObject, timingSafeEqual, verify as nodeVerify } from "node:crypto";
import type * as Core from "../../src/core/crypto";
import type { PublicJwk, SigAlg, VerifyKey } from "../../src/core/crypto";

/** Per algorithm: the hash, the JWK key type, and for ECDSA the curve as node:crypto names it. */
const SPEC: Record<SigAlg, { hash: string; kty: string; curve?: string }> = {
  HS256: { hash: "sha256", kty: "oct" },
  HS384: { hash: "sha384", kty: "oct" },
  HS512: { hash: "sha512", kty: "oct" },
  RS256: { hash: "sha256", kty: "RSA" },
  ES256: { hash: "sha256", kty: "EC", curve: "prime256v1" }, // OpenSSL's name for P-256
};

// (async: a throw becomes the rejection the verifier expects of a key that does not import)
export async function importHmacKey(raw: Uint8Array, alg: SigAlg): Promise<VerifyKey> {
  if (SPEC[alg].kty !== "oct") throw new Error(`${alg} is not an HMAC algorithm`);
  if (raw.length === 0) throw new Error("Zero-length key is not supported");
  // A KeyObject holding a copy of the bytes: https://nodejs.org/api/crypto.html#cryptocreatesecretkeykey-encoding
  return createSecretKey(raw);
}

export async function importJwk(jwk: PublicJwk, alg: SigAlg): Promise<VerifyKey> {
  const { kty, crv, x, y, n, e } = jwk;
  const s = SPEC[alg];
  if (kty !== s.kty || (s.curve !== undefined && crv !== "P-256")) throw new Error(`not a ${alg} key`);
  // A public key from the JWK's public parameters; an EC point off the curve is refused here:
  // https://nodejs.org/api/crypto.html#cryptocreatepublickeykey
  const key = createPublicKey({ key: s.curve !== undefined ? { kty, crv, x, y } : { kty, n, e }, format: "jwk" });
  // The key type and curve it came out as: https://nodejs.org/api/crypto.html#keyobjectasymmetrickeydetails
  if (key.asymmetricKeyType !== kty.toLowerCase() || key.asymmetricKeyDetails?.namedCurve !== s.curve) throw new Error(`not a ${alg} key`);
  return key;
}

export function verify(alg: SigAlg, key: VerifyKey, sig: Uint8Array, data: Uint8Array): boolean {
  const k = key as KeyObject;
  const s = SPEC[alg];
  if (s.kty === "oct") {
    // The tag, computed synchronously with the KeyObject as the key:
    // https://nodejs.org/api/crypto.html#cryptocreatehmacalgorithm-key-options
    const tag = createHmac(s.hash, k).update(data).digest();
    // timingSafeEqual throws when the lengths differ, so they are compared first (the length of a tag is public):
    // https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b
    return tag.length === sig.length && timingSafeEqual(tag, sig);
  }
  // Synchronous when no callback is given; an RSA key defaults to PKCS#1 v1.5 padding (RS256), and for ECDSA
  // dsaEncoding "ieee-p1363" takes the r || s form JWS uses (RFC 7518 §3.4) instead of DER:
  // https://nodejs.org/api/crypto.html#cryptoverifyalgorithm-data-key-signature-callback
  return nodeVerify(s.hash, data, s.curve !== undefined ? { key: k, dsaEncoding: "ieee-p1363" } : k, sig);
}

// This module must keep src/core/crypto.ts's interface (the build swaps one for the other): checked by tsc.
type SameAsCore<T extends Pick<typeof Core, "importHmacKey" | "importJwk" | "verify">> = T;
export type _SameAsCore = SameAsCore<{ importHmacKey: typeof importHmacKey; importJwk: typeof importJwk; verify: typeof verify }>;
