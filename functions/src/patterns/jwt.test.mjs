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

test("token cache: a repeated token is served from the cache, its time claims still checked on every request", async () => {
  const c = cfg();
  let now = NOW * 1000;
  const clock = { ...platform, now: () => now };
  const t = good({ exp: NOW + 60 });
  assert.equal(J.cachedTokens(c), 0);
  assert.equal(await reason(t, c, clock), "accepted");
  assert.equal(J.cachedTokens(c), 1);
  const first = await verifyJwt(t, c, clock);
  assert.equal(await verifyJwt(t, c, clock), first); // the cached claims object: no second decode
  assert.equal(J.cachedTokens(c), 1);
  now = (NOW + 60 + 30) * 1000; // exp + leeway: expired now, although cached
  assert.equal(await reason(t, c, clock), "token expired");
  assert.equal(J.cachedTokens(c), 0); // dropped
  // nbf: not yet valid is refused on every request, so such a token is never cached.
  now = NOW * 1000;
  const early = good({ nbf: NOW + 100 });
  assert.equal(await reason(early, c, clock), "token not yet valid");
  assert.equal(J.cachedTokens(c), 0);
  // maxAge counts from iat on every request.
  const aged = cfg({ maxAge: 100 });
  const withIat = good({ iat: NOW, exp: NOW + 1000 });
  assert.equal(await reason(withIat, aged, clock), "accepted");
  now = (NOW + 100 + 31) * 1000;
  assert.equal(await reason(withIat, aged, clock), "token too old");
});

test("token cache: keyed on the exact token, per pattern, and invalidated by a key change", async () => {
  const c = cfg();
  const t = good();
  assert.equal(await reason(t, c), "accepted");
  // One character changed in any segment is another token, verified afresh (and refused).
  const [h, p, s] = t.split(".");
  const flip = (x) => x.slice(0, -2) + (x.at(-2) === "A" ? "B" : "A") + x.at(-1);
  for (const bad of [`${h}.${p}.${flip(s)}`, `${h}.${flip(p)}.${s}`, `${t} `, `${t}.`]) {
    assert.notEqual(await reason(bad, c), "accepted", bad);
  }
  // Another pattern's config shares nothing: its own options apply to the same token.
  assert.equal(await reason(t, cfg({ issuer: "https://issuer.example" })), "unexpected issuer");
  // The secret rotates: the cached token was signed with the old one and is refused.
  const rotated = { ...platform, secret: async () => "a-rotated-secret-of-at-least-32-bytes!" };
  assert.equal(await reason(t, c, rotated), "signature mismatch");
  assert.equal(J.cachedTokens(c), 0);
  // A secret that cannot be read is a 503 on a cached token too, never a pass.
  assert.equal(await reason(t, c), "accepted");
  const down = { ...platform, secret: async () => { throw new Error("store down"); } };
  await assert.rejects(verifyJwt(t, c, down), internal);
});

test("token cache: bounded, least recently used first", async () => {
  const c = cfg();
  const tokens = Array.from({ length: 600 }, (_, i) => good({ n: i }));
  for (const t of tokens) assert.equal(await reason(t, c), "accepted");
  assert.equal(J.cachedTokens(c), 512);
  // The oldest 88 were dropped; touching the oldest kept one protects it from the next eviction.
  const kept = tokens[88];
  const before = await verifyJwt(kept, c, platform);
  await verifyJwt(good({ n: "new" }), c, platform);
  assert.equal(await verifyJwt(kept, c, platform), before);
  assert.notEqual(await verifyJwt(tokens[0], c, platform), await verifyJwt(tokens[0], cfg(), platform));
  // Large tokens: the character budget (1 MiB) bounds it before the entry count does.
  const big = cfg({ maxTokenBytes: 20000 });
  for (let i = 0; i < 80; i++) assert.equal(await reason(good({ pad: "x".repeat(12000), n: i }), big), "accepted");
  assert.ok(J.cachedTokens(big) < 80 && J.cachedTokens(big) >= 50, String(J.cachedTokens(big)));
});
