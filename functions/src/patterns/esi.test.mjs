// esi-compose's slot streamer (esi.ts compose): markers found wherever the chunk boundaries fall, bytes before a
// slot sent before the slot's fragment is ready, unknown markers left as they are.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { compose } = await importTs(new URL("./esi.ts", import.meta.url));

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A shell body delivered in the given chunks (strings or raw byte arrays). */
function body(chunks) {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(typeof x === "string" ? enc.encode(x) : x);
      c.close();
    },
  });
}
async function text(stream) {
  let out = "";
  for await (const chunk of stream) out += dec.decode(chunk, { stream: true });
  return out + dec.decode();
}
const slots = (o) => new Map(Object.entries(o).map(([k, v]) => [k, Promise.resolve(v)]));

const SHELL = "<html><body><!--esi:header--><main>ü</main><!-- esi:cart --></body></html>";
const WANT = "<html><body><h1>Hi</h1><main>ü</main>[2 items]</body></html>";

test("every split of the shell into two and three chunks composes the same page", async () => {
  const bytes = enc.encode(SHELL); // split on bytes: also inside the two-byte "ü"
  for (let i = 1; i < bytes.length; i++) {
    const got = await text(compose(body([bytes.slice(0, i), bytes.slice(i)]), slots({ header: "<h1>Hi</h1>", cart: "[2 items]" })));
    assert.equal(got, WANT, `split at byte ${i}`);
  }
  for (let i = 1; i < bytes.length - 1; i += 3) {
    for (let j = i + 1; j < bytes.length; j += 5) {
      const got = await text(compose(body([bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)]), slots({ header: "<h1>Hi</h1>", cart: "[2 items]" })));
      assert.equal(got, WANT, `split at ${i}, ${j}`);
    }
  }
});

test("one byte per chunk still finds every marker", async () => {
  const chunks = [...enc.encode(SHELL)].map((b) => Uint8Array.of(b));
  assert.equal(await text(compose(body(chunks), slots({ header: "<h1>Hi</h1>", cart: "[2 items]" }))), WANT);
});

test("a marker without a fragment, a malformed marker and a plain comment pass through unchanged", async () => {
  const shell = "a<!--esi:unknown-->b<!--esi:bad name-->c<!-- note -->d<!--esi:x-->";
  assert.equal(await text(compose(body([shell]), slots({ x: "X" }))), "a<!--esi:unknown-->b<!--esi:bad name-->c<!-- note -->dX");
});

test("what precedes a slot is sent before the slot's fragment is ready", async () => {
  let release;
  const late = new Promise((r) => (release = r));
  const reader = compose(body(["<head>early</head><!--esi:slow--><p>after</p>"]), new Map([["slow", late]])).getReader();
  const first = await reader.read();
  assert.equal(dec.decode(first.value), "<head>early</head>");
  release("SLOW");
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += dec.decode(value);
  }
  assert.equal(rest, "SLOW<p>after</p>");
});

test("a page without markers is passed through whole, including a trailing '<!--' that never closes", async () => {
  const page = "x".repeat(1000) + "<!--";
  assert.equal(await text(compose(body([page.slice(0, 500), page.slice(500)]), slots({}))), page);
});
