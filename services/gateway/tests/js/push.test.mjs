// Web push in the page: the server's key as bytes, and what a browser supports.
import assert from "node:assert/strict";
import { test } from "node:test";

import { base64UrlToBytes, pushSupport, sameKey } from "../../src/schoolgate_gateway/static/core/push.js";

test("a base64url key becomes its bytes, with or without padding", () => {
  const bytes = Uint8Array.from({ length: 65 }, (_, i) => (i * 37 + 4) % 256);
  const bare = Buffer.from(bytes).toString("base64url");
  assert.deepEqual(base64UrlToBytes(bare), bytes);
  assert.deepEqual(base64UrlToBytes(`${bare}=`), bytes);
  assert.deepEqual(base64UrlToBytes("-_8"), Uint8Array.from([0xfb, 0xff]));
  assert.deepEqual(base64UrlToBytes(""), new Uint8Array());
});

test("anything but base64url is refused, not half-decoded", () => {
  for (const bad of ["a+bc", "a/bc", "ab cd", "abcde", "ab=c", null, 42]) {
    assert.throws(() => base64UrlToBytes(bad), TypeError, String(bad));
  }
});

test("keys compare by their bytes, whatever holds them", () => {
  const key = Uint8Array.from([4, 1, 2, 3]);
  assert.ok(sameKey(key.buffer, Uint8Array.from([4, 1, 2, 3])));
  assert.ok(sameKey(new Uint8Array([9, 4, 1, 2, 3]).subarray(1), key));
  assert.ok(!sameKey(key, Uint8Array.from([4, 1, 2, 4])));
  assert.ok(!sameKey(key, Uint8Array.from([4, 1, 2])));
  assert.ok(!sameKey(null, key));
});

test("what the browser allows, in the words the toggle uses", () => {
  const browser = (permission, { worker = true, push = true } = {}) => ({
    navigator: worker ? { serviceWorker: {} } : {},
    PushManager: push ? function PushManager() {} : undefined,
    Notification: { permission },
  });
  assert.equal(pushSupport(browser("default")), "ask");
  assert.equal(pushSupport(browser("granted")), "granted");
  assert.equal(pushSupport(browser("denied")), "denied");
  assert.equal(pushSupport(browser("default", { push: false })), "unsupported");
  assert.equal(pushSupport(browser("default", { worker: false })), "unsupported");
  assert.equal(pushSupport({}), "unsupported");
});
