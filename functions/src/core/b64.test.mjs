// Strict base64url (b64.ts): every byte string has exactly one accepted spelling.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { b64urlDecode, b64urlEncode, b64urlEncodeText } = await importTs(new URL("./b64.ts", import.meta.url));

test("round trip over every length 0..64 and every byte value", () => {
  for (let n = 0; n <= 64; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    assert.deepEqual(b64urlDecode(b64urlEncode(bytes)), bytes);
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(b64urlDecode(b64urlEncode(all)), all);
  assert.equal(b64urlEncodeText("ü?>"), "w7w_Pg");
});

test("refused: padding, the standard alphabet, whitespace, impossible lengths, non-zero unused bits", () => {
  for (const bad of ["w7w_Pg==", "w7w/Pg", "w7w+Pg", "w7w_ Pg", "w7w_Pg\n", "A", "AAAAA", "w7w_Ph", "QR", "QUF"]) {
    assert.throws(() => b64urlDecode(bad), TypeError, bad);
  }
  assert.deepEqual(b64urlDecode("QQ"), Uint8Array.of(65));
});

test("agrees with Node's base64url on every 2- and 3-character string, and on random bytes", () => {
  // Node's decoder is lenient (it ignores unused bits); the strict rule is: accepted iff re-encoding gives the input.
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let accepted = 0;
  for (const a of A) for (const b of A) {
    const s2 = a + b;
    const want2 = Buffer.from(s2, "base64url");
    const ok2 = want2.toString("base64url") === s2;
    if (ok2) assert.deepEqual(Buffer.from(b64urlDecode(s2)), want2, s2);
    else assert.throws(() => b64urlDecode(s2), TypeError, s2);
    for (const c of A) {
      const s3 = s2 + c;
      const want3 = Buffer.from(s3, "base64url");
      if (want3.toString("base64url") === s3) {
        accepted++;
        assert.deepEqual(Buffer.from(b64urlDecode(s3)), want3, s3);
      } else assert.throws(() => b64urlDecode(s3), TypeError, s3);
    }
  }
  assert.equal(accepted, 65536); // one spelling per two-byte value
  for (let n = 0; n < 300; n++) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    assert.equal(b64urlEncode(bytes), Buffer.from(bytes).toString("base64url"));
  }
  for (const bad of ["é", "AAé", "AA\u0100A", "AA\u{1F600}"]) assert.throws(() => b64urlDecode(bad), TypeError, bad);
});
