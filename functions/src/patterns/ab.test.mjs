// ab-test's pure parts (ab.ts): which live weights are accepted, how a variant is drawn, how a path is rewritten.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { parseLiveWeights, pick, rewritePath } = await importTs(new URL("./ab.ts", import.meta.url));

const cfg = { variants: [{ name: "control", weight: 50 }, { name: "new", weight: 50 }] };

test("live weights: a JSON object of declared variants with finite, non-negative numbers summing above 0", () => {
  assert.deepEqual([...parseLiveWeights('{"control": 90, "new": 10}', cfg)], [["control", 90], ["new", 10]]);
  // A variant left out gets no traffic (the caller reads a missing name as 0).
  assert.deepEqual([...parseLiveWeights('{"new": 1}', cfg)], [["new", 1]]);
  assert.deepEqual([...parseLiveWeights('{"control": 0.25, "new": 0}', cfg)], [["control", 0.25], ["new", 0]]);
});

test("live weights: anything else is ignored (null: the declared ratios apply)", () => {
  for (const raw of [
    null, "", "not json", "[]", "null", "42", '"control"', "{}", '{"control": 0, "new": 0}', '{"control": -1, "new": 5}',
    '{"control": "50", "new": 50}', '{"control": 50, "other": 50}', '{"control": 1e999}', '{"control": null}',
    '{"__proto__": 5}', '{"control": true}',
  ]) {
    assert.equal(parseLiveWeights(raw, cfg), null, `accepted ${raw}`);
  }
});

test("pick: the draw falls in the variant whose cumulative weight band holds it", () => {
  const w = [["a", 1], ["b", 3], ["c", 0], ["d", 4]]; // bands over 8: a [0,1) b [1,4) d [4,8)
  assert.equal(pick(w, () => 0), "a");
  assert.equal(pick(w, () => 0.124), "a");
  assert.equal(pick(w, () => 0.125), "b");
  assert.equal(pick(w, () => 0.499), "b");
  assert.equal(pick(w, () => 0.5), "d"); // c has weight 0: never drawn, even on its boundary
  assert.equal(pick(w, () => 0.9999999), "d");
});

test("pick: a zero-weight variant is never drawn by the platform's random source", () => {
  const seen = new Map();
  for (let i = 0; i < 4000; i++) {
    const v = pick([["off", 0], ["on", 1], ["also-off", 0]]);
    seen.set(v, (seen.get(v) ?? 0) + 1);
  }
  assert.deepEqual([...seen], [["on", 4000]]);
});

test("rewritePath: {path} is replaced literally, doubled slashes collapse, no template replaces the path", () => {
  assert.equal(rewritePath("/b{path}", "/shop/x"), "/b/shop/x");
  assert.equal(rewritePath("/b/{path}", "/shop"), "/b/shop");
  assert.equal(rewritePath("/v2{path}", "/$&/$1"), "/v2/$&/$1"); // no String.replace specials
  assert.equal(rewritePath("/landing-b", "/anything"), "/landing-b");
});
