// The part of node:crypto that crypto.ts uses, for the type check of the Lambda@Edge code (tsconfig.web.json: DOM
// types, no @types/node, whose globals would clash with the Web ones the adapters are written against). Signatures
// as in @types/node 20 (functions/package.json), narrowed to the argument shapes crypto.ts passes.
declare module "node:crypto" {
  interface AsymmetricKeyDetails {
    modulusLength?: number;
    publicExponent?: bigint;
    namedCurve?: string;
  }
  interface KeyObject {
    readonly type: "secret" | "public" | "private";
    readonly asymmetricKeyType?: string;
    readonly asymmetricKeyDetails?: AsymmetricKeyDetails;
    readonly symmetricKeySize?: number;
  }
  interface Hmac {
    update(data: Uint8Array): Hmac;
    digest(): Uint8Array;
  }
  interface JsonWebKeyInput {
    key: { kty: string; crv?: string; x?: string; y?: string; n?: string; e?: string };
    format: "jwk";
  }
  interface VerifyKeyObjectInput {
    key: KeyObject;
    dsaEncoding?: "der" | "ieee-p1363";
  }
  function createSecretKey(key: Uint8Array): KeyObject;
  function createPublicKey(key: JsonWebKeyInput): KeyObject;
  function createHmac(algorithm: string, key: KeyObject): Hmac;
  function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  function verify(algorithm: string, data: Uint8Array, key: KeyObject | VerifyKeyObjectInput, signature: Uint8Array): boolean;
}
