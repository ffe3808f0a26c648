// HMAC-SHA-256 (RFC 2104 over FIPS 180-4 SHA-256), synchronous, for runtimes whose WebCrypto answers on another
// thread: in Vercel's edge-runtime (Node's webcrypto underneath) crypto.subtle.verify("HMAC") queues a job on the
// libuv thread pool, and the request waits 55-65 µs on a quiet machine for work that takes about 4 µs (measured,
// docs/benchmarks.md "Vercel: HS256 without the thread pool"). Used only where a platform's crypto module chooses it
// (platforms/vercel/crypto.ts); workerd's WebCrypto runs on the isolate's own thread and keeps it.
//
// Written here rather than taken from a library: @noble/hashes (audited, well kept) would be the choice, but its
// sha2 module with hmac adds several KB to a bundle that #14 holds to 10 KB, and only SHA-256 is needed. This is
// checked against node:crypto on every length across the block boundaries and on keys longer than a block
// (sha256.test.mjs), and by the JWT vector, RFC and fuzz suites that run through the Vercel module.
//
// Timing: every step is 32-bit arithmetic on the data with no branch or table index that depends on it, and
// hmacEqual compares in constant time for equal lengths (the verifier checks the length first).

import { b64urlDecode } from "./b64";

// The round constants K, then the initial hash value: the first 32 bits of the fractional parts of the cube roots of
// the first 64 primes and of the square roots of the first 8 (FIPS 180-4 §4.2.2 and §5.3.3), as base64url of their
// big-endian bytes (the hex table was 170 bytes longer; sha256.test.mjs checks the digests, so a wrong constant fails).
const TABLE = new DataView(b64urlDecode(
  "QoovmHE3RJG1wPvP6bXbpTlWwltZ8RHxkj-CpKscXtXYB6qYEoNbASQxhb5VDH3Dcr5ddIDesf6b3AanwZvxdOSbacHvvkeGD8GdxiQMocwt6SxvSnSEqlywqdx2-YjamD5RUqgxxm2wAyfIv1l_x8bgC_PVp5FHBspjURQpKWcntwqFLhshOE0sbfxTOA0TZQpzVHZqCruBwskuknIshaK_6KGoGmZLwkuLcMdsUaPRkugZ1pkGJPQONYUQaqBwGaTBFh43bAgnSHdMNLC8tTkcDLNO2KpKW5zKT2gub_N0j4LueKVjb4TIeBSMxwIIkL7_-qRQbOu--aP3xnF48moJ5me7Z66FPG7zcqVP9TpRDlJ_mwVojB-D2atb4M0Z",
).buffer);
const K = Int32Array.from({ length: 64 }, (_, i) => TABLE.getInt32(i * 4));
const IV = Int32Array.from({ length: 8 }, (_, i) => TABLE.getInt32(256 + i * 4));
const W = new Int32Array(64);

/** One 64-byte block of `m` at `o` into the state `s` (FIPS 180-4 §6.2.2). */
function block(s: Int32Array, m: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++, o += 4) W[i] = (m[o] << 24) | (m[o + 1] << 16) | (m[o + 2] << 8) | m[o + 3];
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15], y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = (s[0] + a) | 0;
  s[1] = (s[1] + b) | 0;
  s[2] = (s[2] + c) | 0;
  s[3] = (s[3] + d) | 0;
  s[4] = (s[4] + e) | 0;
  s[5] = (s[5] + f) | 0;
  s[6] = (s[6] + g) | 0;
  s[7] = (s[7] + h) | 0;
}

/** The digest of `m`, hashed on from `state` after `done` bytes (a multiple of 64) were already hashed. */
function digest(state: Int32Array, done: number, m: Uint8Array): Uint8Array<ArrayBuffer> {
  const s = state.slice();
  const n = m.length;
  let o = 0;
  for (; o + 64 <= n; o += 64) block(s, m, o);
  // The padding (FIPS 180-4 §5.1.1): 0x80, zeros, then the message length in bits as a 64-bit big-endian number.
  const tail = new Uint8Array((n - o + 72) & ~63);
  tail.set(m.subarray(o));
  tail[n - o] = 0x80;
  const bits = (done + n) * 8;
  const v = new DataView(tail.buffer);
  v.setUint32(tail.length - 8, Math.floor(bits / 0x100000000));
  v.setUint32(tail.length - 4, bits >>> 0);
  for (let i = 0; i < tail.length; i += 64) block(s, tail, i);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setInt32(i * 4, s[i]);
  return out;
}

export function sha256(m: Uint8Array): Uint8Array<ArrayBuffer> {
  return digest(IV, 0, m);
}

/** An HMAC-SHA-256 key: the states after the padded key's inner and outer blocks (RFC 2104 §2), computed once. */
export interface HmacSha256Key {
  inner: Int32Array;
  outer: Int32Array;
}

export function hmacSha256Key(raw: Uint8Array): HmacSha256Key {
  const k = new Uint8Array(64);
  k.set(raw.length > 64 ? sha256(raw) : raw);
  const pad = (x: number) => {
    const s = IV.slice();
    block(s, k.map((b) => b ^ x), 0);
    return s;
  };
  return { inner: pad(0x36), outer: pad(0x5c) };
}

export function hmacSha256(key: HmacSha256Key, data: Uint8Array): Uint8Array<ArrayBuffer> {
  return digest(key.outer, 64, digest(key.inner, 64, data));
}

/** a and b hold the same bytes; for equal lengths the time does not depend on where they differ. */
export function hmacEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
