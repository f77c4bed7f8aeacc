// Words and dates as people read them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { newId } from "../../src/schoolgate_gateway/static/core/ids.js";
import { addDays, countOf, dayOf, isoDay, listOf, points, readableCode, sameId, sentence, slugOf, wayName } from "../../src/schoolgate_gateway/static/core/words.js";

// West of Greenwich, a date parsed as UTC midnight is the day before: the bug dayOf avoids.
process.env.TZ = "America/New_York";

test("a school date stays its own day in any timezone, across month ends and clock changes", () => {
  assert.equal(isoDay(dayOf("2026-03-29")), "2026-03-29");
  assert.equal(addDays("2026-03-28", 1), "2026-03-29"); // clocks go forward in the UK
  assert.equal(addDays("2026-10-25", 1), "2026-10-26"); // and back
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  assert.equal(addDays("2028-03-01", -1), "2028-02-29");
  assert.equal(isoDay(dayOf("2026-05-04T23:30:00+00:00")), "2026-05-04");
});

test("counts, lists and sentences read as English", () => {
  assert.equal(points(1), "point");
  assert.equal(points(0), "points");
  assert.equal(countOf(1, "photo"), "1 photo");
  assert.equal(countOf(2, "child", "children"), "2 children");
  assert.equal(listOf(["Ada", "Ben", "Cy"]), "Ada, Ben and Cy");
  assert.equal(sentence("the file is too big"), "The file is too big.");
  assert.equal(sentence("Really?"), "Really?");
  assert.equal(slugOf({ type: "https://schoolgate.example/problems/not-your-school" }), "not-your-school");
  assert.equal(slugOf(null), "");
});

test("a value's name is the school's, or its id made readable", () => {
  assert.equal(wayName("kind", { kind: "Kindness" }), "Kindness");
  assert.equal(wayName("working_hard-together", {}), "Working hard together");
});

test("an invite code reads in two halves; anything else is left as typed, in capitals", () => {
  assert.equal(readableCode("abcde 12345"), "ABCDE-12345");
  assert.equal(readableCode(" short1 "), "SHORT1");
});

test("ids of our own are version-4 uuids, each new", () => {
  const made = new Set(Array.from({ length: 200 }, newId));
  assert.equal(made.size, 200);
  for (const id of made) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(sameId("0f0f0f0f-0000-4000-8000-000000000000", "0f0f0f0f000040008000000000000000"));
  assert.ok(!sameId("a-b", "ac"));
});
