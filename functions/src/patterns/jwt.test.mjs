// jwt-auth's parsing and verification (jwt.ts), without a runtime around it: where the token is read from, which
// tokens are refused before and after the signature, and that a failure of the platform is not a 401.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const J = await importTs(new URL("./jwt.ts", import.meta.url));
const { extractToken, verifyJwt, JwtReject, jwtStep } = J;
// Each importTs is its own bundle, so the class is recognised by name, not by identity.
const internal = (e) => e.constructor.name === "EdgeInternalError" && /store down/.test(e.message);

const SECRET = "unit-test-secret-of-at-least-32-bytes!";
const NOW = 1_800_000_000;
const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
function sign(header, claims, secret = SECRET, hash = "sha256") {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${createHmac(hash, secret).update(head).digest("base64url")}`;
}
const cfg = (over = {}) => ({
  type: "jwt-auth", name: "auth", routes: [{ prefix: "/" }], algorithms: ["HS256"],
  hmac: { secret: "jwt_hmac", encoding: "utf8" }, leeway: 30, requireExp: true, requiredClaims: [],
  token: { header: "authorization", scheme: "Bearer" }, forward: { claims: { "x-user": "sub" }, token: false },
  realm: "api", maxTokenBytes: 8192, ...over,
});
const platform = { secret: async () => SECRET, live: async () => null, now: () => NOW * 1000 };
const good = (claims = {}) => sign({ alg: "HS256", typ: "JWT" }, { sub: "u1", exp: NOW + 60, ...claims });
const reason = async (token, c = cfg(), p = platform) => {
  try {
    await verifyJwt(token, c, p);
    return "accepted";
  } catch (e) {
    if (!(e instanceof JwtReject)) throw e;
    return e.reason;
  }
};

test("extractToken: the declared header with its scheme (any case), else the declared cookie, else none", () => {
  const h = (o) => ({ headers: new Headers(o) });
  assert.equal(extractToken(h({ authorization: "Bearer abc" }), cfg()), "abc");
  assert.equal(extractToken(h({ authorization: "bearer abc" }), cfg()), "abc");
  assert.equal(extractToken(h({}), cfg()), null);
  assert.throws(() => extractToken(h({ authorization: "Basic abc" }), cfg()), JwtReject);
  assert.throws(() => extractToken(h({ authorization: "Bearerabc" }), cfg()), JwtReject);
  const withCookie = cfg({ token: { header: "authorization", scheme: "Bearer", cookie: "session" } });
  assert.equal(extractToken(h({ cookie: "a=1; session=tok; b=2" }), withCookie), "tok");
  // The header wins over the cookie; a cookie is not read when none is declared.
  assert.equal(extractToken(h({ authorization: "Bearer hdr", cookie: "session=tok" }), withCookie), "hdr");
  assert.equal(extractToken(h({ cookie: "session=tok" }), cfg()), null);
});

test("a well-signed, current token is accepted and returns its claims", async () => {
  assert.equal(await reason(good()), "accepted");
  assert.equal((await verifyJwt(good({ role: "x" }), cfg(), platform)).role, "x");
});

test("structure and header are refused before any key is touched", async () => {
  const cases = {
    "token is not a compact JWS": ["a.b", "a.b.c.d", good().split(".").slice(0, 2).join(".")],
    "empty token segment": [`.${b64({})}.sig`, `${b64({ alg: "HS256" })}..sig`],
    "malformed header": [`@@.${b64({})}.c2ln`, `${b64("not json")}.${b64({})}.c2ln`],
    "header is not a JSON object": [`${b64([1])}.${b64({})}.c2ln`, `${b64("null")}.${b64({})}.c2ln`],
    "algorithm not accepted": [sign({ alg: "none" }, {}), sign({ alg: "HS512" }, {}, SECRET, "sha512"), sign({ alg: "hs256" }, {})],
    "crit is not supported": [sign({ alg: "HS256", crit: ["exp"] }, {})],
    "b64 is not supported": [sign({ alg: "HS256", b64: false }, {})],
    "malformed signature": [`${good().split(".").slice(0, 2).join(".")}.a+b/`],
    "signature has the wrong length": [`${good().split(".").slice(0, 2).join(".")}.${b64("short")}`],
    "token too large": ["x".repeat(8193)],
  };
  for (const [want, tokens] of Object.entries(cases)) {
    for (const t of tokens) assert.equal(await reason(t), want, t);
  }
});

test("the signature must hold; the payload is read only after it does", async () => {
  assert.equal(await reason(sign({ alg: "HS256" }, { exp: NOW + 60 }, "another-secret-another-secret-another")), "signature mismatch");
  const [h, , s] = good().split(".");
  assert.equal(await reason(`${h}.${b64({ sub: "admin", exp: NOW + 60 })}.${s}`), "signature mismatch");
  // A payload that is not JSON, signed: refused as a payload, not earlier.
  assert.equal(await reason(sign({ alg: "HS256" }, "not json")), "malformed payload");
});

test("claims: exp, nbf, iat with leeway; issuer, audience, maxAge and required claims when declared", async () => {
  const c = (claims, over) => reason(sign({ alg: "HS256" }, claims), cfg(over));
  assert.equal(await c({}), "exp is required");
  assert.equal(await c({}, { requireExp: false }), "accepted");
  assert.equal(await c({ exp: NOW - 31 }), "token expired");
  assert.equal(await c({ exp: NOW - 29 }), "accepted"); // within the 30 s leeway
  assert.equal(await c({ exp: "soon" }), "exp is not a number");
  assert.equal(await c({ exp: NOW + 60, nbf: NOW + 31 }), "token not yet valid");
  assert.equal(await c({ exp: NOW + 60, iat: NOW + 31 }), "iat is in the future");
  assert.equal(await c({ exp: NOW + 60 }, { maxAge: 300 }), "iat is required");
  assert.equal(await c({ exp: NOW + 60, iat: NOW - 331 }, { maxAge: 300 }), "token too old");
  assert.equal(await c({ exp: NOW + 60, iss: "x" }, { issuer: "https://issuer" }), "unexpected issuer");
  assert.equal(await c({ exp: NOW + 60, iss: "https://issuer" }, { issuer: "https://issuer" }), "accepted");
  assert.equal(await c({ exp: NOW + 60 }, { audience: ["api"] }), "aud missing or malformed");
  assert.equal(await c({ exp: NOW + 60, aud: ["web", 7] }, { audience: ["api"] }), "aud missing or malformed");
  assert.equal(await c({ exp: NOW + 60, aud: ["web"] }, { audience: ["api"] }), "unexpected audience");
  assert.equal(await c({ exp: NOW + 60, aud: ["web", "api"] }, { audience: ["api"] }), "accepted");
  assert.equal(await c({ exp: NOW + 60 }, { requiredClaims: ["tenant"] }), "claim tenant is required");
  assert.equal(await c({ exp: NOW + 60 }, { typ: "at+jwt" }), "unexpected typ");
});

test("a secret the platform cannot give is an internal error (503), never a 401 or a pass", async () => {
  const down = { ...platform, secret: async () => { throw new Error("store down"); } };
  await assert.rejects(verifyJwt(good(), cfg(), down), internal);
  const ctx = { headers: new Headers({ authorization: `Bearer ${good()}` }), platform: down };
  await assert.rejects(jwtStep(ctx, cfg()), internal);
});

test("the step: 401 with a challenge when refused; claims forwarded and the token kept at the edge when accepted", async () => {
  const refused = await jwtStep({ headers: new Headers(), platform }, cfg());
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="api"');
  const bad = await jwtStep({ headers: new Headers({ authorization: "Bearer a.b.c" }), platform }, cfg());
  assert.match(bad.headers.get("www-authenticate"), /error="invalid_token"/);
  const headers = new Headers({ authorization: `Bearer ${good({ sub: "Zoë" })}` });
  assert.equal(await jwtStep({ headers, platform }, cfg()), undefined);
  assert.equal(headers.get("x-user"), "Zo%C3%AB");
  assert.equal(headers.get("authorization"), null);
});
