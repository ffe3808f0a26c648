// CloudFront's rules for Lambda@Edge results, enforced locally so that what
// would be a 502 (LambdaValidationError) in production fails here too.
// Source: CloudFront Developer Guide, "Restrictions on edge functions"
// (disallowed and read-only headers, size limits per trigger).

export const DISALLOWED = [
  /^connection$/, /^expect$/, /^keep-alive$/, /^proxy-(authenticate|authorization|connection)$/, /^trailer$/,
  /^upgrade$/, /^x-accel-(buffering|charset|limit-rate|redirect)$/, /^x-amz-cf-/,
  /^x-amzn-(auth|cf-billing|cf-id|cf-xff|errortype|fle-profile|header-count|header-order|lambda-integration-tag|requestid)$/,
  /^x-cache$/, /^x-edge-/, /^x-forwarded-proto$/, /^x-real-ip$/,
];

export const READ_ONLY_REQUEST = {
  "viewer-request": ["content-length", "host", "transfer-encoding", "via"],
  "origin-request": ["accept-encoding", "content-length", "if-modified-since", "if-none-match", "if-range",
    "if-unmodified-since", "transfer-encoding", "via"],
};

export const READ_ONLY_RESPONSE = {
  "origin-response": ["transfer-encoding", "via"],
  "viewer-response": ["warning", "via"],
};

/** Generated responses (headers + body) per trigger. */
export const GENERATED_LIMIT = {
  "viewer-request": 40 * 1024,
  "viewer-response": 40 * 1024,
  "origin-request": 1024 * 1024,
  "origin-response": 1024 * 1024,
};

export class CloudFrontValidationError extends Error {
  constructor(eventType, errors) {
    super(`CloudFront would answer 502 (LambdaValidationError) for this ${eventType} result: ${errors.join("; ")}`);
    this.errors = errors;
  }
}

const values = (h, k) => JSON.stringify((h?.[k] ?? []).map((x) => x.value));

/** Shape checks first: later checks may assume well-formed header maps. */
function checkHeaderMap(eventType, hdrs, errs) {
  if (hdrs === undefined) return;
  if (hdrs === null || typeof hdrs !== "object" || Array.isArray(hdrs)) {
    errs.push("headers must be an object");
    return;
  }
  for (const [k, vs] of Object.entries(hdrs)) {
    if (k !== k.toLowerCase()) errs.push(`header map key not lowercase: ${k}`);
    if (!Array.isArray(vs) || vs.some((v) => !v || typeof v.value !== "string")) errs.push(`header ${k} must be [{key?, value}]`);
    else if (vs.some((v) => v.key !== undefined && v.key.toLowerCase() !== k)) errs.push(`header ${k}: key does not match the map key`);
    if (DISALLOWED.some((re) => re.test(k))) errs.push(`disallowed header: ${k}`);
  }
  if (errs.length) throw new CloudFrontValidationError(eventType, errs);
}

function headerBytes(hdrs) {
  let n = 0;
  for (const [k, vs] of Object.entries(hdrs ?? {})) for (const v of vs) n += (v.key ?? k).length + 2 + Buffer.byteLength(v.value) + 2;
  return n;
}

export function isGeneratedResponse(out) {
  return out !== null && typeof out === "object" && "status" in out && !("uri" in out);
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
    checkHeaderMap(eventType, out.headers, errs);
    const before = cf.response;
    if (eventType === "viewer-response" && String(out.status) !== String(before.status)) errs.push("viewer-response may not change the status code");
    for (const k of READ_ONLY_RESPONSE[eventType]) if (values(before.headers, k) !== values(out.headers, k)) errs.push(`read-only header modified: ${k}`);
    if (out.body !== undefined && out.body !== before.body) {
      const size = Buffer.byteLength(out.body, out.bodyEncoding === "base64" ? "base64" : "utf8") + headerBytes(out.headers);
      if (size > GENERATED_LIMIT[eventType]) errs.push(`response ${size} B exceeds ${GENERATED_LIMIT[eventType]} B`);
    }
  } else if (isGeneratedResponse(out)) {
    checkHeaderMap(eventType, out.headers, errs);
    const status = Number(out.status);
    if (!Number.isInteger(status) || status < 100 || status > 599) errs.push(`invalid status ${out.status}`);
    if (out.bodyEncoding !== undefined && !["text", "base64"].includes(out.bodyEncoding)) errs.push(`invalid bodyEncoding ${out.bodyEncoding}`);
    if (out.body !== undefined && typeof out.body !== "string") errs.push("body must be a string");
    const size = (typeof out.body === "string" ? Buffer.byteLength(out.body, out.bodyEncoding === "base64" ? "base64" : "utf8") : 0) + headerBytes(out.headers);
    if (size > GENERATED_LIMIT[eventType]) errs.push(`generated response ${size} B exceeds ${GENERATED_LIMIT[eventType]} B for ${eventType}`);
  } else {
    checkHeaderMap(eventType, out.headers, errs);
    if (typeof out.uri !== "string" || !out.uri.startsWith("/")) errs.push("uri must be a path starting with /");
    const before = cf.request.headers;
    for (const k of READ_ONLY_REQUEST[eventType] ?? []) if (values(before, k) !== values(out.headers, k)) errs.push(`read-only header modified: ${k}`);
    if (eventType === "viewer-request") {
      for (const k of Object.keys(out.headers ?? {})) {
        if (k.startsWith("cloudfront-viewer-") && values(before, k) !== values(out.headers, k)) errs.push(`viewer-request may not set ${k}`);
      }
    }
    const uriBytes = Buffer.byteLength(out.uri ?? "") + Buffer.byteLength(out.querystring ?? "");
    if (uriBytes >= 8192) errs.push(`URI + query string is ${uriBytes} characters (limit 8,192)`);
    if (headerBytes(out.headers) > 20480) errs.push("request line + headers exceed 20,480 bytes");
  }
  if (errs.length) throw new CloudFrontValidationError(eventType, errs);
  return out;
}
