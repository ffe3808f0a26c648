// The CloudFront emulation decodes viewer bytes as CloudFront does (issue #16): raw UTF-8 request targets are
// accepted (http.mjs RawTargetFramer) and header values become the UTF-8 decoded strings functions see
// (lambda-edge.mjs viewerText / cfHeaders). Source: CloudFront Developer Guide, "Restrictions on edge functions",
// "URI, query string, and headers encoding".
import assert from "node:assert/strict";
import { test } from "node:test";
import { RAW_TARGET_HEADER, RawTargetFramer } from "../../local/http.mjs";
import { cfHeaders, viewerText } from "./host.mjs";

const latin1 = (s) => Buffer.from(s, "utf8").toString("latin1"); // how Node hands over header bytes
const feed = (bytes, step = bytes.length) => {
  const f = new RawTargetFramer();
  const out = [];
  for (let i = 0; i < bytes.length; i += step) out.push(f.push(bytes.subarray(i, i + step)));
  return Buffer.concat(out).toString("latin1");
};

test("header values arrive as the UTF-8 decoded string; ISO-8859-1 bytes as their characters", () => {
  const h = cfHeaders(["X-City", latin1("Zürich"), "User-Agent", latin1("Android 14; 小米 14"), "X-Latin1", "Z\xfcrich"]);
  assert.equal(h["x-city"][0].value, "Zürich");
  assert.equal(h["user-agent"][0].value, "Android 14; 小米 14");
  assert.equal(h["x-latin1"][0].value, "Zürich"); // 0xFC alone is not UTF-8: read as ISO-8859-1
  assert.equal(viewerText(Buffer.from("plain")), "plain");
});

test("the raw-target header never reaches a function", () => {
  assert.equal(cfHeaders([RAW_TARGET_HEADER, "Lw=="])[RAW_TARGET_HEADER], undefined);
});

test("a target with UTF-8 bytes is escaped for Node and kept exactly in the raw-target header", () => {
  const out = feed(Buffer.from("GET /café?q=日本 HTTP/1.1\r\nHost: x\r\n\r\n", "utf8"));
  const [line, ...rest] = out.split("\r\n");
  assert.equal(line, "GET /caf%C3%A9?q=%E6%97%A5%E6%9C%AC HTTP/1.1");
  const raw = rest.find((l) => l.startsWith(`${RAW_TARGET_HEADER}: `)).split(": ")[1];
  assert.equal(Buffer.from(raw, "base64").toString("utf8"), "/café?q=日本");
});

test("an ASCII request passes byte for byte; a viewer's raw-target header is dropped", () => {
  const plain = "GET /a?b=%20 HTTP/1.1\r\nHost: x\r\n\r\n";
  assert.equal(feed(Buffer.from(plain)), plain);
  assert.equal(feed(Buffer.from(`GET /a HTTP/1.1\r\nHost: x\r\n${RAW_TARGET_HEADER}: Lw==\r\n\r\n`)), "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
});

test("bodies are never rewritten: Content-Length and chunked framing are followed across keep-alive requests", () => {
  const body = Buffer.from("é\r\n\r\nGET /ü HTTP/1.1\r\n\r\n", "utf8"); // looks like a head, is a body
  const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\nx-t: 1\r\n\r\n")]);
  const stream = Buffer.concat([
    Buffer.from(`POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body,
    Buffer.from("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), chunked,
    Buffer.from("GET /ß HTTP/1.1\r\nHost: x\r\n\r\n", "utf8"),
  ]);
  for (const step of [stream.length, 7, 1]) {
    const out = feed(stream, step);
    assert.equal(out.split(body.toString("latin1")).length, 3, `both bodies intact (step ${step})`);
    assert.match(out, /GET \/%C3%9F HTTP\/1\.1\r\n/, `the third head is rewritten (step ${step})`);
    assert.doesNotMatch(out, /GET \/%C3%BC/, `the body is not (step ${step})`);
  }
});
