// The school's clock in plain words, whatever the phone's timezone.
import assert from "node:assert/strict";
import { test } from "node:test";

import { replyAfterWords, sentWhen, todayIn } from "../../src/schoolgate_gateway/static/core/school-time.js";

// A phone in New York reading a London school's times: the school's hour must win.
process.env.TZ = "America/New_York";

test("a reply time is said on the school's clock, with the day in plain words", () => {
  // Friday 11 December 2026, 21:00 in London: staff are back on Monday
  assert.equal(replyAfterWords("2026-12-14T08:00:00+00:00", "2026-12-11"), "8:00 on Monday");
  assert.equal(replyAfterWords("2026-12-08T08:00:00+00:00", "2026-12-07"), "8:00 tomorrow");
  assert.equal(replyAfterWords("2026-12-07T08:30:00+00:00", "2026-12-07"), "8:30 today");
  // after the holidays: a date, so nobody expects a reply next Monday
  assert.equal(replyAfterWords("2027-01-04T08:00:00+00:00", "2026-12-18"), "8:00 on Monday 4 January");
  // summer time in London: the written hour, not the UTC one
  assert.equal(replyAfterWords("2026-06-15T08:00:00+01:00", "2026-06-12"), "8:00 on Monday");
  assert.equal(replyAfterWords(null, "2026-12-07"), "");
});

test("today and a sending time are the school's, not the phone's", () => {
  // 02:00 in London is still the evening before in New York
  const late = new Date("2026-12-08T02:00:00Z");
  assert.equal(todayIn("Europe/London", late), "2026-12-08");
  assert.equal(todayIn("America/New_York", late), "2026-12-07");
  assert.equal(sentWhen("2026-12-07T21:00:00Z", "Europe/London"), "Monday 7 December at 21:00");
});
