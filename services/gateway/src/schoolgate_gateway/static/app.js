// Schoolgate in the browser: one page, hash routes, plain DOM, native modules (no build step).
// Names are people's data, so every piece of text goes in through textContent (never innerHTML).
import { start } from "./core/router.js";
import { pagesFor, ROUTES } from "./pages.js";

start({ pagesFor, routes: ROUTES });
