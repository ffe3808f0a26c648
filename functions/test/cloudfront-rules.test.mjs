// Unit tests for the CloudFront result rules the local Lambda@Edge host enforces.
// Cases follow the CloudFront Developer Guide, "Restrictions on edge functions".
import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudFrontValidationError, validateResult } from "../local/cloudfront-rules.mjs";
import { makeEvent } from "../local/lambda-edge.mjs";

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
  rejects("viewer-request", e, out, /limit 8,192/);
});
