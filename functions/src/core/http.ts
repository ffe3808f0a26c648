// Small Web-standard helpers shared by the patterns.

export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** Set (or replace) one cookie in a Cookie request header value. */
export function withCookie(header: string | null, name: string, value: string): string {
  const kept = (header ?? "")
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p && p.slice(0, p.indexOf("=")).trim() !== name);
  return [...kept, `${name}=${value}`].join("; ");
}

// Headers that belong to one connection and never travel on.
const HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length"];

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
  return out;
}
