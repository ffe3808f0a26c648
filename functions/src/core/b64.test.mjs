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
