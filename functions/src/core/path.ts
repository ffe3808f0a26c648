// The canonical request path: decided once, in the engine, before any route is
// matched, and forwarded to the origin, so that the origin sees exactly the path
// that was checked. The policy is documented in docs/jwt.md ("Paths").
//
// Input is a URL pathname as the WHATWG URL parser leaves it: dot segments (also
// their %2e spellings) are resolved, "\" is already "/", and non-ASCII characters
// are percent-encoded as UTF-8. On top of that:
//   - percent-encoded unreserved characters (RFC 3986 §2.3: A-Z a-z 0-9 - . _ ~)
//     are decoded, other escapes are kept with upper-case hex;
//   - runs of "/" become one "/", and dot segments are removed again;
//   - refused (400): an encoded "/" or "\", a ";" (path parameters), control
//     characters, a "%" that starts no escape, an escaped "%" followed by two hex
//     digits (double encoding), and escapes that are not valid UTF-8.
// Origins decode, merge and fold paths in different ways (Express matches case-
// insensitively with an optional trailing slash; Werkzeug decodes %2F and merges
// slashes; nginx merges slashes): after this step no two spellings an origin could
// route together differ except in case and a trailing "/" or ".", which route
// matching (routeMatches) treats as equal.

export type CanonicalPath = { ok: true; path: string } | { ok: false; reason: string };

const HEX = "0123456789ABCDEF";
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function escape(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

const utf8Encoder = new TextEncoder();

/** `s` as the upper-case percent-escapes of its UTF-8 bytes (how the URL parser writes non-ASCII in a path). */
export function percentEncodeUtf8(s: string): string {
  return Array.from(utf8Encoder.encode(s), escape).join("");
}

function hexAt(s: string, i: number): number {
  const h = s.slice(i, i + 2);
  return /^[0-9A-Fa-f]{2}$/.test(h) ? parseInt(h, 16) : -1;
}

/** Resolve "." and ".." segments (RFC 3986 §5.2.4) on an absolute path. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segs = path.split("/").slice(1);
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === "..") {
      if (out.length) out.pop();
      if (last) out.push("");
    } else if (seg === ".") {
      if (last) out.push("");
    } else out.push(seg);
  });
  return "/" + out.join("/");
}

function refuse(reason: string): CanonicalPath {
  return { ok: false, reason };
}

/** Decode escapes per the policy above; null and a reason when the path is refused. */
function decode(pathname: string): CanonicalPath {
  let out = "";
  let utf8Run: number[] = [];
  const flush = (): boolean => {
    if (!utf8Run.length) return true;
    try {
      utf8.decode(Uint8Array.from(utf8Run));
    } catch {
      return false;
    }
    out += utf8Run.map(escape).join("");
    utf8Run = [];
    return true;
  };
  for (let i = 0; i < pathname.length; i++) {
    const c = pathname[i];
    const code = pathname.charCodeAt(i);
    if (c !== "%") {
      if (!flush()) return refuse("percent-escapes that are not UTF-8");
      if (code < 0x20 || code === 0x7f) return refuse("a control character");
      if (c === ";") return refuse('path parameters (";")');
      // The URL parser encodes non-ASCII; a caller that did not parse gets it encoded here.
      out += code > 0x7e ? percentEncodeUtf8(c) : c;
      continue;
    }
    const byte = hexAt(pathname, i + 1);
    if (byte < 0) return refuse('a "%" that starts no percent-escape');
    i += 2;
    if (byte >= 0x80) {
      utf8Run.push(byte);
      continue;
    }
    if (!flush()) return refuse("percent-escapes that are not UTF-8");
    if (byte === 0x2f || byte === 0x5c) return refuse('an encoded "/" or "\\"');
    if (byte < 0x20 || byte === 0x7f) return refuse("an encoded control character");
    if (byte === 0x25 && hexAt(pathname, i + 1) >= 0) return refuse("double percent-encoding");
    const ch = String.fromCharCode(byte);
    out += UNRESERVED.test(ch) ? ch : escape(byte);
  }
  if (!flush()) return refuse("percent-escapes that are not UTF-8");
  return { ok: true, path: out };
}

export function canonicalPath(pathname: string): CanonicalPath {
  if (!pathname.startsWith("/")) return refuse('a path that does not start with "/"');
  const decoded = decode(pathname);
  if (!decoded.ok) return decoded;
  return { ok: true, path: removeDotSegments(decoded.path.replace(/\/{2,}/g, "/")) };
}

/**
 * The form routes are compared in: ASCII case folded, and a trailing run of "/" and
 * "." ignored ("/Account/", "/account." and "/account" are one path to Express).
 */
export function matchKey(path: string): string {
  return path.toLowerCase().replace(/[/.]+$/, "") || "/";
}
