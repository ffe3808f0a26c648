// sha256.ts against node:crypto: every message length from 0 to 300 bytes (each padding case: a tail of 0-55
// bytes fits one block, 56-63 need a second; whole blocks), longer random messages, the FIPS 180-4 examples, and
// HMAC with keys shorter than, equal to and longer than the 64-byte block (RFC 2104: a longer key is hashed first),
// including RFC 4231's test cases 1, 2 and 6.
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { sha256, hmacSha256, hmacSha256Key, hmacEqual } = await importTs(new URL("./sha256.ts", import.meta.url));
const hex = (b) => Buffer.from(b).toString("hex");

test("SHA-256 equals node:crypto on every length from 0 to 300 and on long messages", () => {
  for (let n = 0; n <= 300; n++) {
    const m = randomBytes(n);
    assert.equal(hex(sha256(m)), createHash("sha256").update(m).digest("hex"), `length ${n}`);
  }
  for (const n of [1000, 4095, 4096, 65537]) {
    const m = randomBytes(n);
    assert.equal(hex(sha256(m)), createHash("sha256").update(m).digest("hex"), `length ${n}`);
  }
});

test("SHA-256 of the FIPS 180-4 examples", () => {
  const enc = (s) => new TextEncoder().encode(s);
  assert.equal(hex(sha256(enc("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(hex(sha256(enc("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  assert.equal(hex(sha256(enc(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("HMAC-SHA-256 equals node:crypto for keys of every size around the block and messages of many lengths", () => {
  for (const kn of [0, 1, 16, 32, 63, 64, 65, 100, 131, 200]) {
    const raw = randomBytes(kn);
    const key = hmacSha256Key(raw);
    for (let n = 0; n <= 200; n += 7) {
      const m = randomBytes(n);
      assert.equal(hex(hmacSha256(key, m)), createHmac("sha256", raw).update(m).digest("hex"), `key ${kn}, length ${n}`);
    }
  }
});

test("HMAC-SHA-256 of RFC 4231 test cases 1, 2 and 6", () => {
  const enc = (s) => new TextEncoder().encode(s);
  const cases = [
    [new Uint8Array(20).fill(0x0b), enc("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [enc("Jefe"), enc("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    [new Uint8Array(131).fill(0xaa), enc("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
  ];
  for (const [k, m, want] of cases) assert.equal(hex(hmacSha256(hmacSha256Key(k), m)), want);
});

test("hmacEqual: equal bytes only, and never across lengths", () => {
  const a = randomBytes(32);
  assert.equal(hmacEqual(a, Uint8Array.from(a)), true);
  for (let i = 0; i < 32; i++) {
    const b = Uint8Array.from(a);
    b[i] ^= 1 << (i % 8);
    assert.equal(hmacEqual(a, b), false, `byte ${i}`);
  }
  assert.equal(hmacEqual(a, a.subarray(0, 31)), false);
  assert.equal(hmacEqual(new Uint8Array(0), new Uint8Array(0)), true);
});
