// Background refreshes: the newest answer wins, however the replies come back.
import assert from "node:assert/strict";
import { test } from "node:test";

import { freshest } from "../../src/schoolgate_gateway/static/core/live.js";
import { uid } from "../../src/schoolgate_gateway/static/core/dom.js";

test("a slow old answer is never shown over a newer one", async () => {
  const replies = [];
  const shown = [];
  const refresh = freshest(
    (position) => new Promise((resolve) => replies.push(() => resolve(`after ${position}`))),
    (value) => shown.push(value),
  );
  const first = refresh(3);
  const second = refresh(5);
  replies[1]();
  await second;
  replies[0]();
  await first;
  assert.deepEqual(shown, ["after 5"]);
});

test("it asks for at least the newest position heard of, never an older one", async () => {
  const asked = [];
  const refresh = freshest(async (position) => asked.push(position), () => {});
  await refresh(7);
  await refresh(2);
  await refresh(undefined);
  await refresh("not a number");
  await refresh(9);
  assert.deepEqual(asked, [7, 7, 7, 7, 9]);
});

test("element ids are unique on the page", () => {
  const made = new Set(Array.from({ length: 50 }, () => uid("field")));
  assert.equal(made.size, 50);
  for (const id of made) assert.match(id, /^field-\d+$/);
});
