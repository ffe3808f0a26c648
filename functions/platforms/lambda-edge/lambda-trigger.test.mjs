// A Lambda@Edge bundle answers only the CloudFront trigger it was built for: associated
// elsewhere (e.g. auth on origin-request, which cache hits skip) it fails closed with 503.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildBundles } from "../../build.mjs";
import { loadHandler, makeEvent } from "./host.mjs";

const config = (event) => ({
  version: 1, app: "t", stack: "s", target: "lambda-edge", event, secrets: {}, origins: { default: "https://origin.example.com" },
  countries: " DE ", entry: { strip: [], keep: [] },
  patterns: [{ name: "geo", type: "geo-route", routes: [{ prefix: "/" }], countries: { DE: "default" },
    default: "default", fallback: "default", header: "x-edgeport-geo" }],
});

test("a bundle invoked for another trigger refuses with 503", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edgeport-trigger-"));
  // The engine with only geo-route, then the config declared in front of it as the build layer does
  // (components/edgeport/build/engine.py inject(): JSON is a valid literal there).
  await buildBundles({ outDir: dir, bundles: [{ target: "lambda-edge", outfile: "engine.js", known: ["geo-route", "jwt-auth", "ab-test", "esi-compose", "realtime-room"], patterns: ["geo-route"] }] });
  const engine = readFileSync(join(dir, "engine.js"), "utf8");
  writeFileSync(join(dir, "or.js"), `"use strict";const __EDGEPORT_CONFIG__=(${JSON.stringify(config("origin-request"))});\n${engine}`);
  const handler = loadHandler(join(dir, "or.js"));
  const request = { clientIp: "203.0.113.1", method: "GET", uri: "/x", querystring: "", headers: { host: [{ key: "Host", value: "d.cloudfront.net" }] } };
  const wrong = await handler(makeEvent("viewer-request", structuredClone(request)));
  assert.equal(wrong.status, "503");
  const right = await handler(makeEvent("origin-request", { ...structuredClone(request), origin: { custom: { domainName: "origin.example.com", port: 443, protocol: "https", path: "", customHeaders: {}, keepaliveTimeout: 5, readTimeout: 30, sslProtocols: ["TLSv1.2"] } } }));
  assert.equal(right.uri, "/x");
  assert.equal(right.origin.custom.domainName, "origin.example.com");
});
