// Strict base64url (RFC 4648 §5, no padding). Rejects any character outside the
// alphabet, impossible lengths and non-canonical encodings (non-zero unused bits,
// RFC 4648 §3.5), so one token has exactly one accepted spelling.
//
// Written out with a lookup table rather than atob/btoa: this runs on every
// segment of every token, and profiles (docs/benchmarks.md, "Where edgeport's time
// goes") showed atob + a re-encode to check canonical form as the largest single
// cost in Vercel's edge-runtime VM. Canonical form is checked from the unused bits
// of the last character instead: 4 bits when the length is 2 mod 4 (one byte),
// 2 bits when it is 3 mod 4 (two bytes); the full quads have none.
const CODES = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE[CODES.charCodeAt(i)] = i;

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  const v = c < 128 ? VALUE[c] : -1;
  if (v < 0) throw new TypeError("bad base64url");
  return v;
}

export function b64urlDecode(s: string): Uint8Array<ArrayBuffer> {
  const n = s.length;
  const rem = n & 3;
  if (rem === 1) throw new TypeError("bad base64url");
  const out = new Uint8Array((n * 3) >> 2);
  const full = n - rem;
  let o = 0;
  let i = 0;
  for (; i < full; i += 4) {
    const v = (sextet(s, i) << 18) | (sextet(s, i + 1) << 12) | (sextet(s, i + 2) << 6) | sextet(s, i + 3);
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (rem === 2) {
    const a = sextet(s, i);
    const b = sextet(s, i + 1);
    if (b & 15) throw new TypeError("non-canonical base64url");
    out[o] = (a << 2) | (b >> 4);
  } else if (rem === 3) {
    const a = sextet(s, i);
    const b = sextet(s, i + 1);
    const c = sextet(s, i + 2);
    if (c & 3) throw new TypeError("non-canonical base64url");
    out[o++] = (a << 2) | (b >> 4);
    out[o] = ((b & 15) << 4) | (c >> 2);
  }
  return out;
}

export function b64urlEncode(bytes: Uint8Array): string {
  const n = bytes.length;
  const full = n - (n % 3);
  let out = "";
  let i = 0;
  for (; i < full; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += CODES[v >> 18] + CODES[(v >> 12) & 63] + CODES[(v >> 6) & 63] + CODES[v & 63];
  }
  if (n - full === 1) {
    const v = bytes[i];
    out += CODES[v >> 2] + CODES[(v & 3) << 4];
  } else if (n - full === 2) {
    const v = (bytes[i] << 8) | bytes[i + 1];
    out += CODES[v >> 10] + CODES[(v >> 4) & 63] + CODES[(v & 15) << 2];
  }
  return out;
}

const utf8 = new TextEncoder();

export function b64urlEncodeText(s: string): string {
  return b64urlEncode(utf8.encode(s));
}
