// The canonical path policy (src/core/path.ts, docs/jwt.md "Paths"), on pathnames as the WHATWG URL parser
// leaves them - the form every runtime hands the engine.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { canonicalPath, matchKey, removeDotSegments } = await importTs(new URL("./path.ts", import.meta.url));
const { routeMatches, guardMatches, patternCovers } = await importTs(new URL("./config.ts", import.meta.url));

// As runtimes build request.url: the request target appended to the origin (never resolved as a reference).
const parsed = (raw) => new URL(`https://edge.example${raw}`).pathname;
const canon = (raw) => {
  const r = canonicalPath(parsed(raw));
  return r.ok ? r.path : `400: ${r.reason}`;
};

test("unreserved escapes are decoded, others kept with upper-case hex", () => {
  assert.equal(canon("/%61pi/x"), "/api/x");
  assert.equal(canon("/acc%6Funt"), "/account");
  assert.equal(canon("/a%7eb%2D%5f"), "/a~b-_");
  assert.equal(canon("/q%3fx%23y%20z"), "/q%3Fx%23y%20z");
  assert.equal(canon("/caf%c3%a9"), "/caf%C3%A9");
  assert.equal(canon("/café"), "/caf%C3%A9");
});

test("slash runs merge and dot segments resolve, also once decoded", () => {
  assert.equal(canon("//api/x"), "/api/x");
  assert.equal(canon("/api///x//"), "/api/x/");
  assert.equal(canon("/public/../api/x"), "/api/x");
  assert.equal(canon("/public/%2e%2e/api/x"), "/api/x");
  assert.equal(canon("/public/.%2E/api/x"), "/api/x");
  assert.equal(canon("/a/./b/."), "/a/b/");
  assert.equal(canon("\\api\\x"), "/api/x");
  assert.equal(removeDotSegments("/a/b/../../../c"), "/c");
  assert.equal(removeDotSegments("/a/.."), "/");
});

test("spellings an origin could route elsewhere are refused", () => {
  for (const raw of ["/api%2fx", "/api%2Fx", "/api%5cx", "/api;x", "/api/x;jsessionid=1", "/a%00b", "/a%0d%0ab",
    "/a%7f", "/a%zz", "/a%", "/%2561pi/x", "/a%252f", "/%c0%af", "/%ff", "/%e2%82"]) {
    assert.match(canon(raw), /^400: /, raw);
  }
  // A "%" that starts a valid escape of "%" followed by non-hex stays a literal percent sign.
  assert.equal(canon("/100%25off"), "/100%25off");
});

test("the canonical form is a fixed point", () => {
  for (const raw of ["/%61pi//x/", "/a/../b/%7e", "/caf%c3%a9/./x", "/"]) {
    const once = canon(raw);
    assert.equal(canon(once), once, raw);
  }
});

test("route keys fold case and a trailing / or .", () => {
  assert.equal(matchKey("/Account/"), "/account");
  assert.equal(matchKey("/account./"), "/account");
  assert.equal(matchKey("/"), "/");
  assert.equal(matchKey("/..."), "/");
});

test("guard routes cover every spelling leniently; other routes and exclusions only their exact spelling", () => {
  const exact = { exact: "/account" };
  const prefix = { prefix: "/api/" };
  for (const p of ["/account", "/Account", "/ACCOUNT/", "/account.", "/account./"]) assert.ok(guardMatches(exact, p), p);
  for (const p of ["/accounts", "/account/x", "/acc"]) assert.ok(!guardMatches(exact, p), p);
  for (const p of ["/api/x", "/API/x", "/Api/", "/api", "/api.", "/api/x/y"]) assert.ok(guardMatches(prefix, p), p);
  for (const p of ["/apix", "/ap", "/v1/api/x"]) assert.ok(!guardMatches(prefix, p), p);
  assert.ok(guardMatches({ prefix: "/" }, "/anything"));
  assert.ok(routeMatches(prefix, "/api/x") && !routeMatches(prefix, "/API/x") && !routeMatches(prefix, "/api"));
  assert.ok(routeMatches(exact, "/account") && !routeMatches(exact, "/account/"));
  const denyByDefault = { guard: true, routes: [{ prefix: "/" }], exclude: [{ prefix: "/public/" }, { exact: "/healthz" }] };
  assert.ok(!patternCovers(denyByDefault, "/public/a.css"));
  assert.ok(!patternCovers(denyByDefault, "/healthz"));
  for (const p of ["/Public/a.css", "/healthz/", "/HEALTHZ", "/api/x", "/"]) assert.ok(patternCovers(denyByDefault, p), p);
  const ab = { routes: [{ exact: "/landing" }] };
  assert.ok(patternCovers(ab, "/landing") && !patternCovers(ab, "/Landing"));
});
