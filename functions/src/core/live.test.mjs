// Live settings, stale-while-revalidate (src/core/live.ts): once a value is known no call waits on the store;
// the first read waits at most timeoutMs (0: not at all); a failed read keeps the last known value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { liveValue } = await importTs(new URL("./live.ts", import.meta.url));

/** A store whose reads stay pending until the test answers them; a clock the test moves. */
function fakePlatform() {
  const reads = [];
  const kept = [];
  const platform = {
    t: 1_000_000,
    now: () => platform.t,
    live: (key) =>
      new Promise((resolve, reject) => {
        reads.push({ key, resolve, reject });
      }),
    waitUntil: (p) => kept.push(p),
    secret: async () => "",
  };
  return { platform, reads, kept };
}

const settled = () => new Promise((r) => setImmediate(r));
let n = 0;
const freshKey = () => `k${++n}`;

test("with timeoutMs 0 the first call does not wait: null now, the value once the read lands", async () => {
  const { platform, reads } = fakePlatform();
  const key = freshKey();
  assert.equal(await liveValue(platform, key, 1000, 0), null);
  assert.equal(reads.length, 1);
  assert.equal(await liveValue(platform, key, 1000, 0), null, "still pending: declared ratios, no second read");
  assert.equal(reads.length, 1);
  reads[0].resolve("v1");
  await settled();
  assert.equal(await liveValue(platform, key, 1000, 0), "v1");
});

test("the first call waits for the read up to timeoutMs", async () => {
  const { platform, reads } = fakePlatform();
  const key = freshKey();
  const first = liveValue(platform, key, 1000, 10_000);
  await settled();
  reads[0].resolve("v1");
  assert.equal(await first, "v1");
  const slow = freshKey();
  assert.equal(await liveValue(platform, slow, 1000, 5), null, "a read slower than timeoutMs: null");
});

test("a stale value is returned at once while one background refresh runs", async () => {
  const { platform, reads, kept } = fakePlatform();
  const key = freshKey();
  const first = liveValue(platform, key, 1000, 10_000);
  reads[0].resolve("v1");
  assert.equal(await first, "v1");
  platform.t += 1001; // stale
  assert.equal(await liveValue(platform, key, 1000, 10_000), "v1", "no wait on a refresh");
  assert.equal(await liveValue(platform, key, 1000, 10_000), "v1");
  assert.equal(reads.length, 2, "one refresh for many stale calls");
  assert.ok(kept.length >= 2, "refreshes are handed to waitUntil");
  reads[1].resolve("v2");
  await settled();
  assert.equal(await liveValue(platform, key, 1000, 10_000), "v2", "picked up by the next call");
  assert.equal(reads.length, 2, "fresh again: no read");
});

test("a failed refresh keeps the last known value and retries after min(ttl, 5 s)", async () => {
  const { platform, reads } = fakePlatform();
  const key = freshKey();
  const first = liveValue(platform, key, 60_000, 10_000);
  reads[0].resolve("v1");
  await first;
  platform.t += 60_001;
  await liveValue(platform, key, 60_000, 10_000);
  reads[1].reject(new Error("store down"));
  await settled();
  assert.equal(await liveValue(platform, key, 60_000, 10_000), "v1");
  assert.equal(reads.length, 2, "no retry within 5 s");
  platform.t += 5_001;
  assert.equal(await liveValue(platform, key, 60_000, 10_000), "v1");
  assert.equal(reads.length, 3);
});

test("a read pending for 30 s is taken as lost and replaced; its late answer does not overwrite", async () => {
  const { platform, reads } = fakePlatform();
  const key = freshKey();
  await liveValue(platform, key, 1000, 0);
  platform.t += 29_000;
  await liveValue(platform, key, 1000, 0);
  assert.equal(reads.length, 1);
  platform.t += 1_001;
  await liveValue(platform, key, 1000, 0);
  assert.equal(reads.length, 2);
  reads[1].resolve("new");
  await settled();
  reads[0].resolve("old");
  await settled();
  assert.equal(await liveValue(platform, key, 1000, 0), "new");
});
