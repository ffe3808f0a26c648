// The CloudFront event corpus (issue #16): events from the AWS docs (aws_docs/*.json, facts re-typed) and
// variants generated from them by the rules below, run in ONE Node process against the built Lambda@Edge
// bundles of each stack in the job, every result checked by the CloudFront rule checker
// (functions/platforms/lambda-edge/cloudfront-rules.mjs). Prints one JSON summary line: the corpus size and every failure.
//
// Usage: node run_corpus.mjs job.json, job = {stacks: [{name, bundles: {trigger: path}, entry: {trigger: rules},
// defaultOrigin: url, passThrough: [uri],
// patterned: [{uri, triggers?, headers?, origin?: "kept" | "switched"}], mayChange: [header name]}]}.
//   passThrough: paths no pattern of the stack matches: the result must be deep-equal to the event's request
//                (request triggers) - less the headers the trigger's entry rules drop - or response (origin-response).
//   patterned:   paths a pattern matches: no exception, no 5xx, the checker passes, the querystring stays as
//                sent, and headers outside `mayChange` keep their entries; `origin` says what must happen to the
//                origin object on origin-request ("kept": the event targets the stack's default origin and the
//                pattern chooses it; "switched": a well-formed custom origin with a matching Host).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CloudFrontValidationError, isGeneratedResponse, validateResult } from "../../functions/platforms/lambda-edge/cloudfront-rules.mjs";
import { loadHandler } from "../../functions/platforms/lambda-edge/host.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const DOCS = Object.fromEntries(readdirSync(join(HERE, "aws_docs")).filter((f) => f.endsWith(".json"))
  .map((f) => [f.replace(/\.json$/, ""), JSON.parse(readFileSync(join(HERE, "aws_docs", f), "utf8"))]));

// ESI fetches its shell and fragments from the origin: answer them here, the corpus touches no network.
globalThis.fetch = async (input) => {
  const url = new URL(typeof input === "string" ? input : input.url);
  const body = /shell/.test(url.pathname) ? "<html><body><!--esi:recs--><!--esi:recommendations--><!--esi:cart--></body></html>" : "<p>fragment</p>";
  return new Response(body, { status: 200, headers: { "content-type": "text/html; charset=utf-8" } });
};

const clone = (x) => structuredClone(x);
const docRecord = (name) => DOCS[name].Records[0].cf;

// ---- the generation rules ------------------------------------------------------------------------------
// Each rule names one thing CloudFront may hand a function; the corpus is their product over the paths.

/** Query strings as CloudFront passes them: as the viewer sent them, never re-encoded. */
const QUERIES = {
  none: "",
  doc: "size=large",
  // The characters `new URL` would re-encode in a query: "'" (special-query set) and non-ASCII.
  raw: "name=O'Brien&city=café&q=日本",
  encoded: "q=%E6%97%A5%E6%9C%AC&x=a+b&empty=&flag",
  // Under the 8,192-character limit as sent; percent-encoded it would be ~10,000 characters.
  long: `q=${"日本".repeat(550)}`,
};

/** Header rules: each returns a new header map built from the event's. */
const HEADER_RULES = {
  asIs: (h) => h,
  // CloudFront hands functions UTF-8 decoded header values: Latin-1 and above-U+00FF characters alike.
  nonAscii: (h) => ({
    ...h,
    "user-agent": [{ key: "User-Agent", value: "Mozilla/5.0 (Linux; Android 13; 小米 13 Pro) AppleWebKit/537.36 Chrome/120 Mobile" }],
    "x-city": [{ key: "X-City", value: "東京" }],
    "x-town": [{ key: "X-Town", value: "Zürich" }],
  }),
  // `key` is optional in the event format: "If you do not include the header key portion of the key-value pair,
  // Lambda@Edge will automatically insert a header key using the header name that you provide"
  // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html, headers).
  keyless: (h) => Object.fromEntries(Object.entries(h).map(([k, vs]) => [k, vs.map(({ value }) => ({ value }))])),
  // HTTP/2 sends cookies as several header fields (RFC 9113 §8.2.3): CloudFront hands each as an entry.
  cookieCrumbs: (h) => ({
    ...h,
    cookie: [{ key: "cookie", value: "a=1" }, { key: "cookie", value: "theme=dark" }, { key: "cookie", value: "city=東京" }],
  }),
  whitespace: (h) => ({
    ...h,
    "accept-language": [{ key: "Accept-Language", value: "  en-GB , en;q=0.8  " }],
    "x-padded": [{ key: "x-Padded", value: "\tvalue with tab\t" }],
    cookie: [{ key: "Cookie", value: " a=1 ;  b=2 " }],
  }),
  // A repeated header keeps every entry, in order, with each entry's own spelling.
  repeated: (h) => ({ ...h, "x-multi": [{ key: "X-Multi", value: "1" }, { key: "x-MULTI", value: "2, 3" }] }),
  // Identity headers a viewer may forge: entry hygiene drops them on every path, in every spelling (the trigger's
  // `entry` rules), which is a change the edge means; everything else still comes back as sent.
  spoofedIdentity: (h) => ({
    ...h,
    "x-user-id": [{ key: "X-User-Id", value: "admin" }],
    x_user_id: [{ key: "X_User_Id", value: "東京" }],
    "x-edgeport-claims": [{ key: "X-Edgeport-Claims", value: "e30" }],
  }),
  everything: (h) => HEADER_RULES.keyless(HEADER_RULES.repeated(HEADER_RULES.whitespace(HEADER_RULES.nonAscii(h)))),
};

/** Origins as origin-request and origin-response events carry them. */
const ORIGINS = {
  customDoc: () => clone(docRecord("origin-request-custom-all-fields").request.origin),
  customPlain: () => clone(docRecord("origin-request-custom").request.origin),
  s3Oai: () => clone(docRecord("origin-request-s3").request.origin),
  customVerified: () => ({
    custom: {
      customHeaders: { "x-origin-verify": [{ key: "X-Origin-Verify", value: "s3cr3t" }] },
      domainName: "origin.example.com", keepaliveTimeout: 30, path: "/v1", port: 8443, protocol: "https",
      readTimeout: 60, sslProtocols: ["TLSv1.2"],
    },
  }),
};

/** The stack's default origin as the distribution declares it, plain and with settings added to it by hand. */
function defaultOrigins(url) {
  const u = new URL(url);
  const https = u.protocol === "https:";
  const plain = () => ({
    custom: {
      customHeaders: {}, domainName: u.hostname, keepaliveTimeout: 5, path: u.pathname.replace(/\/$/, ""),
      port: u.port ? Number(u.port) : https ? 443 : 80, protocol: https ? "https" : "http", readTimeout: 30, sslProtocols: ["TLSv1.2"],
    },
  });
  const verified = () => {
    const o = plain();
    Object.assign(o.custom, { customHeaders: { "x-origin-verify": [{ key: "X-Origin-Verify", value: "s3cr3t" }] }, keepaliveTimeout: 60, readTimeout: 55, sslProtocols: ["TLSv1.2", "TLSv1.1"] });
    return o;
  };
  return { defaultPlain: plain, defaultVerified: verified };
}

/**
 * Bodies (request triggers with "include body"; "Lambda@Edge event structure", request body fields):
 * read-only, text or base64, and truncated input.
 */
const BODIES = {
  none: undefined,
  text: { inputTruncated: false, action: "read-only", encoding: "text", data: "name=café&x=1" },
  base64: { inputTruncated: false, action: "read-only", encoding: "base64", data: Buffer.from("日本語のフォーム").toString("base64") },
  truncated: { inputTruncated: true, action: "read-only", encoding: "base64", data: Buffer.alloc(1024, 7).toString("base64") },
};

/** Responses origin-response sees: the docs' examples, an error, and the header rules applied to them. */
const RESPONSES = {
  doc: () => clone(docRecord("origin-response").response),
  setCookies: () => clone(docRecord("viewer-response").response),
  notFound: () => ({ status: "404", statusDescription: "Not Found", headers: { "content-type": [{ key: "Content-Type", value: "text/plain" }] } }),
  nonAscii: () => ({
    status: "200", statusDescription: "OK",
    headers: { "content-disposition": [{ key: "Content-Disposition", value: "attachment; filename=\"日本.pdf\"" }], server: [{ value: " origin " }] },
  }),
};

function baseRequest(trigger) {
  if (trigger === "viewer-request") return clone(docRecord("viewer-request").request);
  return clone(docRecord("origin-request-custom").request);
}

/** Every event of one stack: trigger x uri x query x header rule, with origins, bodies and responses rotated. */
function* eventsFor(stack) {
  const paths = [...stack.passThrough.map((uri) => ({ uri, pass: true })), ...stack.patterned.map((p) => ({ ...p, pass: false }))];
  let n = 0;
  for (const trigger of Object.keys(stack.bundles)) {
    for (const p of paths) {
      if (!p.pass && p.triggers && !p.triggers.includes(trigger)) continue;
      for (const [qName, query] of Object.entries(QUERIES)) {
        for (const [hName, rule] of Object.entries(HEADER_RULES)) {
          n++;
          const request = baseRequest(trigger);
          request.uri = p.uri;
          request.querystring = query;
          request.headers = rule(request.headers);
          for (const [k, v] of Object.entries(p.headers ?? {})) request.headers[k] = [{ key: k, value: v }];
          const names = [qName, hName];
          if (trigger !== "viewer-request") {
            // A path whose pattern keeps the origin gets the stack's default origin, as CloudFront hands it to
            // an origin-request function on every behaviour edgeport creates; other paths any origin.
            const pool = p.origin === "kept" ? defaultOrigins(stack.defaultOrigin) : ORIGINS;
            const oName = Object.keys(pool)[n % Object.keys(pool).length];
            request.origin = pool[oName]();
            names.push(oName);
          }
          let response;
          if (trigger === "origin-response") {
            const rName = Object.keys(RESPONSES)[(n >> 2) % 4];
            response = RESPONSES[rName]();
            if (hName === "keyless" || hName === "whitespace") response.headers = HEADER_RULES[hName](response.headers);
            names.push(rName);
          } else {
            const bName = Object.keys(BODIES)[(n >> 1) % 4];
            if (BODIES[bName]) {
              request.method = "POST";
              request.body = clone(BODIES[bName]);
              names.push(`body-${bName}`);
            }
          }
          const cf = { config: { ...docRecord("viewer-request").config, eventType: trigger }, request };
          if (response) cf.response = response;
          yield { trigger, path: p, name: `${stack.name} ${trigger} ${p.uri} [${names.join(",")}]`, event: { Records: [{ cf }] } };
        }
      }
    }
  }
}

/** The engine's entry rules (core/http.ts entryHeaders), restated: names are compared case-folded with "_" as "-". */
function dropsOnEntry({ strip, keep }) {
  const key = (n) => n.toLowerCase().replace(/_/g, "-");
  return (name) => strip.map(key).includes(key(name)) || (key(name).startsWith("x-edgeport-") && !keep.map(key).includes(key(name)));
}

// ---- the checks ---------------------------------------------------------------------------------------
function check(stack, { trigger, path, event }, out) {
  const input = event; // untouched: the handler got a copy
  validateResult(trigger, input, clone(out));
  const cf = input.Records[0].cf;
  if (trigger === "origin-response") {
    assert.ok(!isGeneratedResponse(out) || out.status === cf.response.status, "origin-response changed the status");
    if (path.pass) assert.deepStrictEqual(out, cf.response, "pass-through response changed");
    return;
  }
  if (isGeneratedResponse(out)) {
    assert.ok(!path.pass, `generated ${out.status} for a path no pattern matches`);
    assert.ok(Number(out.status) < 500, `generated ${out.status}: ${out.body}`);
    return;
  }
  if (path.pass) {
    const expected = clone(cf.request);
    const drops = dropsOnEntry(stack.entry[trigger]);
    for (const k of Object.keys(expected.headers)) if (drops(k)) delete expected.headers[k];
    assert.deepStrictEqual(out, expected, "pass-through request changed");
    return;
  }
  assert.equal(out.querystring, cf.request.querystring, "querystring changed");
  assert.equal(out.method, cf.request.method);
  assert.deepStrictEqual(out.body, cf.request.body, "body changed");
  const may = new Set(stack.mayChange);
  const drops = dropsOnEntry(stack.entry[trigger]);
  for (const [k, vs] of Object.entries(cf.request.headers)) {
    if (drops(k)) assert.ok(!(k in out.headers) || may.has(k), `header ${k} not dropped on entry`);
    else if (!may.has(k)) assert.deepStrictEqual(out.headers[k], vs, `header ${k} changed`);
  }
  if (trigger === "origin-request" && path.origin === "kept") assert.deepStrictEqual(out.origin, cf.request.origin, "origin object replaced");
  if (trigger === "origin-request" && path.origin === "switched") {
    const c = out.origin?.custom;
    assert.ok(c && !out.origin.s3, "a switched origin is one custom origin");
    assert.ok([80, 443].includes(c.port) || (c.port >= 1024 && c.port <= 65535), `port ${c.port}`);
    assert.ok(c.keepaliveTimeout >= 1 && c.keepaliveTimeout <= 60 && c.readTimeout >= 4 && c.readTimeout <= 60, "timeouts");
    assert.equal(out.headers.host?.[0]?.value, c.domainName + ([80, 443].includes(c.port) ? "" : `:${c.port}`), "Host follows the origin");
  }
}

const summary = { events: 0, byTrigger: {}, byStack: {}, failures: [] };
for (const stack of job.stacks) {
  const handlers = Object.fromEntries(Object.entries(stack.bundles).map(([t, file]) => [t, loadHandler(file)]));
  for (const ev of eventsFor(stack)) {
    summary.events++;
    summary.byTrigger[ev.trigger] = (summary.byTrigger[ev.trigger] ?? 0) + 1;
    summary.byStack[stack.name] = (summary.byStack[stack.name] ?? 0) + 1;
    const errors = [];
    const origError = console.error;
    console.error = (...a) => errors.push(a.join(" "));
    try {
      const out = await handlers[ev.trigger](clone(ev.event));
      check(stack, ev, out);
    } catch (e) {
      const kind = e instanceof CloudFrontValidationError ? "checker" : e instanceof assert.AssertionError ? "assert" : "threw";
      summary.failures.push({ name: ev.name, kind, message: String(e.message).split("\n").slice(0, 12).join("\n"), logged: errors.slice(0, 3) });
    } finally {
      console.error = origError;
    }
  }
}
process.stdout.write(JSON.stringify(summary) + "\n");
