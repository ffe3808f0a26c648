// Small HTTP plumbing shared by the local hosts (node:http <-> Web Request/Response).
import { createServer } from "node:http";
import { Readable } from "node:stream";

// Hop-by-hop and length headers are owned by each connection, never relayed; so is "Expect: 100-continue",
// which the server in front answers itself (RFC 9110 §10.1.1; Node's server sends the 100 Continue).
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "proxy-connection", "content-length", "host", "expect"]);

/** The raw path and query of a request line; absolute-form (GET http://host/p) keeps only its path. */
export function requestTarget(rawTarget) {
  const target = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawTarget) ? rawTarget.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "") || "/" : rawTarget;
  const q = target.indexOf("?");
  return { path: q < 0 ? target : target.slice(0, q), query: q < 0 ? "" : target.slice(q + 1) };
}

/** The URL a platform would see for this request line: "//x" stays a path, never a host. */
export function requestUrl(rawTarget, base) {
  const { path, query } = requestTarget(rawTarget);
  const u = new URL(base);
  u.pathname = path;
  u.search = query ? `?${query}` : "";
  return u;
}

export function requestFromNode(req, base) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = !["GET", "HEAD"].includes(req.method);
  return new Request(requestUrl(req.url, base), {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: hasBody ? "half" : undefined,
  });
}

export async function sendResponse(res, response) {
  const headers = {};
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie" && !HOP.has(k)) headers[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (response.body) {
    for await (const chunk of response.body) res.write(chunk);
  }
  res.end();
}

/** Fetch from an origin on behalf of the edge, like the platform's own proxy would. */
export async function fetchOrigin(url, { method = "GET", headers = new Headers(), body } = {}) {
  const h = new Headers();
  headers.forEach((v, k) => {
    if (!HOP.has(k)) h.append(k, v);
  });
  const res = await fetch(url, { method, headers: h, body, redirect: "manual", duplex: body ? "half" : undefined });
  // fetch() decodes compressed bodies: drop the encoding headers that no longer apply.
  const out = new Headers(res.headers);
  out.delete("content-encoding");
  out.delete("content-length");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}

export function serve(handler, port, host = "127.0.0.1") {
  const server = createServer(async (req, res) => {
    try {
      await sendResponse(res, await handler(req));
    } catch (e) {
      console.error(`edgeport local host: ${e?.stack ?? e}`);
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`local host error: ${e?.message ?? e}\n`);
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

export function textResponse(status, text, headers = {}) {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
