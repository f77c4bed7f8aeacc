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

// Web push (the notifications issue) adds its "push" and "notificationclick" listeners here.
