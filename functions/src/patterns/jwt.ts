// jwt-auth: verify a compact JWS bearer token and forward the verified claims to the
// origin. Written once for every platform; the signature crypto is core/crypto.ts
// (WebCrypto; a target's build may put its own module in its place: synchronous
// node:crypto on Lambda@Edge, HS256 in JavaScript on Vercel - platforms/<name>/crypto.ts).
//
// Security posture (see docs/jwt.md): the server picks the algorithm (allowlist),
// keys come only from deployment config (HMAC secret or a fixed JWK set, looked up
// by `kid`), header-embedded key material (jwk/jku/x5u/x5c) is ignored, `crit` and
// `b64` are refused, base64url must be canonical, and every failure is a 401
// (bad token) or a 503 (platform/config failure) - never a pass-through.
import { b64urlDecode, b64urlEncodeText } from "../core/b64";
import { importHmacKey, importJwk, type SigAlg, verify, type VerifyKey } from "../core/crypto";
import { jsonResponse, parseCookies, withoutCookie } from "../core/http";
import type { PatternBase } from "../core/config";
import { EdgeInternalError, type Platform } from "../core/platform";

export type Alg = SigAlg;

export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export interface JwtConfig extends PatternBase {
  type: "jwt-auth";
  algorithms: Alg[];
  /** HMAC key: the named secret, as UTF-8 text or base64url-encoded bytes */
  hmac?: { secret: string; encoding: "utf8" | "base64url" };
  /** public keys, fixed at deploy time */
  jwks?: { keys: Jwk[] };
  issuer?: string;
  audience?: string[];
  leeway: number;
  requireExp: boolean;
  maxAge?: number;
  requiredClaims: string[];
  typ?: string;
  token: { header: string; scheme: string; cookie?: string };
  forward: { claimsHeader?: string; claims: Record<string, string>; token: boolean };
  realm: string;
  maxTokenBytes: number;
}

type Key = VerifyKey;

const ALG: Record<Alg, { kty: string; crv?: string; sigBytes?: number }> = {
  HS256: { kty: "oct", sigBytes: 32 },
  HS384: { kty: "oct", sigBytes: 48 },
  HS512: { kty: "oct", sigBytes: 64 },
  RS256: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256", sigBytes: 64 },
};

/**
 * A token-caused rejection: answered with 401. Deliberately not an Error: nothing reads its stack, and capturing
 * one on every refused token cost 6-15 µs per 401 (docs/benchmarks.md, "Where edgeport's time goes", row 7).
 */
export class JwtReject {
  constructor(readonly reason: string, readonly missing = false) {}
}

// Imported keys are cached per isolate (the module scope lives as long as the
// isolate / Lambda container). The promise is cached so concurrent first
// requests share one import; a failed import is evicted.
const keyCache = new Map<string, Promise<Key>>();

function cachedKey(id: string, make: () => Promise<Key>): Promise<Key> {
  let p = keyCache.get(id);
  if (!p) {
    p = make();
    keyCache.set(id, p);
    p.catch(() => keyCache.delete(id));
  }
  return p;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decodeJsonObject(seg: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(b64urlDecode(seg)));
  } catch {
    throw new JwtReject(`malformed ${what}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new JwtReject(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

export function extractToken(req: { headers: Headers }, cfg: JwtConfig): string | null {
  const h = req.headers.get(cfg.token.header);
  if (h !== null) {
    const sp = h.indexOf(" ");
    if (sp < 0 || h.slice(0, sp).toLowerCase() !== cfg.token.scheme.toLowerCase()) {
      throw new JwtReject(`expected "${cfg.token.scheme} <token>" in ${cfg.token.header}`);
    }
    return h.slice(sp + 1);
  }
  if (cfg.token.cookie) return parseCookies(req.headers.get("cookie")).get(cfg.token.cookie) ?? null;
  return null;
}

async function hmacKey(cfg: JwtConfig, alg: Alg, platform: Platform): Promise<Key> {
  if (!cfg.hmac) throw new JwtReject(`${alg} is not accepted`);
  let secret: string;
  try {
    secret = await platform.secret(cfg.hmac.secret);
  } catch (e) {
    throw new EdgeInternalError(`secret ${cfg.hmac.secret} unavailable: ${(e as Error).message}`);
  }
  const enc = cfg.hmac.encoding;
  return cachedKey(`${alg}|${enc}|${secret}`, async () => {
    const raw = enc === "base64url" ? b64urlDecode(secret) : new TextEncoder().encode(secret);
    return importHmacKey(raw, alg);
  });
}

function jwkFits(k: Jwk, alg: Alg): boolean {
  const a = ALG[alg];
  return (
    k.kty === a.kty &&
    (a.crv === undefined || k.crv === a.crv) &&
    (k.alg === undefined || k.alg === alg) &&
    (k.use === undefined || k.use === "sig") &&
    (k.key_ops === undefined || k.key_ops.includes("verify"))
  );
}

/** A configured public key as the verifier imports it: only the key parameters, for verification with `alg`. */
async function importPublicJwk(jwk: Jwk, alg: Alg): Promise<Key> {
  const { kty, crv, x, y, n, e } = jwk;
  return importJwk({ kty, crv, x, y, n, e }, alg);
}

/**
 * Does `sig` sign `data` with `key` under `alg`? The verifier's whole signature rule: a signature of the wrong
 * length for the algorithm is refused before the crypto sees it, then the crypto (core/crypto.ts) decides.
 */
function signatureValid(alg: Alg, key: Key, sig: Uint8Array, data: Uint8Array): boolean | Promise<boolean> {
  const spec = ALG[alg];
  if (spec.sigBytes !== undefined && sig.length !== spec.sigBytes) return false;
  return verify(alg, key, sig, data);
}

/** signatureValid with a JWK, for the signature test vectors (tests/test_jwt_vectors.py) in every runtime. */
export async function signatureHolds(alg: Alg, jwk: Jwk, sig: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<boolean> {
  return signatureValid(alg, await importPublicJwk(jwk, alg), sig, data);
}

function publicKey(cfg: JwtConfig, alg: Alg, kid: unknown): Promise<Key> {
  const keys = cfg.jwks?.keys ?? [];
  let jwk: Jwk | undefined;
  if (kid !== undefined) {
    if (typeof kid !== "string") throw new JwtReject("kid is not a string");
    jwk = keys.find((k) => k.kid === kid);
    if (!jwk) throw new JwtReject("unknown kid");
  } else {
    const fitting = keys.filter((k) => jwkFits(k, alg));
    if (fitting.length !== 1) throw new JwtReject("token has no kid and the key is ambiguous");
    jwk = fitting[0];
  }
  if (!jwkFits(jwk, alg)) throw new JwtReject(`key ${jwk.kid ?? ""} cannot be used with ${alg}`);
  const idx = keys.indexOf(jwk);
  // Keyed by the key material itself, not by pattern and position: a config whose keys change (rotation) in a
  // long-lived isolate never verifies with a stale key. (Concatenation, not JSON: this runs on every request.)
  const { kty, crv, x, y, n, e } = jwk;
  return cachedKey(`${alg}|${kty}|${crv}|${x}|${y}|${n}|${e}`, async () => {
    try {
      return await importPublicJwk(jwk!, alg);
    } catch (err) {
      throw new EdgeInternalError(`configured key ${jwk!.kid ?? idx} does not import: ${(err as Error).message}`);
    }
  });
}

function numericClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new JwtReject(`${name} is not a number`);
  return v;
}

/**
 * Tokens whose signature held, per pattern config (a WeakMap: each pattern has its own options, and a config
 * object is never shared between patterns). A session sends the same token again and again; a hit skips the
 * decoding and the signature verification, nothing else:
 * - keyed on the exact token text (Map keys compare strings by value: one byte different is another entry);
 * - only tokens that verified are stored, with the key object they verified under; a hit resolves the key again
 *   (the secret is read as on a miss) and must get that same object - imported keys are cached per key material
 *   (keyCache), so a rotated secret or changed JWK set gives another object and the token is verified afresh;
 * - the claim checks (exp/nbf/iat with the leeway, maxAge, iss, sub, aud, required claims) run on every request,
 *   hit or miss, against the current time; an entry whose token failed them is dropped;
 * - bounded: at most TOKEN_CACHE_ENTRIES tokens and TOKEN_CACHE_CHARS characters of tokens per pattern, the
 *   least recently used dropped first (a Map keeps insertion order; a hit moves its entry to the end).
 * The stored claims object is shared by the requests that hit it and is read, never written.
 */
const TOKEN_CACHE_ENTRIES = 512;
const TOKEN_CACHE_CHARS = 1 << 20;

interface Verified {
  alg: Alg;
  kid: unknown;
  key: Key;
  claims: Record<string, unknown>;
  /** claimHeaders(cfg, claims), filled by jwtStep on first use */
  forward?: [string, string][];
}

interface TokenCache {
  entries: Map<string, Verified>;
  chars: number;
}

const tokenCaches = new WeakMap<JwtConfig, TokenCache>();

function tokenCache(cfg: JwtConfig): TokenCache {
  let c = tokenCaches.get(cfg);
  if (!c) tokenCaches.set(cfg, (c = { entries: new Map(), chars: 0 }));
  return c;
}

function forget(c: TokenCache, token: string): void {
  if (c.entries.delete(token)) c.chars -= token.length;
}

function remember(c: TokenCache, token: string, v: Verified): void {
  forget(c, token);
  c.entries.set(token, v);
  c.chars += token.length;
  while (c.entries.size > TOKEN_CACHE_ENTRIES || c.chars > TOKEN_CACHE_CHARS) {
    forget(c, c.entries.keys().next().value as string);
  }
}

/** How many tokens the cache holds for `cfg` (tests). */
export function cachedTokens(cfg: JwtConfig): number {
  return tokenCaches.get(cfg)?.entries.size ?? 0;
}

function keyFor(cfg: JwtConfig, alg: Alg, kid: unknown, platform: Platform): Promise<Key> {
  return ALG[alg].kty === "oct" ? hmacKey(cfg, alg, platform) : publicKey(cfg, alg, kid);
}

/** Verify a compact JWS/JWT. Returns the claims or throws JwtReject / EdgeInternalError. */
export async function verifyJwt(token: string, cfg: JwtConfig, platform: Platform): Promise<Record<string, unknown>> {
  return (await verifyToken(token, cfg, platform)).claims;
}

async function verifyToken(token: string, cfg: JwtConfig, platform: Platform): Promise<Verified> {
  if (token.length > cfg.maxTokenBytes) throw new JwtReject("token too large");
  const cache = tokenCache(cfg);
  const hit = cache.entries.get(token);
  if (hit) {
    if ((await keyFor(cfg, hit.alg, hit.kid, platform)) === hit.key) {
      try {
        checkClaims(hit.claims, cfg, platform);
      } catch (e) {
        forget(cache, token);
        throw e;
      }
      remember(cache, token, hit);
      return hit;
    }
    forget(cache, token);
  }
  const v = await verifySignature(token, cfg, platform);
  checkClaims(v.claims, cfg, platform);
  remember(cache, token, v);
  return v;
}

/** The token's structure, header and signature; its claims decoded but not yet checked. */
async function verifySignature(token: string, cfg: JwtConfig, platform: Platform): Promise<Verified> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtReject("token is not a compact JWS");
  const [h, p, s] = parts;
  if (!h || !p || !s) throw new JwtReject("empty token segment");
  const header = decodeJsonObject(h, "header");
  const alg = header.alg;
  if (typeof alg !== "string" || !(cfg.algorithms as string[]).includes(alg)) throw new JwtReject("algorithm not accepted");
  if ("crit" in header) throw new JwtReject("crit is not supported");
  if ("b64" in header) throw new JwtReject("b64 is not supported");
  if (cfg.typ !== undefined && header.typ !== cfg.typ) throw new JwtReject("unexpected typ");
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = b64urlDecode(s);
  } catch {
    throw new JwtReject("malformed signature");
  }
  const spec = ALG[alg as Alg];
  if (spec.sigBytes !== undefined && sig.length !== spec.sigBytes) throw new JwtReject("signature has the wrong length");
  const key = await keyFor(cfg, alg as Alg, header.kid, platform);
  const data = new TextEncoder().encode(`${h}.${p}`);
  if (!(await signatureValid(alg as Alg, key, sig, data))) throw new JwtReject("signature mismatch");

  // Claims are looked at only after the signature holds.
  return { alg: alg as Alg, kid: header.kid, key, claims: decodeJsonObject(p, "payload") };
}

/** The claim rules, on every request (a cached token's too): time claims against the current time, then the rest. */
function checkClaims(claims: Record<string, unknown>, cfg: JwtConfig, platform: Platform): void {
  const now = platform.now() / 1000;
  const exp = numericClaim(claims, "exp");
  const nbf = numericClaim(claims, "nbf");
  const iat = numericClaim(claims, "iat");
  if (exp === undefined && cfg.requireExp) throw new JwtReject("exp is required");
  if (exp !== undefined && now >= exp + cfg.leeway) throw new JwtReject("token expired");
  if (nbf !== undefined && now + cfg.leeway < nbf) throw new JwtReject("token not yet valid");
  if (iat !== undefined && now + cfg.leeway < iat) throw new JwtReject("iat is in the future");
  if (cfg.maxAge !== undefined) {
    if (iat === undefined) throw new JwtReject("iat is required");
    if (now - cfg.leeway > iat + cfg.maxAge) throw new JwtReject("token too old");
  }
  if (cfg.issuer !== undefined && claims.iss !== cfg.issuer) throw new JwtReject("unexpected issuer");
  // RFC 7519 §4.1.2: sub is a StringOrURI. A number, boolean, null or object would reach the origin as text (or not
  // at all), so two different subjects could look like one identity there (found by tests/test_jwt_fuzz.py).
  if (claims.sub !== undefined && typeof claims.sub !== "string") throw new JwtReject("sub is not a string");
  if (cfg.audience !== undefined) {
    const aud = claims.aud;
    const list = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : null;
    if (!list || list.some((a) => typeof a !== "string")) throw new JwtReject("aud missing or malformed");
    if (!list.some((a) => cfg.audience!.includes(a as string))) throw new JwtReject("unexpected audience");
  }
  // Own properties only: `in` also finds inherited names (constructor, toString, __proto__), which no token sets.
  for (const c of cfg.requiredClaims) if (!Object.hasOwn(claims, c)) throw new JwtReject(`claim ${c} is required`);
}

function unauthorized(cfg: JwtConfig, e: JwtReject): Response {
  // RFC 6750 §3: no error code when the request carried no token at all.
  const q = (s: string) => s.replace(/["\\]/g, "");
  const challenge = e.missing
    ? `Bearer realm="${q(cfg.realm)}"`
    : `Bearer realm="${q(cfg.realm)}", error="invalid_token", error_description="${q(e.reason)}"`;
  return jsonResponse(401, { error: e.missing ? "missing_token" : "invalid_token" }, { "www-authenticate": challenge, "cache-control": "no-store" });
}

// A lone UTF-16 surrogate cannot be percent-encoded (encodeURIComponent throws); replacing it would let two
// different claim values reach the origin as one identity.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The headers that carry verified claims to the origin; a claim that cannot travel safely rejects the token. */
function claimHeaders(cfg: JwtConfig, claims: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  if (cfg.forward.claimsHeader) out.push([cfg.forward.claimsHeader, b64urlEncodeText(JSON.stringify(claims))]);
  for (const [header, claim] of Object.entries(cfg.forward.claims)) {
    const v = claims[claim];
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") continue;
    const text = String(v);
    if (LONE_SURROGATE.test(text)) throw new JwtReject(`claim ${claim} is not valid Unicode`);
    out.push([header, encodeURIComponent(text)]);
  }
  return out;
}

/**
 * The chain step: answer 401 or adjust the headers sent to the origin. The identity headers the edge sets were
 * already removed from the client's request on entry (engine: cfg.entry), whatever happens here.
 */
export async function jwtStep(ctx: { headers: Headers; platform: Platform }, cfg: JwtConfig): Promise<Response | void> {
  let forwarded: [string, string][];
  try {
    const token = extractToken(ctx, cfg);
    if (token === null) throw new JwtReject("no token", true);
    const v = await verifyToken(token, cfg, ctx.platform);
    forwarded = v.forward ??= claimHeaders(cfg, v.claims);
  } catch (e) {
    if (e instanceof JwtReject) return unauthorized(cfg, e);
    throw e; // internal: the adapter answers 503
  }
  if (!cfg.forward.token) {
    // The token stays at the edge wherever it came from: the header, and the cookie when one is declared.
    ctx.headers.delete(cfg.token.header);
    if (cfg.token.cookie) {
      const rest = withoutCookie(ctx.headers.get("cookie"), cfg.token.cookie);
      if (rest === null) ctx.headers.delete("cookie");
      else ctx.headers.set("cookie", rest);
    }
  }
  for (const [header, value] of forwarded) ctx.headers.set(header, value);
}
