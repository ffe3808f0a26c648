// Which Region a Lambda@Edge replica reads a replicated secret from (aws-regions.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { nearestRegion, NEAREST } = await importTs(new URL("./aws-regions.ts", import.meta.url));

// edgeport's default secretRegions (components/edgeport/spec/aws_regions.py), primary first
const DEFAULT = ["us-east-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
  "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1"];

test("the Region the function runs in, when it holds the secret", () => {
  for (const r of DEFAULT) assert.equal(nearestRegion(r, DEFAULT), r);
});

test("else the nearest Region of the table that holds it", () => {
  assert.equal(nearestRegion("eu-west-3", DEFAULT), "eu-west-2");
  assert.equal(nearestRegion("eu-north-1", DEFAULT), "eu-central-1");
  assert.equal(nearestRegion("ap-southeast-4", DEFAULT), "ap-southeast-2");
  assert.equal(nearestRegion("ap-northeast-3", DEFAULT), "ap-northeast-1");
  assert.equal(nearestRegion("us-west-1", DEFAULT), "us-west-2");
  assert.equal(nearestRegion("me-central-1", DEFAULT), "ap-south-1");
  assert.equal(nearestRegion("ca-central-1", DEFAULT), "us-east-1");
});

test("every Region outside the default set has a default Region among its neighbours", () => {
  for (const [region, near] of Object.entries(NEAREST)) {
    assert.ok(!near.includes(region), `${region} lists itself`);
    if (!DEFAULT.includes(region)) assert.ok(near.some((r) => DEFAULT.includes(r)), `${region}: no default Region among ${near}`);
  }
});

test("Regions the table does not know, or Regions chosen by hand: same prefix, then the primary", () => {
  assert.equal(nearestRegion("ap-southeast-9", DEFAULT), "ap-southeast-1", "same area and direction, configured order");
  assert.equal(nearestRegion("eu-east-1", DEFAULT), "eu-central-1", "same area");
  assert.equal(nearestRegion("xx-west-1", DEFAULT), "us-east-1");
  assert.equal(nearestRegion("eu-north-1", ["us-east-1", "eu-west-3"]), "eu-west-3", "a hand-picked Region of the same area");
  assert.equal(nearestRegion("eu-west-3", ["us-east-1"]), "us-east-1", "no replicas: the primary");
});

test("no AWS_REGION (not on Lambda): the primary", () => {
  assert.equal(nearestRegion(undefined, DEFAULT), "us-east-1");
  assert.equal(nearestRegion("", DEFAULT), "us-east-1");
});
