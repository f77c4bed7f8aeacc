// The one module that knows the API's addresses and how its errors come back.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { api, ApiError, consent, lastWritten, mediaSrc, pointsApi, roster, storiesApi, URLS } from "../../src/schoolgate_gateway/static/core/api.js";
import { state } from "../../src/schoolgate_gateway/static/core/state.js";

test("addresses are the signed-in school's, with every id encoded", () => {
  state.me = { school_id: "oak school/1" };
  assert.equal(roster("/classes"), "/api/roster/schools/oak%20school%2F1/classes");
  assert.equal(consent("/media"), "/api/consent/schools/oak%20school%2F1/media");
  assert.equal(pointsApi("/awards"), "/api/points/schools/oak%20school%2F1/awards");
  // a parent's child may be at another school
  assert.equal(storiesApi("/posts", "elm?"), "/api/stories/schools/elm%3F/posts");
  assert.equal(URLS.classLive("3/b"), "/api/live/classes/3%2Fb");
  assert.equal(URLS.conductAcceptances("a b"), "/api/consent/schools/a%20b/code-of-conduct/acceptances");
  assert.equal(URLS.feed("limit=5"), "/api/feed?limit=5");
});

test("a media address the service gives is kept; a bare one is put behind the gateway", () => {
  assert.equal(mediaSrc({ thumb_url: "/api/stories/x" }, "thumb", "s"), "/api/stories/x");
  assert.equal(mediaSrc({ url: "/schools/s/media/m" }, "full", "s"), "/api/stories/schools/s/media/m");
  assert.equal(mediaSrc({ media_id: "m 1", kind: "image" }, "thumb", "s"), "/api/stories/schools/s/media/m%201?size=thumb");
  assert.equal(mediaSrc({ media_id: "m", kind: "video" }, "thumb", "s"), "/api/stories/schools/s/media/m?size=full");
});

test("a problem's detail is what the person reads; a server failure is said kindly", () => {
  const refused = new ApiError({ type: "https://x/problems/not-found", title: "Not found", detail: "No such pupil." }, 404);
  assert.equal(refused.message, "No such pupil.");
  assert.equal(refused.slug, "not-found");
  assert.equal(new ApiError({ title: "Bad request" }, 400).message, "Bad request");
  assert.match(new ApiError({ detail: ["not", "a", "string"] }, 500).message, /went wrong on our side/);
  assert.match(new ApiError({}, 0).message, /went wrong on our side/);
});

let server;
let base;
const seen = [];

before(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      seen.push({ method: request.method, url: request.url, type: request.headers["content-type"], body });
      if (request.url === "/ok") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ fine: true }));
      } else if (request.url.startsWith("/wrote-")) {
        // a write's answer names the log position it reached
        response.writeHead(200, { "content-type": "application/json", "x-schoolgate-position": request.url.slice("/wrote-".length) });
        response.end("{}");
      } else if (request.url === "/empty") {
        response.writeHead(204);
        response.end();
      } else {
        response.writeHead(409, { "content-type": "application/problem+json" });
        response.end(JSON.stringify({ type: "https://x/problems/conflict", title: "Conflict", detail: "Someone else changed this first." }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

test("api() sends JSON and reads JSON over real HTTP", async () => {
  assert.deepEqual(await api("POST", `${base}/ok`, { a: 1 }), { fine: true });
  assert.deepEqual(seen.at(-1), { method: "POST", url: "/ok", type: "application/json", body: '{"a":1}' });
  assert.equal(await api("DELETE", `${base}/empty`), null);
});

test("api() turns a problem answer into an ApiError with its status and slug", async () => {
  await assert.rejects(api("GET", `${base}/conflict`), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 409);
    assert.equal(error.slug, "conflict");
    assert.equal(error.message, "Someone else changed this first.");
    return true;
  });
});

test("api() says the network is away when nothing answers", async () => {
  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(api("GET", `http://127.0.0.1:${port}/`), (error) => error.status === 0 && /internet connection/.test(error.message));
});

test("the newest position a write reached is kept, to wait for before reading", async () => {
  assert.equal(lastWritten(), null);
  await api("POST", `${base}/wrote-41`);
  await api("POST", `${base}/wrote-7`); // an older write answered late changes nothing
  await api("POST", `${base}/wrote-x`);
  assert.equal(lastWritten(), 41);
  assert.equal(URLS.caughtUp(lastWritten()), "/api/caught-up?position=41");
});
