// CloudFront's rules for Lambda@Edge results, enforced locally so that what
// would be a 502 (LambdaValidationError) in production fails here too.
// Sources (CloudFront Developer Guide), cited per rule below:
//   RESTRICT  "Restrictions on edge functions"
//             https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html
//   EVENT     "Lambda@Edge event structure"
//             https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
//   GENERATE  "Generate HTTP responses in request triggers"
//             https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
//   QUOTAS    "Quotas on Lambda@Edge"
//             https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge
// Where the docs are silent or ambiguous the rule is the lenient reading, listed in docs/targets.md "Unverified".

// RESTRICT, "Disallowed headers": not exposed to functions, and a function may not add one.
export const DISALLOWED = [
  /^connection$/, /^expect$/, /^keep-alive$/, /^proxy-(authenticate|authorization|connection)$/, /^trailer$/,
  /^upgrade$/, /^x-accel-(buffering|charset|limit-rate|redirect)$/, /^x-amz-cf-/,
  /^x-amzn-(auth|cf-billing|cf-id|cf-xff|errortype|fle-profile|header-count|header-order|lambda-integration-tag|requestid)$/,
  /^x-cache$/, /^x-edge-/, /^x-forwarded-proto$/, /^x-real-ip$/,
];

// RESTRICT, "Read-only headers" per event type: a function can read them but not add, change or remove them.
// CDN-Loop (RFC 8586) is CloudFront's loop guard on requests; viewer-response also keeps the framing headers
// (Content-Length, Content-Encoding, Transfer-Encoding) that older revisions of the page list - see
// docs/targets.md "Unverified" for which revision lists what.
export const READ_ONLY_REQUEST = {
  "viewer-request": ["cdn-loop", "content-length", "host", "transfer-encoding", "via"],
  "origin-request": ["accept-encoding", "cdn-loop", "content-length", "if-modified-since", "if-none-match", "if-range",
    "if-unmodified-since", "transfer-encoding", "via"],
};

export const READ_ONLY_RESPONSE = {
  "origin-response": ["transfer-encoding", "via"],
  "viewer-response": ["content-encoding", "content-length", "transfer-encoding", "warning", "via"],
};

/** GENERATE, "Limits on the size of the generated response" (headers + body), per trigger. */
export const GENERATED_LIMIT = {
  "viewer-request": 40 * 1024,
  "viewer-response": 40 * 1024,
  "origin-request": 1024 * 1024,
  "origin-response": 1024 * 1024,
};

/**
 * RESTRICT (Lambda@Edge), "Restrictions on the request body with the include body option": a body the function
 * replaces is truncated at these sizes - CloudFront does not refuse it, so the emulation truncates (bodyLimit()).
 */
export const BODY_LIMIT = {
  "viewer-request": { text: 40 * 1024, base64: Math.round(53.2 * 1024) },
  "origin-request": { text: 1024 * 1024, base64: Math.round(1.33 * 1024 * 1024) },
};

/** RESTRICT, "Query strings" and "URI": "The total size of the URI, including the query string, must be less than 8,192 characters". */
export const URI_LIMIT_CHARS = 8192;

// EVENT, request.origin.custom: the values each field may take.
export const SSL_PROTOCOLS = ["TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"];

export class CloudFrontValidationError extends Error {
  constructor(eventType, errors) {
    super(`CloudFront would answer 502 (LambdaValidationError) for this ${eventType} result: ${errors.join("; ")}`);
    this.errors = errors;
  }
}

const values = (h, k) => JSON.stringify((h?.[k] ?? []).map((x) => x.value));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
/** Characters, not bytes or UTF-16 units: "ü" and "日" count one each (RESTRICT speaks of characters). */
const chars = (s) => [...(s ?? "")].length;
// RFC 4648 §4 alphabet with padding; CloudFront refuses a body marked base64 that is not valid base64 (GENERATE, bodyEncoding).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const isBase64 = (s) => typeof s === "string" && BASE64.test(s);

/**
 * Shape checks first: later checks may assume well-formed header maps. `before` is the map the function was given:
 * a disallowed header it carried over unchanged was not added (RESTRICT: "functions can't add them"), so it passes.
 */
function checkHeaderMap(eventType, hdrs, errs, before = {}, what = "header") {
  if (hdrs === undefined) return;
  if (hdrs === null || typeof hdrs !== "object" || Array.isArray(hdrs)) {
    errs.push(`${what}s must be an object`);
    throw new CloudFrontValidationError(eventType, errs);
  }
  const bad = errs.length;
  for (const [k, vs] of Object.entries(hdrs)) {
    // EVENT: "The keys in the headers object are lowercase versions of the header names"; `key` is optional.
    if (k !== k.toLowerCase()) errs.push(`${what} map key not lowercase: ${k}`);
    if (!Array.isArray(vs) || vs.some((v) => !v || typeof v.value !== "string")) errs.push(`${what} ${k} must be [{key?, value}]`);
    else if (vs.some((v) => v.key !== undefined && (typeof v.key !== "string" || v.key.toLowerCase() !== k))) errs.push(`${what} ${k}: key does not match the map key`);
    else if (DISALLOWED.some((re) => re.test(k)) && values(before, k) !== values(hdrs, k)) errs.push(`disallowed ${what}: ${k}`);
  }
  if (errs.length > bad) throw new CloudFrontValidationError(eventType, errs);
}

function headerBytes(hdrs) {
  let n = 0;
  for (const [k, vs] of Object.entries(hdrs ?? {})) for (const v of vs) n += (v.key ?? k).length + 2 + Buffer.byteLength(v.value) + 2;
  return n;
}

export function isGeneratedResponse(out) {
  return out !== null && typeof out === "object" && "status" in out && !("uri" in out);
}

/** GENERATE, "status": "If the status value isn't between 200 and 599, CloudFront returns an error"; given as a string. */
function checkStatus(status, errs) {
  if (typeof status !== "string") errs.push(`status must be a string such as "200" (got ${typeof status} ${JSON.stringify(status)})`);
  else if (!/^\d{3}$/.test(status) || Number(status) < 200 || Number(status) > 599) errs.push(`invalid status ${JSON.stringify(status)}: must be "200" to "599"`);
}

/** A generated or replaced response body: GENERATE, "body" / "bodyEncoding" (text | base64, base64 must decode). */
function checkResponseBody(out, errs) {
  if (out.bodyEncoding !== undefined && !["text", "base64"].includes(out.bodyEncoding)) errs.push(`invalid bodyEncoding ${out.bodyEncoding}`);
  if (out.body !== undefined && typeof out.body !== "string") errs.push("body must be a string");
  else if (out.bodyEncoding === "base64" && out.body !== undefined && !isBase64(out.body)) errs.push("body is marked base64 but is not valid base64");
}

const bodySize = (out) => (typeof out.body === "string" ? Buffer.byteLength(out.body, out.bodyEncoding === "base64" ? "base64" : "utf8") : 0);

/**
 * EVENT, request values: `uri` must begin with "/"; a query string a function creates or updates may not contain
 * spaces, control characters or "#" (RESTRICT, "Query strings"); URI + query string < 8,192 characters (RESTRICT, "URI").
 * A query string the function left as it was is CloudFront's own and is not re-checked.
 */
function checkTarget(out, before, errs) {
  if (typeof out.uri !== "string" || !out.uri.startsWith("/")) errs.push("uri must be a path starting with /");
  if (out.querystring !== undefined && typeof out.querystring !== "string") errs.push("querystring must be a string");
  else if ((out.querystring ?? "") !== (before.querystring ?? "")) {
    // eslint-disable-next-line no-control-regex
    const bad = /[\u0000-\u0020\u007f#]/u.exec(out.querystring ?? "");
    if (bad) errs.push(`querystring may not contain spaces, control characters or '#' (found ${JSON.stringify(bad[0])})`);
  }
  const n = chars(out.uri) + chars(out.querystring);
  if (n >= URI_LIMIT_CHARS) errs.push(`URI + query string is ${n} characters (limit: less than 8,192)`);
}

/**
 * The replaced request body (EVENT, request.body; RESTRICT, include-body restrictions): only present when the
 * behaviour includes the body; `action` read-only | replace, `encoding` text | base64, `data` a string.
 */
function checkRequestBody(out, before, errs) {
  if (out.body === undefined || same(out.body, before.body)) return;
  if (before.body === undefined) {
    errs.push("request.body is only available when the cache behaviour's association sets includeBody");
    return;
  }
  const b = out.body;
  if (b === null || typeof b !== "object") {
    errs.push("request.body must be an object {action, encoding, data}");
    return;
  }
  if (!["read-only", "replace"].includes(b.action)) errs.push(`request.body.action must be "read-only" or "replace" (got ${JSON.stringify(b.action)})`);
  if (b.action !== "replace") {
    if (b.data !== before.body.data || b.encoding !== before.body.encoding) errs.push('request.body changed without action "replace"');
    return;
  }
  if (!["text", "base64"].includes(b.encoding)) errs.push(`request.body.encoding must be "text" or "base64" (got ${JSON.stringify(b.encoding)})`);
  if (typeof b.data !== "string") errs.push("request.body.data must be a string");
  else if (b.encoding === "base64" && !isBase64(b.data)) errs.push("request.body.data is marked base64 but is not valid base64");
}

/** The size at which CloudFront truncates a body the function replaced (RESTRICT, include-body restrictions). */
export function bodyLimit(eventType, encoding) {
  return BODY_LIMIT[eventType]?.[encoding === "base64" ? "base64" : "text"];
}

const isInt = (n, lo, hi) => Number.isInteger(n) && n >= lo && n <= hi;

/** EVENT, request.origin: one of custom | s3, each field within the documented values. */
function checkOrigin(out, before, errs) {
  const o = out.origin;
  if (o === undefined) return;
  // An origin the function returned as CloudFront gave it is CloudFront's own: never refused here.
  if (same(o, before.origin)) return;
  if (o === null || typeof o !== "object" || Array.isArray(o)) {
    errs.push("origin must be an object {custom} or {s3}");
    return;
  }
  const kinds = Object.keys(o).filter((k) => o[k] !== undefined);
  if (kinds.length !== 1 || !["custom", "s3"].includes(kinds[0])) {
    errs.push(`origin must have exactly one of custom, s3 (got ${kinds.join(", ") || "none"})`);
    return;
  }
  const kind = kinds[0];
  const c = o[kind];
  const at = `origin.${kind}`;
  if (c === null || typeof c !== "object") {
    errs.push(`${at} must be an object`);
    return;
  }
  const dn = c.domainName;
  if (typeof dn !== "string" || dn === "") errs.push(`${at}.domainName must be a non-empty string`);
  else if (kind === "custom") {
    // "can't include a colon (:), and can't use the IPV4 address format. The domain name can be up to 253 characters."
    if (dn.includes(":")) errs.push(`${at}.domainName may not contain ':' (a port goes in origin.custom.port; IPv6 addresses are not allowed)`);
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(dn)) errs.push(`${at}.domainName may not be an IPv4 address`);
    if (dn.length > 253) errs.push(`${at}.domainName is ${dn.length} characters (at most 253)`);
  } else {
    // "must be an allowed bucket name ... up to 128 characters, and must be all lowercase"
    if (dn.length > 128) errs.push(`${at}.domainName is ${dn.length} characters (at most 128)`);
    if (dn !== dn.toLowerCase()) errs.push(`${at}.domainName must be all lowercase`);
  }
  // "The path should start with a slash (/) but should have no trailing /"; custom: "maximum length of 255 characters".
  if (c.path !== undefined && c.path !== "") {
    if (typeof c.path !== "string" || !c.path.startsWith("/") || c.path.endsWith("/")) errs.push(`${at}.path must start with / and not end with / (got ${JSON.stringify(c.path)})`);
    else if (kind === "custom" && c.path.length > 255) errs.push(`${at}.path is ${c.path.length} characters (at most 255)`);
  }
  if (kind === "custom") {
    if (!(c.port === 80 || c.port === 443 || isInt(c.port, 1024, 65535))) errs.push(`${at}.port must be 80, 443 or 1024-65535 (got ${JSON.stringify(c.port)})`);
    if (!["http", "https"].includes(c.protocol)) errs.push(`${at}.protocol must be "http" or "https" (got ${JSON.stringify(c.protocol)})`);
    if (c.sslProtocols !== undefined && (!Array.isArray(c.sslProtocols) || c.sslProtocols.length === 0 || c.sslProtocols.some((p) => !SSL_PROTOCOLS.includes(p)))) {
      errs.push(`${at}.sslProtocols must be a non-empty list of ${SSL_PROTOCOLS.join(", ")}`);
    }
    // "readTimeout ... a number in the range of 4 to 60 seconds"; "keepaliveTimeout ... 1 to 60 seconds".
    if (c.readTimeout !== undefined && !isInt(c.readTimeout, 4, 60)) errs.push(`${at}.readTimeout must be 4-60 seconds (got ${JSON.stringify(c.readTimeout)})`);
    if (c.keepaliveTimeout !== undefined && !isInt(c.keepaliveTimeout, 1, 60)) errs.push(`${at}.keepaliveTimeout must be 1-60 seconds (got ${JSON.stringify(c.keepaliveTimeout)})`);
  } else {
    // "Set to origin-access-identity ... or none"; with OAI "You must specify a region".
    if (c.authMethod !== undefined && !["origin-access-identity", "none"].includes(c.authMethod)) errs.push(`${at}.authMethod must be "origin-access-identity" or "none"`);
    if (c.authMethod === "origin-access-identity" && (typeof c.region !== "string" || c.region === "")) errs.push(`${at}.region is required with authMethod origin-access-identity`);
  }
  // customHeaders: the request header rules apply, and "a header with the same name can't be present in
  // request.headers or in request.origin.custom.customHeaders".
  const ch = c.customHeaders;
  if (ch !== undefined) {
    const sub = [];
    try {
      checkHeaderMap("origin-request", ch, sub, before.origin?.[kind]?.customHeaders ?? {}, `${at}.customHeaders entry`);
    } catch {
      // collected in `sub`
    }
    errs.push(...sub);
    if (!sub.length) for (const k of Object.keys(ch)) if (out.headers?.[k]) errs.push(`${at}.customHeaders.${k} is also a request header`);
  }
}

/**
 * Validate what a function returned for `eventType`.
 * `input` is the event it was given (for read-only comparisons).
 */
export function validateResult(eventType, input, out) {
  const errs = [];
  const cf = input.Records[0].cf;
  if (out === null || typeof out !== "object") {
    throw new CloudFrontValidationError(eventType, ["result is not an object"]);
  }
  const isResponseEvent = eventType.endsWith("-response");
  if (isResponseEvent) {
    // viewer-response / origin-response: the result is the (modified) response
    const before = cf.response;
    checkHeaderMap(eventType, out.headers, errs, before.headers);
    // RESTRICT (Lambda@Edge), "HTTP status codes": viewer-response functions cannot modify the status code.
    if (eventType === "viewer-response" && String(out.status) !== String(before.status)) errs.push("viewer-response may not change the status code");
    else if (out.status !== before.status) checkStatus(out.status, errs);
    for (const k of READ_ONLY_RESPONSE[eventType]) if (values(before.headers, k) !== values(out.headers, k)) errs.push(`read-only header modified: ${k}`);
    if (out.body !== undefined && out.body !== before.body) {
      checkResponseBody(out, errs);
      const size = bodySize(out) + headerBytes(out.headers);
      if (size > GENERATED_LIMIT[eventType]) errs.push(`response ${size} B exceeds ${GENERATED_LIMIT[eventType]} B`);
    }
  } else if (isGeneratedResponse(out)) {
    // Nothing of a generated response comes from the input: every header in it is added.
    checkHeaderMap(eventType, out.headers, errs);
    checkStatus(out.status, errs);
    checkResponseBody(out, errs);
    // GENERATE, "Errors": on viewer request, status 204 with a body is a 502 (RFC 2616's optional 204 rule).
    if (eventType === "viewer-request" && out.status === "204" && typeof out.body === "string" && out.body !== "") errs.push("a generated 204 may not have a body");
    const size = bodySize(out) + headerBytes(out.headers);
    if (size > GENERATED_LIMIT[eventType]) errs.push(`generated response ${size} B exceeds ${GENERATED_LIMIT[eventType]} B for ${eventType}`);
  } else {
    const before = cf.request;
    checkHeaderMap(eventType, out.headers, errs, before.headers);
    checkTarget(out, before, errs);
    // EVENT: "clientIp (read-only)", "method (read-only)".
    if (out.method !== before.method) errs.push(`method is read-only (${before.method} -> ${out.method})`);
    if (out.clientIp !== before.clientIp) errs.push("clientIp is read-only");
    for (const k of READ_ONLY_REQUEST[eventType] ?? []) if (values(before.headers, k) !== values(out.headers, k)) errs.push(`read-only header modified: ${k}`);
    if (eventType === "viewer-request") {
      // RESTRICT (Lambda@Edge), "CloudFront headers": a viewer-request function adding CloudFront-Viewer-Country fails validation.
      for (const k of Object.keys(out.headers ?? {})) {
        if (k.startsWith("cloudfront-viewer-") && values(before.headers, k) !== values(out.headers, k)) errs.push(`viewer-request may not set ${k}`);
      }
      if (out.origin !== undefined && !same(out.origin, before.origin)) errs.push("origin can only be changed in origin-request");
    } else {
      checkOrigin(out, before, errs);
    }
    checkRequestBody(out, before, errs);
    // QUOTAS: request line + headers at most 20,480 bytes.
    if (headerBytes(out.headers) > 20480) errs.push("request line + headers exceed 20,480 bytes");
  }
  if (errs.length) throw new CloudFrontValidationError(eventType, errs);
  return out;
}
