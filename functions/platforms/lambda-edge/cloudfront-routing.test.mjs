// CloudFront's routing as the local emulation applies it (cloudfront-routing.mjs): path patterns,
// first match in order, the default behaviour, and the Host check.
import assert from "node:assert/strict";
import { test } from "node:test";
import { behaviourFor, hostRefusal, pathPatternMatches } from "./cloudfront-routing.mjs";

test("path patterns: case-sensitive, * any run, ? one character, leading slash optional", () => {
  assert.ok(pathPatternMatches("/api/*", "/api/x/y"));
  assert.ok(pathPatternMatches("/api/*", "/api/"));
  assert.ok(!pathPatternMatches("/api/*", "/api"));
  assert.ok(!pathPatternMatches("/api/*", "/API/x"), "CloudFront path patterns are case-sensitive");
  assert.ok(pathPatternMatches("/account", "/account") && !pathPatternMatches("/account", "/account/"));
  assert.ok(pathPatternMatches("/img/?.png", "/img/a.png") && !pathPatternMatches("/img/?.png", "/img/ab.png"));
  assert.ok(pathPatternMatches("images/*", "/images/a"));
  assert.ok(pathPatternMatches("/a.b", "/a.b") && !pathPatternMatches("/a.b", "/axb"), "only * and ? are wildcards");
});

test("the first behaviour in order wins; everything else takes the default", () => {
  const routing = {
    behaviours: [{ pathPattern: "/api/public/*", events: [] }, { pathPattern: "/api/*", events: ["viewer-request"], country: true }],
    default: { events: ["origin-request"] },
  };
  assert.deepEqual(behaviourFor(routing, "/api/public/x").events, []);
  assert.deepEqual(behaviourFor(routing, "/api/x"), { pathPattern: "/api/*", events: ["viewer-request"], country: true });
  assert.deepEqual(behaviourFor(routing, "//api/x"), { pathPattern: "*", events: ["origin-request"], country: false });
  assert.deepEqual(behaviourFor(routing, "/API/x").events, ["origin-request"]);
});

test("CloudFront serves only its own hosts", () => {
  const served = ["d111111abcdef8.cloudfront.net", "cdn.shop.example.com", "127.0.0.1:8789"];
  assert.equal(hostRefusal("d111111abcdef8.cloudfront.net", served), null);
  assert.equal(hostRefusal("CDN.shop.example.com", served), null);
  assert.equal(hostRefusal("cdn.shop.example.com:443", served), null);
  assert.equal(hostRefusal("127.0.0.1:8789", served), null);
  assert.equal(hostRefusal("127.0.0.1:9999", served), 403);
  assert.equal(hostRefusal("evil.example", served), 403);
  for (const bad of [undefined, "", "x/public?", "x#", "a b", "user@host", "x\\y"]) assert.equal(hostRefusal(bad, served), 400, String(bad));
});
