// Which Region a Lambda@Edge replica reads a replicated secret from (aws-regions.ts): the rule's four steps. The
// table of nearby Regions and the per-stack answers built from it (step 2) are Python's
// (components/edgeport/spec/aws_regions.py), tested in tests/test_aws_regions.py; here `nearest` is such a map.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { nearestRegion } = await importTs(new URL("./aws-regions.ts", import.meta.url));

// edgeport's default secretRegions (components/edgeport/spec/aws_regions.py), primary first
const DEFAULT = ["us-east-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
  "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1"];
// a few of nearest_holders(DEFAULT)'s answers
const NEAR = { "eu-west-3": "eu-west-2", "eu-north-1": "eu-central-1", "me-central-1": "ap-south-1", "ca-central-1": "us-east-1" };

test("the Region the function runs in, when it holds the secret", () => {
  for (const r of DEFAULT) assert.equal(nearestRegion(r, DEFAULT, NEAR), r);
});

test("else the build's answer for that Region", () => {
  for (const [running, holder] of Object.entries(NEAR)) assert.equal(nearestRegion(running, DEFAULT, NEAR), holder);
});

test("an answer naming a Region that does not hold the secret is not followed", () => {
  assert.equal(nearestRegion("eu-west-3", ["us-east-1", "eu-central-1"], { "eu-west-3": "eu-west-2" }), "eu-central-1");
});

test("Regions without an answer, or Regions chosen by hand: same prefix, then the primary", () => {
  assert.equal(nearestRegion("ap-southeast-9", DEFAULT, NEAR), "ap-southeast-1", "same area and direction, configured order");
  assert.equal(nearestRegion("eu-east-1", DEFAULT, NEAR), "eu-central-1", "same area");
  assert.equal(nearestRegion("xx-west-1", DEFAULT, NEAR), "us-east-1");
  assert.equal(nearestRegion("eu-north-1", ["us-east-1", "eu-west-3"]), "eu-west-3", "a hand-picked Region of the same area");
  assert.equal(nearestRegion("eu-west-3", ["us-east-1"]), "us-east-1", "no replicas: the primary");
  // an inherited name is no answer (the map is plain JSON from the config)
  assert.equal(nearestRegion("constructor", DEFAULT, NEAR), "us-east-1");
});

test("no AWS_REGION (not on Lambda): the primary", () => {
  assert.equal(nearestRegion(undefined, DEFAULT, NEAR), "us-east-1");
  assert.equal(nearestRegion("", DEFAULT, NEAR), "us-east-1");
});
