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

const HMAC_HASH: Partial<Record<SigAlg, string>> = { HS256: "sha256", HS384: "sha384", HS512: "sha512" };

export function importHmacKey(raw: Uint8Array, alg: SigAlg): Promise<VerifyKey> {
  if (HMAC_HASH[alg] === undefined) return Promise.reject(new Error(`${alg} is not an HMAC algorithm`));
  if (raw.length === 0) return Promise.reject(new Error("Zero-length key is not supported"));
  // A KeyObject holding a copy of the bytes (the caller's array may be reused):
  // https://nodejs.org/api/crypto.html#cryptocreatesecretkeykey-encoding
  return Promise.resolve(createSecretKey(raw));
}

export function importJwk(jwk: PublicJwk, alg: SigAlg): Promise<VerifyKey> {
  try {
    const { kty, crv, x, y, n, e } = jwk;
    let key: KeyObject;
    if (alg === "ES256") {
      if (kty !== "EC" || crv !== "P-256") throw new Error(`a ${alg} key must be an EC key on P-256`);
      // A public key from a JWK; an EC point off the curve is refused here ("Invalid JWK EC key"):
      // https://nodejs.org/api/crypto.html#cryptocreatepublickeykey
      key = createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
      // asymmetricKeyDetails.namedCurve is OpenSSL's name for P-256:
      // https://nodejs.org/api/crypto.html#keyobjectasymmetrickeydetails
      if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") throw new Error("not a P-256 key");
    } else if (alg === "RS256") {
      if (kty !== "RSA") throw new Error(`a ${alg} key must be an RSA key`);
      key = createPublicKey({ key: { kty, n, e }, format: "jwk" }); // as above
      if (key.asymmetricKeyType !== "rsa") throw new Error("not an RSA key");
    } else {
      throw new Error(`${alg} has no public key`);
    }
    return Promise.resolve(key);
  } catch (err) {
    return Promise.reject(err);
  }
}

export function verify(alg: SigAlg, key: VerifyKey, sig: Uint8Array, data: Uint8Array): boolean {
  const k = key as KeyObject;
  const hash = HMAC_HASH[alg];
  if (hash !== undefined) {
    // The tag, computed synchronously with the KeyObject as the key:
    // https://nodejs.org/api/crypto.html#cryptocreatehmacalgorithm-key-options
    const tag = createHmac(hash, k).update(data).digest();
    // timingSafeEqual throws when the lengths differ, so they are compared first (the length of a tag is public):
    // https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b
    return tag.length === sig.length && timingSafeEqual(tag, sig);
  }
  // Synchronous when no callback is given; RSA keys default to PKCS#1 v1.5 padding (RS256), and for ECDSA
  // dsaEncoding "ieee-p1363" takes the r || s form JWS uses (RFC 7518 §3.4) instead of DER:
  // https://nodejs.org/api/crypto.html#cryptoverifyalgorithm-data-key-signature-callback
  if (alg === "ES256") return nodeVerify("sha256", data, { key: k, dsaEncoding: "ieee-p1363" }, sig);
  if (alg === "RS256") return nodeVerify("sha256", data, k, sig);
  return false;
}

// This module must keep src/core/crypto.ts's interface (the build swaps one for the other): checked by tsc.
type SameAsCore<T extends Pick<typeof Core, "importHmacKey" | "importJwk" | "verify">> = T;
export type _SameAsCore = SameAsCore<{ importHmacKey: typeof importHmacKey; importJwk: typeof importJwk; verify: typeof verify }>;
