// The router reads addresses and picks pages without a browser: these run under `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { pageOf, routeOf } from "../../src/schoolgate_gateway/static/core/router.js";
import { pagesFor, ROUTES } from "../../src/schoolgate_gateway/static/pages.js";

test("an address names its route", () => {
  assert.deepEqual(routeOf("/", ""), { id: "home" });
  assert.deepEqual(routeOf("/", "#news"), { id: "news" });
  assert.deepEqual(routeOf("/join", ""), { id: "join" });
  assert.deepEqual(routeOf("/join/", "#anything"), { id: "join" });
  assert.deepEqual(routeOf("/", "#setup=abc%2Fdef"), { id: "setup", token: "abc/def" });
  assert.deepEqual(routeOf("/", "#open=t0k3n"), { id: "open", token: "t0k3n" });
  assert.deepEqual(routeOf("/", "#board"), { id: "board" });
  assert.deepEqual(routeOf("/", "#board=cls_1"), { id: "board", classId: "cls_1" });
  assert.deepEqual(routeOf("/", "#conversation=c_1"), { id: "conversation", key: "c_1" });
});

test("an address-only page comes first, then the person's own, then their first page", () => {
  const pages = [{ id: "home" }, { id: "news" }];
  const routes = { join: { title: "Join" } };
  assert.equal(pageOf({ id: "join" }, pages, routes), routes.join);
  assert.equal(pageOf({ id: "news" }, pages, routes), pages[1]);
  assert.equal(pageOf({ id: "import" }, pages, routes), pages[0]);
  // a page id that is an Object property must not be taken for a route
  assert.equal(pageOf({ id: "toString" }, pages, routes), pages[0]);
});

test("each kind of person gets their own pages, and a parent none of the staff tools", () => {
  const ids = (me) => pagesFor(me).map((p) => p.id);
  assert.deepEqual(ids(null), ["home", "card-not-valid", "pupil"]);
  assert.deepEqual(ids({ role: "parent", children: [{}] }), ["home", "news", "messages", "notifications", "home-learning", "account"]);
  assert.equal(pagesFor({ role: "parent", children: [{}] })[0].title, "Your child");
  assert.equal(pagesFor({ role: "parent", children: [{}, {}] })[0].title, "Your children");
  assert.deepEqual(ids({ role: "pupil" }), ["home", "work"]);
  assert.ok(ids({ role: "leader" }).includes("import"));
  assert.ok(!ids({ role: "teacher" }).includes("import"));
  assert.ok(!ids({ role: "teaching_assistant" }).includes("report"));
  // the class board is for anyone: a classroom screen has no person's session
  // and a conversation, a new message or an absence form is reached from the Messages page
  assert.deepEqual(Object.keys(ROUTES).sort(), ["absence", "announce", "board", "conversation", "forgot", "join", "notification-settings", "open", "reset", "setup", "write"]);
  assert.equal(ids({ role: "teacher" })[0], "award"); // a teacher still lands on the points
  assert.ok(ids({ role: "office" }).includes("absences") && !ids({ role: "teacher" }).includes("absences"));
  assert.ok(ids({ role: "teaching_assistant" }).includes("class-board"));
  assert.ok(!ids({ role: "office" }).includes("class-board"));
});
