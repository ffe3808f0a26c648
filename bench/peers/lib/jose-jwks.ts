// RS256/ES256 with jose inside a Hono middleware (jose-auth.ts): jwtVerify with a local key set,
//   createLocalJWKSet https://github.com/panva/jose/blob/main/docs/jwks/local/functions/createLocalJWKSet.md
// (a fixed key set, selected by the token's kid and alg; jose imports each key once and keeps it).
import { createLocalJWKSet } from "jose";
import { verifier } from "./jose-auth";
import { SETTINGS } from "./settings";

const rs256Keys = createLocalJWKSet({ keys: [SETTINGS.jwks.RS256] });
const es256Keys = createLocalJWKSet({ keys: [SETTINGS.jwks.ES256] });
export const rs256 = verifier(() => rs256Keys, ["RS256"]);
export const es256 = verifier(() => es256Keys, ["ES256"]);
