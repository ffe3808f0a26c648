// CloudFront request records <-> Web objects (cloudfront-records.ts): what no pattern changed goes
// back to CloudFront exactly as it came (issue #16).
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const R = await importTs(new URL("./cloudfront-records.ts", import.meta.url));
const { dropsOnEntry, entryHeaders } = await importTs(new URL("../../src/core/http.ts", import.meta.url));

const DOMAIN = "d111111abcdef8.cloudfront.net";
const ENTRY = { strip: ["x-user-id"], keep: [] };

function record(headers, extra = {}) {
  return { clientIp: "203.0.113.178", method: "GET", uri: "/", querystring: "", headers, ...extra };
}

/** What the adapter does for a forwarded request, with `change` standing in for the patterns. */
function roundTrip(headers, change = () => {}) {
  const cf = record(structuredClone(headers));
  const inbound = R.toRequest(cf, DOMAIN);
  const after = entryHeaders(inbound.request.headers, ENTRY);
  change(after);
  return R.forwardedHeaders(cf.headers, inbound.request.headers, after, inbound.aside, dropsOnEntry(ENTRY));
}

test("header values above U+00FF enter Headers as their UTF-8 bytes and come back as sent", () => {
  assert.equal(R.byteString("東京"), "\u00e6\u009d\u00b1\u00e4\u00ba\u00ac");
  assert.equal(R.byteString("Zürich"), "Z\u00c3\u00bcrich");
  assert.equal(R.byteString("curl/7.66.0"), "curl/7.66.0");
  for (const v of ["東京", "Zürich", "Mozilla/5.0 (Linux; Android 13; 小米 13 Pro)", "plain"]) assert.equal(R.fromByteString(R.byteString(v)), v);
  // Not UTF-8 (a Latin-1 byte a pattern wrote itself): left as it is.
  assert.equal(R.fromByteString("caf\u00e9"), "caf\u00e9");
  const { request } = R.toRequest(record({ "x-city": [{ key: "X-City", value: "東京" }] }), DOMAIN);
  assert.equal(request.headers.get("x-city"), R.byteString("東京"));
});

test("untouched headers keep their entries: key spelling, keyless entries, whitespace, crumbs, repeats, order", () => {
  const headers = {
    "user-agent": [{ key: "User-Agent", value: "Mozilla/5.0 (Linux; Android 13; 小米 13 Pro)" }],
    accept: [{ value: "*/*" }],
    "x-padded": [{ key: "x-Padded", value: "\t spaced \t" }],
    cookie: [{ key: "cookie", value: "a=1" }, { key: "Cookie", value: " theme=dark " }, { value: "city=東京" }],
    "x-multi": [{ key: "X-Multi", value: "1" }, { key: "x-MULTI", value: "2, 3" }],
  };
  const out = roundTrip(headers);
  assert.deepStrictEqual(out, headers);
  assert.deepStrictEqual(Object.keys(out), Object.keys(headers));
});

test("a header a pattern changed is rewritten as one entry, in UTF-8 again; dropped ones go; new ones come last", () => {
  const headers = {
    host: [{ key: "Host", value: DOMAIN }],
    cookie: [{ key: "Cookie", value: "a=1" }, { key: "cookie", value: "city=東京" }],
    "x-user-id": [{ key: "X-User-Id", value: "spoofed" }],
    accept: [{ key: "Accept", value: "*/*" }],
  };
  const out = roundTrip(headers, (h) => {
    h.set("cookie", `${h.get("cookie")}; ab=B`);
    h.set("x-edgeport-ab", "B");
  });
  assert.deepStrictEqual(out, {
    host: headers.host,
    cookie: [{ key: "Cookie", value: "a=1; city=東京; ab=B" }],
    accept: headers.accept,
    "x-edgeport-ab": [{ key: "x-edgeport-ab", value: "B" }],
  });
  assert.deepStrictEqual(Object.keys(out), ["host", "cookie", "accept", "x-edgeport-ab"]);
});

test("entries Headers refuses even as bytes are carried around it; entry hygiene and patterns still apply", () => {
  const headers = {
    "x-broken": [{ key: "X-Broken", value: "line\nbreak" }],
    "bad name": [{ value: "v" }],
    "x-user-id": [{ key: "X-User-Id", value: "a\u0000b" }],
    "x-set": [{ value: "a\rb" }],
  };
  const cf = record(structuredClone(headers));
  const inbound = R.toRequest(cf, DOMAIN);
  assert.deepStrictEqual([...inbound.aside].sort(), ["bad name", "x-broken", "x-set", "x-user-id"]);
  const out = roundTrip(headers, (h) => h.set("x-set", "by-pattern"));
  assert.deepStrictEqual(out, { "x-broken": headers["x-broken"], "bad name": headers["bad name"], "x-set": [{ key: "x-set", value: "by-pattern" }] });
});

test("the uri goes on as sent unless the engine's path differs from it by more than non-ASCII encoding", () => {
  assert.equal(R.forwardedUri("/images/café/日本.png", "/images/caf%C3%A9/%E6%97%A5%E6%9C%AC.png"), "/images/café/日本.png");
  assert.equal(R.forwardedUri("/people/O'Brien", "/people/O'Brien"), "/people/O'Brien");
  assert.equal(R.forwardedUri("/caf%C3%A9", "/caf%C3%A9"), "/caf%C3%A9");
  // Canonicalisation changed it: the origin gets the path that was checked.
  assert.equal(R.forwardedUri("/public/../api/x", "/api/x"), "/api/x");
  assert.equal(R.forwardedUri("//api//x", "/api/x"), "/api/x");
  assert.equal(R.forwardedUri("/caf%c3%a9", "/caf%C3%A9"), "/caf%C3%A9");
  assert.equal(R.forwardedUri("/%61pi", "/api"), "/api");
  // "?" inside the uri is part of the path the edge matched: sent raw, an origin would split the path there.
  assert.equal(R.forwardedUri("/a?b", "/a%3Fb"), "/a%3Fb");
  // A pattern rewrote it.
  assert.equal(R.forwardedUri("/landing/café", "/b/landing/caf%C3%A9"), "/b/landing/caf%C3%A9");
});

test("the querystring goes on as sent unless the engine changed the query", () => {
  const sent = "name=O'Brien&city=café&q=日本";
  const u = new URL(`https://${DOMAIN}/`);
  u.search = `?${sent}`;
  assert.equal(R.forwardedQuery(sent, u.search, u.search), sent);
  assert.equal(R.forwardedQuery("", "", ""), "");
  assert.equal(R.forwardedQuery(sent, u.search, "?variant=B"), "variant=B");
  assert.equal(R.forwardedQuery(sent, u.search, ""), "");
});

test("an origin is recognised by scheme, host, port and path, custom or S3", () => {
  const u = new URL("https://origin.example.com/v1/");
  // The declared origin as targets/lambda_edge.py event_origin writes it into the bundle.
  const custom = { custom: { customHeaders: {}, domainName: "origin.example.com", keepaliveTimeout: 5, path: "/v1",
    port: 443, protocol: "https", readTimeout: 30, sslProtocols: ["TLSv1.2"] } };
  assert.ok(R.isOrigin(custom, u));
  const withSettings = { custom: { ...custom.custom, customHeaders: { "x-origin-verify": [{ value: "s" }] }, readTimeout: 60, domainName: "Origin.Example.com" } };
  assert.ok(R.isOrigin(withSettings, u));
  assert.ok(!R.isOrigin({ custom: { ...custom.custom, port: 8443 } }, u));
  assert.ok(!R.isOrigin({ custom: { ...custom.custom, protocol: "http", port: 443 } }, u));
  assert.ok(!R.isOrigin({ custom: { ...custom.custom, path: "" } }, u));
  // An S3 origin is the declared one when the bucket domain and path are (OAI and region are its own settings).
  const bucket = { s3: { authMethod: "origin-access-identity", customHeaders: {}, domainName: "my-bucket.s3.amazonaws.com", path: "/s3_path", region: "us-east-1" } };
  assert.ok(R.isOrigin(bucket, new URL("https://my-bucket.s3.amazonaws.com/s3_path")));
  assert.ok(!R.isOrigin(bucket, new URL("https://my-bucket.s3.amazonaws.com")));
  assert.ok(!R.isOrigin(bucket, new URL("http://my-bucket.s3.amazonaws.com/s3_path")));
  assert.ok(!R.isOrigin(bucket, u));
  assert.ok(!R.isOrigin(undefined, u));
  assert.ok(R.isOrigin({ custom: { ...custom.custom, protocol: "http", port: 8080, path: "" } }, new URL("http://o.example.com:8080")) === false);
  assert.ok(R.isOrigin({ custom: { ...custom.custom, domainName: "o.example.com", protocol: "http", port: 8080, path: "" } }, new URL("http://o.example.com:8080")));
  assert.ok(R.isOrigin({ custom: { ...custom.custom, domainName: "o.example.com", protocol: "http", port: 80, path: "" } }, new URL("http://o.example.com")));
});

test("toRequest's direct path for valid entries gives the Headers a probe per name gives; a bad entry sets its name aside whole", () => {
  // The reference: every name through its own probe Headers, as toRequest did for all names before the direct path.
  const reference = (hs) => {
    const out = new Headers();
    const aside = new Set();
    for (const [name, entries] of Object.entries(hs)) {
      const values = entries.map((h) => R.byteString(h.value));
      try {
        const probe = new Headers();
        if (name === "cookie") probe.set(name, values.join("; "));
        else for (const v of values) probe.append(name, v);
        probe.forEach((v, k) => out.append(k, v));
      } catch {
        aside.add(name);
      }
    }
    return { headers: [...out], aside: [...aside].sort() };
  };
  const maps = [
    { accept: [{ value: "text/html" }, { value: " application/json\t" }], "x-city": [{ value: "Zürich" }], "x-tokyo": [{ value: "東京" }] },
    { cookie: [{ key: "Cookie", value: "a=1" }, { key: "cookie", value: "b=2 " }], "set-cookie": [{ value: "s=1" }, { value: "t=2" }] },
    { "x-two": [{ value: "fine" }, { value: "not\nfine" }], "x-ok": [{ value: "" }], "x-tab": [{ value: "a\tb" }] },
    { "bad name": [{ value: "v" }], "x-nul": [{ value: "a\u0000" }], "x-cr": [{ value: "\r" }], "!#$%&'*+.^_`|~": [{ value: "token" }] },
    { "x-latin": [{ value: "\u00ff\u0080" }], "x-emoji": [{ value: "😀" }], "x-space": [{ value: "   " }] },
  ];
  for (const hs of maps) {
    const inbound = R.toRequest(record(structuredClone(hs)), DOMAIN);
    assert.deepStrictEqual({ headers: [...inbound.request.headers], aside: [...inbound.aside].sort() }, reference(hs), JSON.stringify(hs));
  }
  assert.deepStrictEqual([...R.toRequest(record({ "x-two": [{ value: "fine" }, { value: "not\nfine" }] }), DOMAIN).aside], ["x-two"]);
});
