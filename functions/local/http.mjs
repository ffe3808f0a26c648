// Small HTTP plumbing shared by the local hosts (node:http <-> Web Request/Response).
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { Duplex, Readable } from "node:stream";

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

/** The header through which a raw request target (with bytes >= 0x80) reaches the handler; viewers cannot set it. */
export const RAW_TARGET_HEADER = "x-edgeport-raw-target";

/**
 * Node's HTTP parser answers 400 to a request line with bytes >= 0x80 (llhttp; `insecureHTTPParser` does not relax
 * the request target - checked on Node 20), while CloudFront accepts raw UTF-8 and ISO-8859-1 request targets and
 * hands them to functions decoded (CloudFront Developer Guide, "Restrictions on edge functions", "URI, query string,
 * and headers encoding"). So a host that emulates CloudFront puts this in front of Node's parser on each connection:
 * it finds each request head (following Content-Length and chunked framing, so bodies are never touched),
 * percent-encodes the target's high bytes for Node, and passes the exact bytes base64-encoded in RAW_TARGET_HEADER
 * (any viewer copy of that header is dropped). Everything else on the connection passes through unchanged.
 */
export class RawTargetFramer {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.state = "head"; // head | body | chunk-size | chunk-data | trailers | pass
    this.left = 0;
  }

  /** Feed bytes from the viewer; returns the bytes to give Node's parser. */
  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out = [];
    for (;;) {
      if (this.state === "pass") {
        out.push(this.buf);
        this.buf = Buffer.alloc(0);
        break;
      }
      if (this.state === "body" || this.state === "chunk-data") {
        const n = Math.min(this.left, this.buf.length);
        out.push(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.left -= n;
        if (this.left > 0) break;
        this.state = this.state === "body" ? "head" : "chunk-size";
        continue;
      }
      const end = this.state === "head" ? this.buf.indexOf("\r\n\r\n") : this.buf.indexOf("\r\n");
      if (end < 0) break;
      if (this.state === "head") {
        out.push(this.rewriteHead(this.buf.subarray(0, end + 4)));
        this.buf = this.buf.subarray(end + 4);
      } else {
        const line = this.buf.subarray(0, end + 2);
        this.buf = this.buf.subarray(end + 2);
        out.push(line);
        if (this.state === "chunk-size") {
          const size = parseInt(line.toString("latin1"), 16);
          if (!Number.isFinite(size)) this.state = "pass"; // malformed: let Node's parser refuse it
          else if (size === 0) this.state = "trailers";
          else [this.state, this.left] = ["chunk-data", size + 2]; // the data and its CRLF
        } else if (line.length === 2) this.state = "head"; // the empty line ending the trailers
      }
    }
    return Buffer.concat(out);
  }

  rewriteHead(head) {
    const lines = head.toString("latin1").split("\r\n");
    const [method, target, ...rest] = lines[0].split(" ");
    const all = lines.slice(1).filter((l) => l);
    const headers = all.filter((l) => !l.toLowerCase().startsWith(`${RAW_TARGET_HEADER}:`));
    const get = (name) => headers.filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim().toLowerCase());
    if (get("upgrade").length || method === "CONNECT") this.state = "pass";
    else if (get("transfer-encoding").some((v) => v.split(",").map((x) => x.trim()).includes("chunked"))) this.state = "chunk-size";
    else {
      const len = Number(get("content-length")[0] ?? 0);
      if (!Number.isInteger(len) || len < 0) this.state = "pass";
      else if (len > 0) [this.state, this.left] = ["body", len];
    }
    const high = target !== undefined && /[\x80-\xff]/.test(target);
    if (!high && headers.length === all.length) return head;
    if (!high) return Buffer.from([lines[0], ...headers, "", ""].join("\r\n"), "latin1");
    const raw = Buffer.from(target, "latin1");
    const escaped = target.replace(/[\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const line = [method, escaped, ...rest].join(" ");
    return Buffer.from([line, ...headers, `${RAW_TARGET_HEADER}: ${raw.toString("base64")}`, "", ""].join("\r\n"), "latin1");
  }
}

/** A socket seen through a RawTargetFramer: what Node's HTTP server reads is rewritten, what it writes goes out as is. */
function framedSocket(socket) {
  const framer = new RawTargetFramer();
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, enc, cb) {
      socket.write(chunk, enc, cb);
    },
    // Node's server writes a response's head and body as one batch; hand it on as one write, or the body waits
    // behind the head for the client's delayed ACK (~40 ms per request).
    writev(chunks, cb) {
      socket.cork();
      chunks.forEach(({ chunk, encoding }, i) => socket.write(chunk, encoding, i === chunks.length - 1 ? cb : undefined));
      socket.uncork();
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  socket.on("data", (c) => {
    if (!duplex.push(framer.push(c))) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (e) => duplex.destroy(e));
  socket.on("close", () => duplex.destroy());
  // Node's server reads these off the socket it is given.
  for (const k of ["remoteAddress", "remotePort", "localAddress", "localPort", "encrypted"]) duplex[k] = socket[k];
  duplex.setTimeout = (...a) => (socket.setTimeout(...a), duplex);
  duplex.setNoDelay = (...a) => (socket.setNoDelay(...a), duplex);
  duplex.setKeepAlive = (...a) => (socket.setKeepAlive(...a), duplex);
  return duplex;
}

/**
 * Serve `handler` on host:port. `rawTargets: true` (the CloudFront emulation only) accepts raw UTF-8 request
 * targets as CloudFront does (RawTargetFramer); the Cloudflare and Vercel hosts keep Node's parser as it is.
 */
export function serve(handler, port, host = "127.0.0.1", { rawTargets = false } = {}) {
  const server = createServer(async (req, res) => {
    try {
      await sendResponse(res, await handler(req));
    } catch (e) {
      console.error(`edgeport local host: ${e?.stack ?? e}`);
      // Past the head (an origin or a composed body cut mid-stream), the viewer must see a cut body, as from the
      // platform's proxy: end the connection without the body's terminator, never with text that looks whole.
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`local host error: ${e?.message ?? e}\n`);
    }
  });
  if (!rawTargets) return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
  const front = createTcpServer({ noDelay: true }, (socket) => server.emit("connection", framedSocket(socket)));
  // The HTTP server never listens, so closing the front must end its idle keep-alive connections itself.
  const close = front.close.bind(front);
  front.close = (cb) => {
    const r = close(cb);
    server.closeIdleConnections();
    return r;
  };
  return new Promise((resolve) => front.listen(port, host, () => resolve(front)));
}

export function textResponse(status, text, headers = {}) {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
