// Signature crypto for the JWT verifier (patterns/jwt.ts), behind a small interface so that a platform can supply
// its own: this module is WebCrypto (crypto.subtle), which every runtime the edge code runs in has. The Lambda@Edge
// build swaps it for functions/platforms/lambda-edge/crypto.ts (synchronous node:crypto; its esbuild options in
// platforms/lambda-edge/index.mjs), so the verifier never imports platform code and needs no platform flag.
//
// A replacement keeps every rule of this one (tests/test_jwt_vectors.py and tests/test_jwt_fuzz.py run the same
// corpora through both and compare):
// - importHmacKey: raw key bytes for HS256/384/512; refuses (throws) an empty key, as WebCrypto does;
// - importJwk: only the public key parameters of the JWK count; the key type and curve must be the algorithm's;
//   throws when the key does not import (the verifier answers 503: a configured key is broken);
// - verify: true or false, never a throw for a signature of the right length (the verifier checks the length rule
//   first); it may answer synchronously or with a promise.

export type SigAlg = "HS256" | "HS384" | "HS512" | "RS256" | "ES256";

/** An imported verification key: opaque to the verifier, which only passes it back and compares it by identity. */
export type VerifyKey = object;

/** The public key parameters of a JWK the verifier hands over (nothing else of the configured JWK). */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const PARAMS: Record<SigAlg, any> = {
  HS256: { name: "HMAC", hash: "SHA-256" },
  HS384: { name: "HMAC", hash: "SHA-384" },
  HS512: { name: "HMAC", hash: "SHA-512" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
};

// (The casts: TextEncoder's bytes are typed over ArrayBufferLike in some runtimes' types; they are never shared.)
export function importHmacKey(raw: Uint8Array, alg: SigAlg): Promise<VerifyKey> {
  return crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, PARAMS[alg], false, ["verify"]);
}

export function importJwk(jwk: PublicJwk, alg: SigAlg): Promise<VerifyKey> {
  const { kty, crv, x, y, n, e } = jwk;
  return crypto.subtle.importKey("jwk", { kty, crv, x, y, n, e, ext: true }, PARAMS[alg], false, ["verify"]);
}

export function verify(alg: SigAlg, key: VerifyKey, sig: Uint8Array, data: Uint8Array): boolean | Promise<boolean> {
  return crypto.subtle.verify(PARAMS[alg], key as Key, sig as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
}
