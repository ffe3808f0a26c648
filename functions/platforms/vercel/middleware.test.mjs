// middleware.ts writes the same responses as @vercel/functions' next() and rewrite() (the package it stands in
// for, kept as the oracle): status, body and every header, for next and rewrite, with and without replaced request
// headers and response headers, including odd-but-legal header values.
import assert from "node:assert/strict";
import { test } from "node:test";
import { next, rewrite } from "@vercel/functions/middleware";
import { importTs } from "../../test/ts.mjs";

const { goOn } = await importTs(new URL("./middleware.ts", import.meta.url));

const dump = async (res) => ({ status: res.status, body: await res.text(), headers: [...res.headers] });

const requests = [
  undefined,
  new Headers(),
  new Headers({ "x-user-id": "u%C3%A9", cookie: "a=1; b=2", "x-edgeport-claims": "eyJzdWIiOiJ1In0" }),
  new Headers([["accept", "text/html"], ["accept", "application/json"], ["x-forwarded-for", "203.0.113.7"]]),
];
const responses = [undefined, new Headers(), new Headers({ "set-cookie": "ab=b; Path=/; HttpOnly", vary: "cookie" })];

test("next and rewrite answer exactly as @vercel/functions does", async () => {
  let n = 0;
  for (const request of requests) {
    for (const headers of responses) {
      const init = { ...(request ? { request: { headers: request } } : {}), ...(headers ? { headers } : {}) };
      assert.deepEqual(await dump(goOn(null, headers, request)), await dump(next(init)));
      const to = "https://eu.origin.example/shop/caf%C3%A9?x=1&y=%20";
      assert.deepEqual(await dump(goOn(to, headers, request)), await dump(rewrite(to, init)));
      assert.deepEqual(await dump(goOn(new URL(to), headers, request)), await dump(rewrite(new URL(to), init)));
      n += 3;
    }
  }
  assert.equal(n, 36);
});
