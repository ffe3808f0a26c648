// Strict base64url (RFC 4648 §5, no padding). Rejects any character outside the
// alphabet, impossible lengths and non-canonical encodings (non-zero unused bits),
// so one token has exactly one accepted spelling.
const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function b64urlDecode(s: string): Uint8Array<ArrayBuffer> {
  if (!ALPHABET.test(s) || s.length % 4 === 1) throw new TypeError("bad base64url");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (b64urlEncode(out) !== s) throw new TypeError("non-canonical base64url");
  return out;
}

export function b64urlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64urlEncodeText(s: string): string {
  return b64urlEncode(new TextEncoder().encode(s));
}
