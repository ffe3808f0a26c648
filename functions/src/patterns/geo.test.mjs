// geo-route's origin choice (geo.ts originFor): the table, the default for known countries, the fallback for
// everything that is not a usable ISO 3166-1 alpha-2 code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "../../test/ts.mjs";

const { originFor } = await importTs(new URL("./geo.ts", import.meta.url));

const cfg = { countries: { DE: "eu", FR: "eu", US: "us" }, default: "us", fallback: "eu", header: "x-country" };
const KNOWN = " DE FR US JP BR GB ";

test("a mapped country goes to its origin; the code is normalised (case, surrounding space)", () => {
  assert.deepEqual(originFor(cfg, KNOWN, "DE"), { origin: "eu", country: "DE" });
  assert.deepEqual(originFor(cfg, KNOWN, "us"), { origin: "us", country: "US" });
  assert.deepEqual(originFor(cfg, KNOWN, " fr "), { origin: "eu", country: "FR" });
});

test("a real but unmapped country goes to the default origin", () => {
  assert.deepEqual(originFor(cfg, KNOWN, "JP"), { origin: "us", country: "JP" });
});

test("no data, Tor, malformed and unassigned codes go to the fallback as 'unknown'", () => {
  for (const raw of [undefined, null, "", "XX", "T1", "t1", "D", "DEU", "D3", "1A", "ZZ", "Ü", "E\u0301", "D E"]) {
    assert.deepEqual(originFor(cfg, KNOWN, raw), { origin: "eu", country: "unknown" }, `for ${JSON.stringify(raw)}`);
  }
});

test("the known-code list is matched whole, never as a substring", () => {
  // "E " and " G" occur in the list but are not codes; a two-letter window across codes ("EF") is not either.
  assert.deepEqual(originFor(cfg, KNOWN, "EF"), { origin: "eu", country: "unknown" });
  assert.deepEqual(originFor(cfg, " DEFR ", "EF"), { origin: "eu", country: "unknown" });
});
