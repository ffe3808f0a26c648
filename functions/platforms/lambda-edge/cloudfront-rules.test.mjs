// Unit tests for the CloudFront result rules the local Lambda@Edge host enforces.
// Cases follow the CloudFront Developer Guide, "Restrictions on edge functions".
import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudFrontValidationError, validateResult } from "./cloudfront-rules.mjs";
import { makeEvent } from "./host.mjs";

const req = (headers = {}) => ({
  clientIp: "203.0.113.178", method: "GET", uri: "/api/x", querystring: "",
  headers: {
    host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
    via: [{ key: "Via", value: "2.0 abc.cloudfront.net (CloudFront)" }],
    "user-agent": [{ key: "User-Agent", value: "curl/8" }],
    ...headers,
  },
});
const ev = (type, r = req(), response) => makeEvent(type, r, response);
const rejects = (type, event, out, pattern) =>
  assert.throws(() => validateResult(type, event, out), (e) => e instanceof CloudFrontValidationError && pattern.test(e.message));

test("an unchanged request passes", () => {
  const e = ev("viewer-request");
  assert.equal(validateResult("viewer-request", e, structuredClone(e.Records[0].cf.request)).uri, "/api/x");
});

test("adding a header the origin should see passes", () => {
  const e = ev("viewer-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.headers["x-user-id"] = [{ key: "x-user-id", value: "alice" }];
  validateResult("viewer-request", e, out);
});

for (const name of ["connection", "upgrade", "x-real-ip", "x-forwarded-proto", "x-amz-cf-id", "x-edge-location", "keep-alive",
  "proxy-authorization", "x-cache", "x-accel-redirect", "x-amzn-requestid", "trailer", "expect"]) {
  test(`disallowed header ${name} is a 502`, () => {
    const e = ev("viewer-request");
    const out = structuredClone(e.Records[0].cf.request);
    out.headers[name] = [{ key: name, value: "1" }];
    rejects("viewer-request", e, out, /disallowed header/);
  });
}

for (const name of ["host", "via", "content-length", "transfer-encoding"]) {
  test(`viewer-request may not modify read-only ${name}`, () => {
    const e = ev("viewer-request");
    const out = structuredClone(e.Records[0].cf.request);
    out.headers[name] = [{ key: name, value: "changed.example" }];
    rejects("viewer-request", e, out, /read-only header modified/);
  });
}

for (const name of ["accept-encoding", "if-none-match", "if-modified-since", "via"]) {
  test(`origin-request may not modify read-only ${name}`, () => {
    const e = ev("origin-request", req({ [name]: [{ key: name, value: "a" }] }));
    const out = structuredClone(e.Records[0].cf.request);
    out.headers[name] = [{ key: name, value: "b" }];
    rejects("origin-request", e, out, /read-only header modified/);
  });
}

test("origin-request may change the host header (geo routing)", () => {
  const e = ev("origin-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.headers.host = [{ key: "Host", value: "eu.origin.example.com" }];
  validateResult("origin-request", e, out);
});

test("viewer-request may not add CloudFront-Viewer-Country", () => {
  const e = ev("viewer-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.headers["cloudfront-viewer-country"] = [{ key: "CloudFront-Viewer-Country", value: "DE" }];
  rejects("viewer-request", e, out, /may not set cloudfront-viewer-country/);
});

test("header map keys must be lower case", () => {
  const e = ev("viewer-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.headers["X-User"] = [{ key: "X-User", value: "a" }];
  rejects("viewer-request", e, out, /not lowercase/);
});

test("header values must be [{key, value}] with string values", () => {
  const e = ev("viewer-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.headers["x-a"] = "plain";
  rejects("viewer-request", e, out, /must be \[\{key\?, value\}\]/);
  out.headers["x-a"] = [{ key: "x-a", value: 5 }];
  rejects("viewer-request", e, out, /must be \[\{key\?, value\}\]/);
});

test("a generated 401 within 40 KB passes on viewer-request", () => {
  const out = { status: "401", headers: { "www-authenticate": [{ key: "WWW-Authenticate", value: "Bearer" }] }, body: "no" };
  validateResult("viewer-request", ev("viewer-request"), out);
});

test("a generated response over 40 KB is a 502 on viewer-request but fine on origin-request", () => {
  const out = { status: "200", body: "x".repeat(41 * 1024) };
  rejects("viewer-request", ev("viewer-request"), out, /exceeds 40960 B/);
  validateResult("origin-request", ev("origin-request"), out);
});

test("a generated response over 1 MB is a 502 on origin-request", () => {
  rejects("origin-request", ev("origin-request"), { status: "200", body: "x".repeat(1024 * 1024 + 1) }, /exceeds 1048576 B/);
});

test("base64 bodies are counted decoded", () => {
  const body = Buffer.alloc(30 * 1024).toString("base64"); // 40,960 characters, 30 KB decoded
  validateResult("viewer-request", ev("viewer-request"), { status: "200", body, bodyEncoding: "base64" });
});

test("generated responses may not carry disallowed headers either", () => {
  rejects("viewer-request", ev("viewer-request"), { status: "200", headers: { connection: [{ key: "Connection", value: "close" }] } }, /disallowed/);
});

test("a status outside 100-599 is invalid", () => {
  rejects("origin-request", ev("origin-request"), { status: "700" }, /invalid status/);
});

test("viewer-response may not change the status code", () => {
  const response = { status: "200", statusDescription: "OK", headers: {} };
  const e = ev("viewer-response", req(), response);
  rejects("viewer-response", e, { ...response, status: "302" }, /may not change the status code/);
  validateResult("viewer-response", e, { ...response, headers: { "set-cookie": [{ key: "Set-Cookie", value: "ab=B" }] } });
});

test("a result that is not an object is invalid", () => {
  rejects("viewer-request", ev("viewer-request"), null, /not an object/);
});

test("URI plus query string must stay under 8,192 characters", () => {
  const e = ev("viewer-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.querystring = "q=" + "a".repeat(8200);
  rejects("viewer-request", e, out, /less than 8,192/);
});

// ---- issue #16: the checker brought up to the AWS docs (sources cited in cloudfront-rules.mjs) ----

const oreq = (extra = {}) => ({
  ...req(),
  origin: {
    custom: {
      customHeaders: { "x-origin-verify": [{ key: "X-Origin-Verify", value: "s3cret" }] }, domainName: "origin.example.com",
      keepaliveTimeout: 5, path: "", port: 443, protocol: "https", readTimeout: 30, sslProtocols: ["TLSv1.2"],
    },
  },
  ...extra,
});
const s3req = () => ({
  ...req(),
  origin: { s3: { authMethod: "origin-access-identity", customHeaders: {}, domainName: "my-bucket.s3.amazonaws.com", path: "", region: "us-east-1" } },
});
const originOut = (mutate, r = oreq()) => {
  const e = ev("origin-request", r);
  const out = structuredClone(e.Records[0].cf.request);
  mutate(out);
  return [e, out];
};

test("an origin returned as CloudFront gave it passes, even with values the checker would refuse if set", () => {
  const r = oreq();
  r.origin.custom.readTimeout = 180; // a raised quota (docs/targets.md, Unverified): CloudFront's own value is never refused
  const [e, out] = originOut(() => {}, r);
  validateResult("origin-request", e, out);
});

test("a valid custom origin a function sets passes (geo routing)", () => {
  const [e, out] = originOut((o) => { o.origin.custom.domainName = "eu.origin.example.com"; o.origin.custom.port = 8443; o.origin.custom.path = "/base"; });
  validateResult("origin-request", e, out);
});

for (const [what, mutate, pattern] of [
  ["an IPv4 domainName", (o) => { o.origin.custom.domainName = "192.0.2.1"; }, /may not be an IPv4 address/],
  ["a domainName with a port", (o) => { o.origin.custom.domainName = "origin.example.com:8080"; }, /may not contain ':'/],
  ["an empty domainName", (o) => { o.origin.custom.domainName = ""; }, /domainName must be a non-empty string/],
  ["a domainName over 253 characters", (o) => { o.origin.custom.domainName = `${"a".repeat(250)}.com`; }, /at most 253/],
  ["port 8", (o) => { o.origin.custom.port = 8; }, /port must be 80, 443 or 1024-65535/],
  ["port as a string", (o) => { o.origin.custom.port = "443"; }, /port must be/],
  ["protocol ftp", (o) => { o.origin.custom.protocol = "ftp"; }, /protocol must be "http" or "https"/],
  ["a path with a trailing slash", (o) => { o.origin.custom.path = "/base/"; }, /path must start with \/ and not end with \//],
  ["a path without a leading slash", (o) => { o.origin.custom.path = "base"; }, /path must start with/],
  ["TLSv1.3 in sslProtocols", (o) => { o.origin.custom.sslProtocols = ["TLSv1.3"]; }, /sslProtocols must be/],
  ["readTimeout 2", (o) => { o.origin.custom.readTimeout = 2; }, /readTimeout must be 4-60/],
  ["keepaliveTimeout 0", (o) => { o.origin.custom.keepaliveTimeout = 0; }, /keepaliveTimeout must be 1-60/],
  ["customHeaders not a header map", (o) => { o.origin.custom.customHeaders = { "x-a": "b" }; }, /customHeaders entry x-a must be/],
  ["a disallowed custom header", (o) => { o.origin.custom.customHeaders["x-real-ip"] = [{ key: "X-Real-IP", value: "1" }]; }, /disallowed origin.custom.customHeaders entry: x-real-ip/],
  ["a custom header also in request.headers", (o) => { o.origin.custom.customHeaders["user-agent"] = [{ key: "User-Agent", value: "x" }]; }, /also a request header/],
  ["both custom and s3", (o) => { o.origin.s3 = { domainName: "b.s3.amazonaws.com" }; }, /exactly one of custom, s3/],
]) {
  test(`origin-request: ${what} is a 502`, () => {
    const [e, out] = originOut(mutate);
    rejects("origin-request", e, out, pattern);
  });
}

test("s3 origin: a valid switch of bucket passes; uppercase, OAI without region and a bad authMethod fail", () => {
  let [e, out] = originOut((o) => { o.origin.s3.domainName = "other-bucket.s3.amazonaws.com"; }, s3req());
  validateResult("origin-request", e, out);
  [e, out] = originOut((o) => { o.origin.s3.domainName = "Other.s3.amazonaws.com"; }, s3req());
  rejects("origin-request", e, out, /must be all lowercase/);
  [e, out] = originOut((o) => { delete o.origin.s3.region; o.origin.s3.domainName = "b.s3.amazonaws.com"; }, s3req());
  rejects("origin-request", e, out, /region is required/);
  [e, out] = originOut((o) => { o.origin.s3.authMethod = "sigv4"; }, s3req());
  rejects("origin-request", e, out, /authMethod must be/);
});

test("viewer-request cannot set an origin", () => {
  const e = ev("viewer-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.origin = oreq().origin;
  rejects("viewer-request", e, out, /only be changed in origin-request/);
});

test("CDN-Loop is read-only on request events: carried passes, changed fails", () => {
  for (const type of ["viewer-request", "origin-request"]) {
    const e = ev(type, req({ "cdn-loop": [{ key: "CDN-Loop", value: "cloudfront" }] }));
    const out = structuredClone(e.Records[0].cf.request);
    validateResult(type, e, out);
    out.headers["cdn-loop"] = [{ key: "CDN-Loop", value: "cloudfront, edgeport" }];
    rejects(type, e, out, /read-only header modified: cdn-loop/);
  }
});

for (const name of ["content-length", "content-encoding", "transfer-encoding"]) {
  test(`viewer-response: ${name} is read-only (kept passes, changed fails)`, () => {
    const response = { status: "200", statusDescription: "OK", headers: { [name]: [{ key: name, value: "gzip" }] } };
    const e = ev("viewer-response", req(), response);
    validateResult("viewer-response", e, structuredClone(response));
    rejects("viewer-response", e, { ...response, headers: { [name]: [{ key: name, value: "br" }] } }, new RegExp(`read-only header modified: ${name}`));
  });
}

test("a disallowed header carried over unchanged from the input is not an addition", () => {
  // RESTRICT: disallowed headers are not exposed and "functions can't add them"; one present in the input (an event
  // built by hand, or another project's fixture) and returned unchanged was not added.
  const e = ev("origin-request", req({ "x-cache": [{ key: "X-Cache", value: "Miss from cloudfront" }] }));
  const out = structuredClone(e.Records[0].cf.request);
  validateResult("origin-request", e, out);
  out.headers["x-cache"] = [{ key: "X-Cache", value: "Hit" }];
  rejects("origin-request", e, out, /disallowed header: x-cache/);
  const response = { status: "200", headers: { "x-cache": [{ key: "X-Cache", value: "Miss" }] } };
  const re = ev("origin-response", req(), response);
  validateResult("origin-response", re, structuredClone(response));
  rejects("origin-response", re, { ...response, headers: { ...response.headers, upgrade: [{ key: "Upgrade", value: "h2c" }] } }, /disallowed header: upgrade/);
});

test("generated responses: status must be a string from 200 to 599", () => {
  validateResult("viewer-request", ev("viewer-request"), { status: "200" });
  validateResult("viewer-request", ev("viewer-request"), { status: "599" });
  rejects("viewer-request", ev("viewer-request"), { status: 200 }, /status must be a string/);
  rejects("viewer-request", ev("viewer-request"), { status: "199" }, /must be "200" to "599"/);
  rejects("viewer-request", ev("viewer-request"), { status: "100" }, /must be "200" to "599"/);
  rejects("viewer-request", ev("viewer-request"), { status: "600" }, /must be "200" to "599"/);
  rejects("origin-request", ev("origin-request"), { status: "20x" }, /must be "200" to "599"/);
});

test("a generated 204 with a body is a 502 on viewer-request; without one it passes", () => {
  validateResult("viewer-request", ev("viewer-request"), { status: "204" });
  rejects("viewer-request", ev("viewer-request"), { status: "204", body: "x" }, /204 may not have a body/);
});

test("base64 bodies must be valid base64", () => {
  validateResult("origin-request", ev("origin-request"), { status: "200", body: "aGk=", bodyEncoding: "base64" });
  rejects("origin-request", ev("origin-request"), { status: "200", body: "not base64!", bodyEncoding: "base64" }, /not valid base64/);
  rejects("origin-request", ev("origin-request"), { status: "200", body: "aGk", bodyEncoding: "base64" }, /not valid base64/);
  const response = { status: "200", headers: {} };
  rejects("origin-response", ev("origin-response", req(), response), { ...response, body: "%%%", bodyEncoding: "base64" }, /not valid base64/);
});

test("querystring a function sets: no spaces, control characters or #; an unchanged one is not re-checked", () => {
  for (const [q, ok] of [["a=1&b=%20", true], ["q=caf%C3%A9", true], ["a=1 2", false], ["a=1\t", false], ["a=\u0000", false], ["a=1#frag", false]]) {
    const e = ev("viewer-request");
    const out = structuredClone(e.Records[0].cf.request);
    out.querystring = q;
    if (ok) validateResult("viewer-request", e, out);
    else rejects("viewer-request", e, out, /querystring may not contain/);
  }
  const r = req();
  r.querystring = "a=b c";
  const e = ev("viewer-request", r);
  validateResult("viewer-request", e, structuredClone(e.Records[0].cf.request));
});

test("URI length is counted in characters, not bytes", () => {
  const e = ev("origin-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.uri = `/${"日".repeat(4000)}`; // 4,001 characters, 12,001 bytes
  out.querystring = "ü".repeat(4000); // 4,000 characters, 8,000 bytes
  validateResult("origin-request", e, out);
  out.querystring = "ü".repeat(4191);
  rejects("origin-request", e, out, /8192 characters/);
});

test("method and clientIp are read-only", () => {
  const e = ev("viewer-request");
  let out = structuredClone(e.Records[0].cf.request);
  out.method = "POST";
  rejects("viewer-request", e, out, /method is read-only/);
  out = structuredClone(e.Records[0].cf.request);
  out.clientIp = "198.51.100.1";
  rejects("viewer-request", e, out, /clientIp is read-only/);
});

const withBody = (encoding = "base64", data = "aGk=") => ({ ...req(), body: { action: "read-only", data, encoding, inputTruncated: false } });

test("a replaced request body: action replace, encoding text|base64, data a string, valid base64", () => {
  const e = ev("origin-request", withBody());
  const ok = structuredClone(e.Records[0].cf.request);
  ok.body = { action: "replace", encoding: "text", data: "new" };
  validateResult("origin-request", e, ok);
  for (const [body, pattern] of [
    [{ action: "read-only", encoding: "text", data: "new" }, /changed without action "replace"/],
    [{ action: "rewrite", encoding: "text", data: "x" }, /action must be/],
    [{ action: "replace", encoding: "gzip", data: "x" }, /encoding must be/],
    [{ action: "replace", encoding: "text", data: 5 }, /data must be a string/],
    [{ action: "replace", encoding: "base64", data: "!!" }, /not valid base64/],
  ]) {
    const out = structuredClone(e.Records[0].cf.request);
    out.body = body;
    rejects("origin-request", e, out, pattern);
  }
});

test("a request body can only be set when the behaviour includes the body", () => {
  const e = ev("origin-request");
  const out = structuredClone(e.Records[0].cf.request);
  out.body = { action: "replace", encoding: "text", data: "x" };
  rejects("origin-request", e, out, /includeBody/);
});

test("replaced bodies are truncated, not refused, at the include-body sizes", async () => {
  const { bodyLimit } = await import("./cloudfront-rules.mjs");
  assert.equal(bodyLimit("viewer-request", "text"), 40 * 1024);
  assert.equal(bodyLimit("origin-request", "base64"), Math.round(1.33 * 1024 * 1024));
  const e = ev("viewer-request", withBody("text", "a"));
  const out = structuredClone(e.Records[0].cf.request);
  out.body = { action: "replace", encoding: "text", data: "x".repeat(50 * 1024) };
  validateResult("viewer-request", e, out);
});
