// Lambda@Edge locally: a loopback "CloudFront" that turns HTTP requests into
// CloudFront event records, runs the built handler for each configured trigger in
// plain Node, and enforces CloudFront's rules on every result (see
// cloudfront-rules.mjs): what would be a 502 in production is a 502 here, with
// the reason in the body and on stderr.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { bodyLimit, CloudFrontValidationError, DISALLOWED, isGeneratedResponse, validateResult } from "./cloudfront-rules.mjs";
import { behaviourFor, hostRefusal } from "./cloudfront-routing.mjs";
import { fetchOrigin, RAW_TARGET_HEADER, requestTarget, serve, textResponse } from "../../local/http.mjs";
import { edgeConsole, logged, originNamer } from "../../local/events.mjs";
import { COUNTRY_HEADER, originMapper, remappedFetch } from "../../local/origins.mjs";

// The AWS SDK warns about Node 20 on every cold start; Lambda runs nodejs22.x, so locally it is noise.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (w, ...rest) => (String(w).startsWith("NodeVersionSupportWarning") ? undefined : emitWarning(w, ...rest));

const FUNCTIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TIMEOUT_MS = { "viewer-request": 5000, "viewer-response": 5000, "origin-request": 30000, "origin-response": 30000 };
const DIST = { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE" };

/** Load a CommonJS bundle as Lambda would; its bare imports (the AWS SDK) resolve from functions/node_modules. */
/** The module wrapper loadHandler puts before the bundle, on the bundle's first line (frames there are shifted by its length). */
export const WRAPPER = "(function (exports, require, module, __filename, __dirname, console) {";

export function loadHandler(file, { console: out = console } = {}) {
  const module = { exports: {} };
  // `console` is a parameter so that the handler's output can be routed (Lambda sends it to CloudWatch Logs).
  const wrapper = vm.runInThisContext(`${WRAPPER}${readFileSync(file, "utf8")}\n})`, { filename: file });
  wrapper(module.exports, createRequire(join(FUNCTIONS_DIR, "package.json")), module, file, dirname(file), out);
  if (typeof module.exports.handler !== "function") throw new Error(`${file} exports no handler`);
  return module.exports.handler;
}

/**
 * A viewer's headers as a CloudFront header map. Disallowed headers (Connection, Keep-Alive, Expect, Upgrade, ...)
 * are handled by CloudFront itself and never exposed to functions ("Restrictions on edge functions"): a browser's
 * "Connection: keep-alive" is dropped here, not answered with a 502.
 */
export function cfHeaders(rawHeaders) {
  const out = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    if (DISALLOWED.some((re) => re.test(k)) || k === RAW_TARGET_HEADER) continue;
    (out[k] ??= []).push({ key: rawHeaders[i], value: viewerText(Buffer.from(rawHeaders[i + 1], "latin1")) });
  }
  return out;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Bytes from the viewer as the JS string a function sees. CloudFront passes UTF-8 through as UTF-8 and converts
 * ISO-8859-1 (and any other encoding, which it assumes to be ISO-8859-1) to UTF-8 (CloudFront Developer Guide,
 * "Restrictions on edge functions", "URI, query string, and headers encoding",
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html).
 * Node hands header bytes over as latin1 strings, so "Zürich" sent in UTF-8 arrives as "ZÃ¼rich" until decoded here.
 */
export function viewerText(bytes) {
  try {
    return UTF8.decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}

/** The request target as the viewer sent it (http.mjs RawTargetFramer keeps raw bytes >= 0x80 in RAW_TARGET_HEADER). */
function viewerTarget(req) {
  const raw = req.headers[RAW_TARGET_HEADER];
  return typeof raw === "string" ? viewerText(Buffer.from(raw, "base64")) : req.url;
}

export function makeEvent(eventType, request, response) {
  const cf = { config: { ...DIST, eventType, requestId: randomBytes(12).toString("base64url") }, request };
  if (response) cf.response = response;
  return { Records: [{ cf }] };
}

class LambdaError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

/** Invoke one trigger like CloudFront: time limit, exceptions, result validation. */
export async function invoke(handler, eventType, event) {
  const input = structuredClone(event);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new LambdaError(503, "LambdaLimitExceeded", `${eventType} exceeded ${TIMEOUT_MS[eventType]} ms`)), TIMEOUT_MS[eventType]);
  });
  let out;
  try {
    out = await Promise.race([Promise.resolve().then(() => handler(event)), timeout]);
  } catch (e) {
    if (e instanceof LambdaError) throw e;
    throw new LambdaError(500, "LambdaExecutionError", `${eventType} threw: ${e?.message ?? e}`);
  } finally {
    clearTimeout(timer);
  }
  try {
    return validateResult(eventType, input, out);
  } catch (e) {
    if (e instanceof CloudFrontValidationError) throw new LambdaError(502, "LambdaValidationError", e.message);
    throw e;
  }
}

function webResponse(cfRes) {
  const headers = webHeaders(cfRes.headers);
  const status = Number(cfRes.status);
  // 204, 205 and 304 answers have no body (RFC 9110 §15.3.5, §15.3.6, §15.4.5); Response refuses one.
  const body = cfRes.body === undefined || [204, 205, 304].includes(status) ? null
    : Buffer.from(cfRes.body, cfRes.bodyEncoding === "base64" ? "base64" : "utf8");
  return new Response(body, { status, statusText: cfRes.statusDescription, headers });
}

function cfResponseFrom(res) {
  const headers = {};
  // Response header bytes are decoded as request header bytes are (viewerText).
  const text = (v) => viewerText(Buffer.from(v, "latin1"));
  res.headers.forEach((value, k) => {
    if (k !== "set-cookie") headers[k] = [{ key: k, value: text(value) }];
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies.map((value) => ({ key: "Set-Cookie", value: text(value) }));
  return { status: String(res.status), statusDescription: res.statusText, headers };
}

/**
 * A CloudFront header map as Web Headers for the wire. Header values are ByteStrings there, so each value goes as
 * its UTF-8 bytes spelled in latin1 (what CloudFront sends for a UTF-8 value); "Zürich" stays "Zürich" on the wire.
 */
function webHeaders(cfHeaders) {
  const h = new Headers();
  for (const [name, vs] of Object.entries(cfHeaders ?? {})) for (const v of vs) h.append(v.key || name, Buffer.from(v.value, "utf8").toString("latin1"));
  return h;
}

/** The origin CloudFront would contact for this request (the distribution's, or what origin-request set). */
function originOf(request, defaultOrigin) {
  const c = request.origin?.custom;
  if (!c) return new URL(defaultOrigin);
  const port = (c.protocol === "https" && c.port === 443) || (c.protocol === "http" && c.port === 80) ? "" : `:${c.port}`;
  return new URL(`${c.protocol}://${c.domainName}${port}${c.path ?? ""}`);
}

/**
 * A loopback CloudFront for one distribution: Host check -> cache behaviour -> viewer-request -> (cache miss)
 * origin-request -> origin -> origin-response -> viewer-response, each trigger only where the behaviour
 * associates it, with
 * CloudFront's rules checked on every result. There is no cache: every request is a miss.
 * `routing`: the emitted behaviours (cloudfront-routing.mjs); `served()`: the hosts the distribution answers for.
 */
export function createCloudFront({ handlers: allHandlers, defaultOrigin, defaultEventOrigin, remap, routing, served }) {
  return async function handle(req) {
    // An absolute-form request target names the host itself, and then Host is ignored (RFC 9112 §3.2.2).
    const target = viewerTarget(req);
    const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
    const refused = hostRefusal(absolute ? absolute[1] : req.headers.host, served());
    if (refused) return textResponse(refused, refused === 403 ? "403 ERROR: Bad request. The request could not be satisfied.\n" : "400 Bad Request\n");
    // An absolute-form request line (GET http://host/path) reaches functions as a path, like any other.
    const { path: uri, query } = requestTarget(target);
    const { events, country: forwardCountry } = behaviourFor(routing, uri);
    const handlers = Object.fromEntries(Object.entries(allHandlers).filter(([e]) => events.includes(e)));
    const headers = cfHeaders(req.rawHeaders);
    const country = headers[COUNTRY_HEADER]?.[0]?.value ?? null;
    delete headers[COUNTRY_HEADER];
    // Viewers may send a header of this name; CloudFront overwrites it for origin-facing triggers only.
    let request = { clientIp: "127.0.0.1", method: req.method, uri, querystring: query, headers };
    try {
      let response;
      let generatedAtViewer = false;
      if (handlers["viewer-request"]) {
        const out = await invoke(handlers["viewer-request"], "viewer-request", makeEvent("viewer-request", request));
        if (isGeneratedResponse(out)) {
          response = out;
          generatedAtViewer = true;
        } else request = out;
      }
      if (!response) {
        const originRequest = structuredClone(request);
        originRequest.origin = structuredClone(defaultEventOrigin);
        originRequest.headers.host = [{ key: "Host", value: new URL(defaultOrigin).host }];
        if (forwardCountry) {
          delete originRequest.headers["cloudfront-viewer-country"];
          if (country) originRequest.headers["cloudfront-viewer-country"] = [{ key: "CloudFront-Viewer-Country", value: country }];
        }
        let toOrigin = originRequest;
        if (handlers["origin-request"]) {
          const out = await invoke(handlers["origin-request"], "origin-request", makeEvent("origin-request", originRequest));
          if (isGeneratedResponse(out)) response = out;
          else toOrigin = out;
        }
        if (!response) {
          const base = originOf(toOrigin, defaultOrigin);
          const target = new URL(base.href);
          target.pathname = base.pathname.replace(/\/$/, "") + toOrigin.uri;
          target.search = toOrigin.querystring ? `?${toOrigin.querystring}` : "";
          const chunks = [];
          for await (const c of req) chunks.push(c);
          let sent = chunks.length ? Buffer.concat(chunks) : undefined;
          const replaced = toOrigin.body?.action === "replace" ? toOrigin.body : request.body?.action === "replace" ? request.body : null;
          if (replaced) {
            // A body a function replaced goes to the origin, truncated at the include-body size (cloudfront-rules.mjs BODY_LIMIT).
            const ev = toOrigin.body === replaced ? "origin-request" : "viewer-request";
            sent = Buffer.from(replaced.data.slice(0, bodyLimit(ev, replaced.encoding)), replaced.encoding === "base64" ? "base64" : "utf8");
          }
          const res = await fetchOrigin(remap(target), { method: toOrigin.method, headers: webHeaders(toOrigin.headers), body: sent });
          const head = cfResponseFrom(res);
          const body = Buffer.from(await res.arrayBuffer()).toString("base64");
          // origin-response runs for every answer from the origin, errors included (not for a response
          // origin-request generated, nor for cache hits); the function does not see the body.
          const out = handlers["origin-response"]
            ? await invoke(handlers["origin-response"], "origin-response", makeEvent("origin-response", toOrigin, head))
            : head;
          response = { ...out, body, bodyEncoding: "base64" };
        }
      }
      // viewer-response runs for origin answers and origin-request generated ones, not for status >= 400 from the
      // origin (CloudFront Developer Guide, "lambda-cloudfront-trigger-events"; the API reference says "other than
      // HTTP 200" - edgeport associates no viewer-response function, so the difference only matters to other code).
      if (handlers["viewer-response"] && !generatedAtViewer && Number(response.status) < 400) {
        const body = response.body;
        const { body: _b, bodyEncoding: _e, ...head } = response;
        const out = await invoke(handlers["viewer-response"], "viewer-response", makeEvent("viewer-response", request, head));
        response = { ...out, body, bodyEncoding: response.bodyEncoding };
      }
      return webResponse(response);
    } catch (e) {
      if (e instanceof LambdaError) {
        console.error(`edgeport cloudfront: ${e.status} ${e.kind}: ${e.message}`);
        return textResponse(e.status, `${e.kind}: ${e.message}\n`, { "x-edgeport-cloudfront-error": e.kind });
      }
      throw e;
    }
  };
}

/** The hosts CloudFront answers for: its own domain and the distribution's aliases; locally also the emulation's address. */
function servedHosts(settings, ports) {
  return [DIST.distributionDomainName, ...(settings.aliases ?? []), ...ports.flatMap((p) => [`127.0.0.1:${p}`, `localhost:${p}`])];
}

export async function startLambdaEdge({ artifacts, settings, manifest, origins, port, publicPort, nowMs }) {
  if (nowMs !== undefined) Date.now = () => Number(nowMs);
  const remap = originMapper(origins);
  // The handlers share this process: their fetches to declared origins go to the local stand-ins.
  globalThis.fetch = remappedFetch(globalThis.fetch, remap);
  const handlers = {};
  const out = edgeConsole();
  for (const a of artifacts) handlers[a.event] = loadHandler(a.path, { console: out });
  let listening = port;
  // Behind `edgeport dev`'s front the viewer addresses the front's port (publicPort).
  const served = () => servedHosts(settings, publicPort ? [listening, publicPort] : [listening]);
  const routing = { behaviours: settings.behaviours ?? [], default: settings.default ?? {} };
  const cloudfront = createCloudFront({ handlers, defaultOrigin: manifest.origins.default, defaultEventOrigin: settings.eventOrigins.default, remap, routing, served });
  const server = await serve(logged(cloudfront, originNamer(manifest.origins)), port, "127.0.0.1", { rawTargets: true });
  listening = server.address().port;
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    // Stack frames on a bundle's first line are shifted by the module wrapper.
    sourceMaps: artifacts.map((a) => ({ frame: a.path, bundle: a.path, firstLineShift: WRAPPER.length })),
    close: () => new Promise((r) => server.close(r)),
  };
}
