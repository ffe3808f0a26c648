// CloudFront request records <-> Web objects, for the Lambda@Edge adapter (lambda-edge.ts). Pure functions, so
// that they can be tested beside it (platforms/lambda-edge/cloudfront-records.test.mjs).
//
// The rule: what CloudFront hands the function goes back exactly as it came - header entries (key spelling,
// order, whitespace, cookie crumbs), `uri`, `querystring` and the `origin` object - unless a pattern changed it.
// The Web Request the engine sees is a *view* of the record; the record itself is only written where the view
// was changed. (Hono hit the same class of bug - header values its adapter could not put into a Web Headers
// object failed the request, honojs/hono #4432 - and fixed it in its own way, PR #4437.)
//
// Event format: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html

import { percentEncodeUtf8 } from "../../src/core/path";

export interface CfHeader {
  key?: string;
  value: string;
}
export type CfHeaders = Record<string, CfHeader[]>;
export interface CfCustomOrigin {
  customHeaders: CfHeaders;
  domainName: string;
  keepaliveTimeout: number;
  path: string;
  port: number;
  protocol: "http" | "https";
  readTimeout: number;
  sslProtocols: string[];
}
export interface CfOrigin {
  custom?: CfCustomOrigin;
  s3?: unknown;
}
export interface CfRequest {
  clientIp: string;
  method: string;
  uri: string;
  querystring: string;
  headers: CfHeaders;
  origin?: CfOrigin;
  body?: unknown;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A header value as the Fetch `Headers` class can hold it. CloudFront hands functions header values UTF-8
 * decoded into JS strings ("東京", "Zürich"); `Headers` only takes byte strings (every character <= U+00FF) and
 * throws on anything else. Non-ASCII values go in as their UTF-8 bytes, one character per byte - the bytes that
 * were on the wire, which is also how the other targets' runtimes hand such headers to the engine.
 */
export function byteString(value: string): string {
  return /[^\u0000-\u007f]/.test(value) ? String.fromCharCode(...new TextEncoder().encode(value)) : value;
}

/** The inverse of byteString for a value a pattern wrote: UTF-8 bytes back to the string CloudFront expects. */
export function fromByteString(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  try {
    return utf8.decode(Uint8Array.from(value, (c) => c.charCodeAt(0)));
  } catch {
    return value; // not UTF-8: Latin-1 characters a pattern put there itself
  }
}

/** The Web view of a request record, and the header names that could not enter it. */
export interface Inbound {
  request: Request;
  /**
   * Header names whose entries `Headers` refused even as byte strings (a name that is no HTTP token, a value with
   * NUL, CR or LF). They are carried around the engine: forwarded as they came unless entry hygiene drops them.
   */
  aside: Set<string>;
}

/**
 * The Web Request for a CloudFront request record. The URL is built from the distribution's own domain and
 * `uri` (assigned as a path, so "?" or "#" in it stay in the path), never from the viewer's Host header, which
 * the viewer chooses. Entries are added under the map's name (`key` is optional and only a spelling); cookie
 * entries (HTTP/2 crumbs, RFC 9113 §8.2.3) are joined with "; " as one Cookie header.
 */
export function toRequest(cf: CfRequest, distributionDomainName: string): Inbound {
  const headers = new Headers();
  const aside = new Set<string>();
  for (const [name, entries] of Object.entries(cf.headers)) {
    const values = entries.map((h) => byteString(h.value));
    if (name === "cookie") values.splice(0, values.length, values.join("; "));
    // The common case first: a token name and values without NUL, CR or LF, which `Headers` always takes (Fetch,
    // "header name" and "header value"; byteString left only characters <= U+00FF). Anything else goes through a
    // probe `Headers` of its own, so that a name `Headers` refuses is set aside whole rather than half added.
    if (isToken(name) && values.every((v) => !/[\0\r\n]/.test(v))) {
      for (const v of values) headers.append(name, v);
      continue;
    }
    try {
      const probe = new Headers();
      for (const v of values) probe.append(name, v);
      probe.forEach((v, k) => headers.append(k, v));
    } catch {
      aside.add(name);
    }
  }
  const url = new URL(`https://${distributionDomainName}/`);
  url.pathname = cf.uri;
  url.search = cf.querystring ? `?${cf.querystring}` : "";
  return { request: new Request(url, { method: cf.method, headers }), aside };
}

/** An HTTP field name (RFC 9110 §5.1: a token). */
function isToken(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/**
 * The header map to forward. `before` is what toRequest put into the engine, `after` what the engine forwards
 * (entry hygiene and the patterns applied). A header whose value the engine left as it was keeps the event's
 * entries untouched: key spelling, order, surrounding whitespace, several cookie crumbs, characters above U+00FF.
 * Only a header the engine changed is rewritten, as one entry; headers it dropped go; new ones come last.
 * `dropped(name)`: whether entry hygiene removes a header of this name (for the ones carried aside).
 */
export function forwardedHeaders(
  original: CfHeaders, before: Headers, after: Headers, aside: Set<string>, dropped: (name: string) => boolean,
): CfHeaders {
  const out: CfHeaders = {};
  for (const [name, entries] of Object.entries(original)) {
    if (aside.has(name)) {
      // Never seen by the engine (and `Headers` throws on a name that is no token): a pattern may still have set
      // the name, and entry hygiene still applies.
      const set = isToken(name) ? after.get(name) : null;
      if (set !== null) out[name] = [{ key: entries.find((e) => e.key)?.key ?? name, value: fromByteString(set) }];
      else if (!dropped(name)) out[name] = entries;
      continue;
    }
    const now = after.get(name);
    if (now === null) continue;
    if (now === before.get(name)) out[name] = entries;
    else out[name] = [{ key: entries.find((e) => e.key)?.key ?? name, value: fromByteString(now) }];
  }
  after.forEach((value, name) => {
    if (!(name in out) && !(name in original)) out[name] = [{ key: name, value: fromByteString(value) }];
  });
  return out;
}

/** A path with every character above U+007E written as its UTF-8 percent-escapes (what the URL parser does to them). */
function escapeNonAscii(path: string): string {
  return path.replace(/[^\u0000-\u007e]+/g, percentEncodeUtf8);
}

/**
 * The `uri` to forward. The engine forwards the canonical path it matched (core/path.ts, docs/jwt.md "Paths"),
 * possibly rewritten by a pattern. When that path is the sent `uri` up to the percent-encoding of non-ASCII
 * characters, the uri goes on as sent ("/café" stays "/café", not "/caf%C3%A9": the same bytes reach the origin).
 * Any other difference - dot segments, merged slashes, decoded escapes, "?" or "#" in the path, a rewrite - is
 * one the edge meant, and the engine's path is forwarded.
 */
export function forwardedUri(sent: string, enginePath: string): string {
  return escapeNonAscii(sent) === enginePath ? sent : enginePath;
}

/** The `querystring` to forward: as sent unless the engine changed the query (`sentSearch`: what toRequest made of it). */
export function forwardedQuery(sent: string, sentSearch: string, engineSearch: string): string {
  return engineSearch === sentSearch ? sent : engineSearch.replace(/^\?/, "");
}

/**
 * Whether the event's origin object already is the origin at `u`: a custom origin with the same scheme, host,
 * port and path, or an S3 origin (reached over HTTPS on 443) with the same bucket domain and path.
 */
export function isOrigin(origin: CfOrigin | undefined, u: URL): boolean {
  const https = u.protocol === "https:";
  const want = { protocol: https ? "https" : "http", domainName: u.hostname, port: u.port ? Number(u.port) : https ? 443 : 80,
    path: u.pathname.replace(/\/$/, "") };
  const samePath = (p: unknown) => (typeof p === "string" ? p : "").replace(/\/$/, "") === want.path;
  const c = origin?.custom;
  if (c && !origin?.s3) {
    return c.protocol === want.protocol && String(c.domainName).toLowerCase() === want.domainName && c.port === want.port && samePath(c.path);
  }
  const s3 = origin?.s3 as { domainName?: unknown; path?: unknown } | undefined;
  if (s3 && !c) {
    return want.protocol === "https" && want.port === 443 && String(s3.domainName).toLowerCase() === want.domainName && samePath(s3.path);
  }
  return false;
}
