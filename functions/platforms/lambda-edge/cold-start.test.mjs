// What a Lambda@Edge container loads at cold start: the AWS SDK's Secrets Manager client (tens of ms of require)
// only when the bundle's config declares a secret, i.e. when one of the bundle's patterns needs one (the spec layer
// puts only those in `secrets`: edgeport.spec.runtime.runtime_config). A stack whose tokens are RS256/ES256 with
// inline keys never loads it; an HS256 one starts reading its secret while the container loads.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildBundles } from "../../build.mjs";

const HOST = fileURLToPath(new URL("./host.mjs", import.meta.url));
const jwt = (over) => ({
  name: "auth", type: "jwt-auth", routes: [{ prefix: "/" }], guard: true, leeway: 0, requireExp: true, requiredClaims: [],
  token: { header: "authorization", scheme: "Bearer" }, forward: { claims: {}, token: false }, realm: "api", maxTokenBytes: 8192,
  ...over,
});
const config = (pattern, secrets) => ({
  version: 1, app: "t", stack: "s", target: "lambda-edge", event: "viewer-request", secrets, secretTtl: 300,
  origins: { default: "https://origin.example.com" }, entry: { strip: [], keep: [] }, patterns: [pattern],
});
const RS_KEY = { ...generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" }), kid: "k1" };
const HS = jwt({ algorithms: ["HS256"], hmac: { secret: "jwt_hmac", encoding: "utf8" } });
const RS = jwt({ algorithms: ["RS256"], jwks: { keys: [RS_KEY] } });
const SECRETS = { jwt_hmac: { env: "EDGEPORT_SECRET_JWT_HMAC", awsSecretId: "edgeport/t/s/jwt_hmac", awsRegions: ["us-east-1"] } };

// In a fresh process (its own module cache): load the bundle as Lambda would, let the load's own promise jobs run,
// answer one request, then report which AWS SDK packages are loaded.
const PROBE = `
const { createRequire } = require("node:module");
import(${JSON.stringify(new URL("./host.mjs", import.meta.url).href)}).then(async ({ loadHandler, makeEvent }) => {
  const handler = loadHandler(process.argv[1], { console: { log() {}, warn() {}, error() {} } });
  await new Promise((r) => setImmediate(r));
  const atLoad = Object.keys(createRequire(${JSON.stringify(HOST)}).cache).some((k) => k.includes("@aws-sdk"));
  const res = await handler(makeEvent("viewer-request", { clientIp: "203.0.113.1", method: "GET", uri: "/x", querystring: "",
    headers: { host: [{ key: "Host", value: "d.cloudfront.net" }] } }));
  process.stdout.write(JSON.stringify({ atLoad, status: res.status }));
  process.exit(0);
});`;

test("only a bundle that declares a secret loads the AWS SDK at cold start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edgeport-cold-"));
  await buildBundles({ outDir: dir, bundles: [{ target: "lambda-edge", outfile: "engine.js", known: ["geo-route", "jwt-auth", "ab-test", "esi-compose", "realtime-room"], patterns: ["jwt-auth"] }] });
  const engine = readFileSync(join(dir, "engine.js"), "utf8");
  const probe = (name, cfg) => {
    // The config declared in front of the engine, as the build layer does (components/edgeport/build/engine.py).
    writeFileSync(join(dir, name), `"use strict";const __EDGEPORT_CONFIG__=(${JSON.stringify(cfg)});\n${engine}`);
    // The store is a closed local port and the credentials are fixed: a read fails at once, nothing leaves the host.
    const env = { ...process.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:9", AWS_ACCESS_KEY_ID: "test",
                  AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };
    const p = spawnSync(process.execPath, ["-e", PROBE, join(dir, name)], { env, encoding: "utf8", timeout: 60_000 });
    assert.equal(p.status, 0, p.stderr);
    return JSON.parse(p.stdout);
  };
  // RS256 with an inline key: no secret in the config, no SDK, and the request (no token) is answered 401.
  assert.deepEqual(probe("rs.js", config(RS, {})), { atLoad: false, status: "401" });
  // HS256: the container starts reading its secret while it loads, so a warm container never waits on the store.
  assert.deepEqual(probe("hs.js", config(HS, SECRETS)), { atLoad: true, status: "401" });
});
