// Schoolgate's service worker: it makes the app installable, opens a friendly page when there
// is no connection, and keeps the app's own files (the shell) for a quick start.
//
// It keeps nothing personal. A family tablet is shared: after signing out, nobody may read a
// parent's news or a child's points on it, online or off. So only the app's files are kept,
// the same for everyone and addressed by version (/static/…?v=…); the API, photos, the page
// itself and everything else go to the network as if there were no worker.
//
// The server writes the next line (entrypoints/static.py): the shell and a version over every
// file, so a new release is a new worker, which drops the old one's cache.
const SHELL = { version: "unset", offline: "/static/offline.html", files: [] };
const CACHE = `schoolgate-${SHELL.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.files))
      // the cached files are immutable and the worker keeps no page state: it may take over
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("schoolgate-") && name !== CACHE) await caches.delete(name);
      }
      // the page's request starts while the worker wakes up, so passing through costs nothing
      if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
      await self.clients.claim();
    })(),
  );
});

/** A page: always from the network (it is where sign-in state lives); offline, the friendly page. */
async function page(event) {
  try {
    return (await event.preloadResponse) || (await fetch(event.request));
  } catch {
    const offline = await caches.match(SHELL.offline, { ignoreVary: true });
    return offline || Response.error();
  }
}

/** One of the app's own versioned files: it never changes, so the kept copy is as good. */
async function appFile(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) return kept;
  const answer = await fetch(request);
  // only the current version is answered as immutable (an old ?v= gets today's file, no-cache)
  if (answer.ok && answer.headers.get("cache-control")?.includes("immutable")) {
    await cache.put(request, answer.clone());
  }
  return answer;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) {
    event.respondWith(appFile(request));
  }
});

// Web push: the notifications service sends a small encrypted note ({title, body, url, tag}); the
// browser has decrypted it by now. A push must always show a notification (browsers stop the
// pushes of a worker that stays quiet), so a note that cannot be read still says something.
const ICON = "/static/icons/icon-192.png";

/** The note in a push, with plain defaults for anything missing or malformed. */
function readPush(data) {
  let note = {};
  try {
    note = data ? data.json() : {};
  } catch {
    note = {};
  }
  const text = (value, fallback) => (typeof value === "string" && value ? value : fallback);
  return {
    title: text(note.title, "Schoolgate"),
    body: text(note.body, "Something new is waiting for you."),
    url: text(note.url, "/"),
    tag: typeof note.tag === "string" && note.tag ? note.tag : undefined,
  };
}

/** Only a page of this app: a push cannot send anyone elsewhere. */
function appAddress(url) {
  try {
    const target = new URL(url, self.location.origin);
    if (target.origin === self.location.origin) return target.href;
  } catch {
    // not an address at all
  }
  return new URL("/", self.location.origin).href;
}

self.addEventListener("push", (event) => {
  const note = readPush(event.data);
  event.waitUntil(
    self.registration.showNotification(note.title, {
      body: note.body,
      icon: ICON,
      // a newer note with the same tag replaces the older one ("Ada got 3 points")
      tag: note.tag,
      renotify: Boolean(note.tag),
      data: { url: appAddress(note.url) },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = appAddress(event.notification.data?.url || "/");
  event.waitUntil(
    (async () => {
      const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const app = open.find((client) => new URL(client.url).origin === self.location.origin);
      if (app) {
        try {
          const shown = await app.focus();
          await (shown || app).navigate(url);
          return;
        } catch {
          // a window the worker does not control cannot be sent elsewhere: open a new one
        }
      }
      await self.clients.openWindow(url);
    })(),
  );
});
