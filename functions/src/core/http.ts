// Small Web-standard helpers shared by the patterns.

const texts = new WeakMap<Response, string>();

/**
 * A JSON answer the edge makes itself (401, 400, 503). Its text is remembered beside it, so an adapter that needs
 * the body as a string (Lambda@Edge's generated response record) takes it without reading the body stream back:
 * about 30 µs per refused request in Node's undici (docs/benchmarks.md, "Where edgeport's time goes", row 6).
 */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string>): Response {
  const text = JSON.stringify(value);
  const res = new Response(text, { status, headers: { "content-type": "application/json", ...headers } });
  texts.set(res, text);
  return res;
}

/** The text of a jsonResponse (undefined for any other Response: read its body). */
export function knownText(res: Response): string | undefined {
  return texts.get(res);
}

/**
 * The cookies of a Cookie request header. HTTP/2 sends cookies as several header fields ("crumbs", RFC 9113
 * §8.2.3); a runtime that folds them with the generic ", " (Fetch Headers does) leaves commas between pairs,
 * so "," separates pairs too - RFC 6265 §4.1.1 keeps commas out of cookie values.
 */
export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** A Cookie request header value without one cookie (crumbs are joined with "; "); null when none is left. */
export function withoutCookie(header: string | null, name: string): string | null {
  const kept = (header ?? "")
    .split(/[;,]/)
    .map((p) => p.trim())
    .filter((p) => p && p.slice(0, p.indexOf("=")).trim() !== name);
  return kept.length ? kept.join("; ") : null;
}

/** Set (or replace) one cookie in a Cookie request header value (crumbs are joined with "; "). */
export function withCookie(header: string | null, name: string, value: string): string {
  const kept = (header ?? "")
    .split(/[;,]/)
    .map((p) => p.trim())
    .filter((p) => p && p.slice(0, p.indexOf("=")).trim() !== name);
  return [...kept, `${name}=${value}`].join("; ");
}

const INTERNAL_PREFIX = "x-edgeport-";

/** A header name as origins may read it: case folded, and "_" as "-" (CGI/WSGI turn both into HTTP_X_USER_ID). */
export function headerKey(name: string): string {
  return name.toLowerCase().replace(/_/g, "-");
}

/**
 * The request headers that may go on, before any pattern runs: identity headers the edge sets (`strip`) and
 * internal x-edgeport-* headers (except `keep`) are dropped in every spelling.
 */
export function entryHeaders(incoming: Headers, rules: { strip: string[]; keep: string[] }): Headers {
  const drops = dropsOnEntry(rules);
  const out = new Headers();
  incoming.forEach((value, name) => {
    if (!drops(name)) out.append(name, value);
  });
  return out;
}

/** Whether entryHeaders drops a header of this name (also for adapters that carry a header around `Headers`). */
export function dropsOnEntry(rules: { strip: string[]; keep: string[] }): (name: string) => boolean {
  const strip = new Set(rules.strip.map(headerKey));
  const keep = new Set(rules.keep.map(headerKey));
  return (name) => {
    const key = headerKey(name);
    return strip.has(key) || (key.startsWith(INTERNAL_PREFIX) && !keep.has(key));
  };
}

/** Whether two header sets hold the same fields and values. */
export function sameHeaders(a: Headers, b: Headers): boolean {
  const list = (h: Headers) => {
    const out: string[] = [];
    h.forEach((v, k) => out.push(`${k}:${v}`));
    return out.join("\n");
  };
  return list(a) === list(b);
}

// Headers that belong to one connection and never travel on (and "Expect", answered by the server in front).
const HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length", "expect"];

export function forwardable(headers: Headers): Headers {
  const out = new Headers(headers);
  for (const h of HOP) out.delete(h);
  return out;
}

/** A response whose headers can be changed (fetch() responses are immutable). */
export function mutable(res: Response): Response {
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
}

/** Every Set-Cookie value (Headers.getSetCookie is missing from the Workers type definitions, not from workerd). */
export function setCookies(h: Headers): string[] {
  return (h as Headers & { getSetCookie(): string[] }).getSetCookie();
}

export function withHeaders(res: Response, extra: Headers): Response {
  let has = false;
  extra.forEach(() => (has = true));
  if (!has) return res;
  const out = mutable(res);
  extra.forEach((v, k) => {
    if (k === "set-cookie") return;
    out.headers.set(k, v);
  });
  for (const c of setCookies(extra)) out.headers.append("set-cookie", c);
  const text = texts.get(res);
  if (text !== undefined) texts.set(out, text); // same body, passed on unread
  return out;
}
