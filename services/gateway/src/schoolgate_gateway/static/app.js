// Schoolgate in the browser: one page, hash routes, plain DOM, native modules (no build step).
// Names are people's data, so every piece of text goes in through textContent (never innerHTML).
import { start } from "./core/router.js";
import { pagesFor, ROUTES } from "./pages.js";

start({ pagesFor, routes: ROUTES });

// Installable, and a friendly page when offline (sw.js). Without a worker the app is the same.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch(() => {
      // a private window or a browser that refuses workers: nothing to install, nothing lost
    });
  });
}
