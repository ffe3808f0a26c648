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
import { CloudFrontValidationError, isGeneratedResponse, validateResult } from "./cloudfront-rules.mjs";
import { fetchOrigin, serve, textResponse } from "./http.mjs";

// The AWS SDK warns about Node 20 on every cold start; Lambda runs nodejs22.x, so locally it is noise.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (w, ...rest) => (String(w).startsWith("NodeVersionSupportWarning") ? undefined : emitWarning(w, ...rest));

const FUNCTIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const TIMEOUT_MS = { "viewer-request": 5000, "viewer-response": 5000, "origin-request": 30000, "origin-response": 30000 };
const DIST = { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE" };

/** Load a CommonJS bundle as Lambda would; its bare imports (the AWS SDK) resolve from functions/node_modules. */
export function loadHandler(file) {
  const module = { exports: {} };
  const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`, { filename: file });
  wrapper(module.exports, createRequire(join(FUNCTIONS_DIR, "package.json")), module, file, dirname(file));
  if (typeof module.exports.handler !== "function") throw new Error(`${file} exports no handler`);
  return module.exports.handler;
}

export function cfHeaders(rawHeaders) {
  const out = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    (out[k] ??= []).push({ key: rawHeaders[i], value: rawHeaders[i + 1] });
  }
  return out;
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
  const headers = new Headers();
  for (const vs of Object.values(cfRes.headers ?? {})) for (const v of vs) headers.append(v.key ?? "", v.value);
  const body = cfRes.body === undefined ? null : Buffer.from(cfRes.body, cfRes.bodyEncoding === "base64" ? "base64" : "utf8");
  return new Response(body, { status: Number(cfRes.status), statusText: cfRes.statusDescription, headers });
}

async function cfResponseFrom(res) {
  const headers = {};
  res.headers.forEach((value, k) => {
    if (k !== "set-cookie") headers[k] = [{ key: k, value }];
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies.map((value) => ({ key: "Set-Cookie", value }));
  return { status: String(res.status), statusDescription: res.statusText, headers };
}

export function createCloudFront({ handlers, origin }) {
  return async function handle(req) {
    const [uri, ...qs] = req.url.split("?");
    let request = { clientIp: "127.0.0.1", method: req.method, uri, querystring: qs.join("?"), headers: cfHeaders(req.rawHeaders) };
    try {
      if (handlers["viewer-request"]) {
        const out = await invoke(handlers["viewer-request"], "viewer-request", makeEvent("viewer-request", request));
        if (isGeneratedResponse(out)) return webResponse(out);
        request = out;
      }
      const originUrl = new URL(request.uri + (request.querystring ? `?${request.querystring}` : ""), origin);
      const headers = new Headers();
      for (const vs of Object.values(request.headers)) for (const v of vs) headers.append(v.key ?? "", v.value);
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      return await fetchOrigin(originUrl, { method: request.method, headers, body });
    } catch (e) {
      if (e instanceof LambdaError) {
        console.error(`edgeport cloudfront: ${e.status} ${e.kind}: ${e.message}`);
        return textResponse(e.status, `${e.kind}: ${e.message}\n`, { "x-edgeport-cloudfront-error": e.kind });
      }
      throw e;
    }
  };
}

export async function startLambdaEdge({ artifacts, origin, port, nowMs }) {
  if (nowMs !== undefined) Date.now = () => Number(nowMs);
  const handlers = {};
  for (const a of artifacts) handlers[a.event] = loadHandler(a.path);
  const server = await serve(createCloudFront({ handlers, origin }), port);
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}
