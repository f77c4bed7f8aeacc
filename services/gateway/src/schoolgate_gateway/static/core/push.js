// Web push in the page: what this browser can do, and the server's key in the form it takes.
// No DOM here, so node --test can check it (ui/push-toggle.js is the part people see).

const ALPHABET = /^[A-Za-z0-9_-]*={0,2}$/;

/** Base64url (with or without padding) as bytes, for pushManager.subscribe's applicationServerKey. */
export function base64UrlToBytes(text) {
  if (typeof text !== "string" || !ALPHABET.test(text)) throw new TypeError("not base64url");
  const bare = text.replace(/=+$/, "");
  if (bare.length % 4 === 1) throw new TypeError("not base64url");
  const binary = atob(bare.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (bare.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Whether two keys (ArrayBuffer / typed array / null) hold the same bytes. */
export function sameKey(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a.buffer ?? a, a.byteOffset ?? 0, a.byteLength);
  const y = new Uint8Array(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/**
 * What this browser allows: "unsupported" (no push at all: an old browser, or an iPhone where
 * Schoolgate is not yet on the Home Screen), "denied" (the person blocked notifications),
 * "ask" (not asked yet) or "granted".
 */
export function pushSupport(env = globalThis) {
  const { navigator, Notification, PushManager } = env;
  if (!navigator || !("serviceWorker" in navigator) || !PushManager || !Notification) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return Notification.permission === "granted" ? "granted" : "ask";
}
