// Hash routes over one page. The router knows no page: the entry hands it the page table,
// whose builders load each page's module the first time its route opens.
import { api, URLS } from "./api.js";
import { $, fill, h, section } from "./dom.js";
import { stopListening } from "./live.js";
import { clearMessages, failed, say, warn } from "./messages.js";
import { state } from "./state.js";
import { ROLE_NAMES } from "./words.js";

/**
 * `pagesFor(me)` lists the pages a person (or nobody, signed out) has, in menu order;
 * `routes` holds the pages reached by address only (join, setup=…, open=…).
 */
let table = { pagesFor: () => [], routes: {} };

/** Where an address leads: `/join`, `#setup=<token>`, `#open=<token>`, `#board=<class>` or a page's `#id`. */
export function routeOf(pathname, hash) {
  if (pathname.replace(/\/+$/, "") === "/join") return { id: "join" };
  const route = decodeURIComponent(hash.slice(1));
  if (route.startsWith("setup=")) return { id: "setup", token: route.slice("setup=".length) };
  if (route.startsWith("open=")) return { id: "open", token: route.slice("open=".length) };
  if (route.startsWith("board=")) return { id: "board", classId: route.slice("board=".length) };
  // any other page that is about one thing: `#conversation=<id>`, `#write=<pupil>`
  const at = route.indexOf("=");
  if (at > 0) return { id: route.slice(0, at), key: route.slice(at + 1) };
  return { id: route || "home" };
}

/** The pages a person has, in menu order (a staff home page lists them). */
export const pagesOf = (me) => table.pagesFor(me);

const currentRoute = () => routeOf(location.pathname, location.hash);

/** The page a route shows: an address-only page, else one of the person's own, else the first. */
export function pageOf(route, pages, routes = table.routes) {
  if (Object.hasOwn(routes, route.id)) return routes[route.id];
  return pages.find((p) => p.id === route.id) || pages[0];
}

export function go(hash) {
  const target = hash ? `/#${hash}` : "/";
  if (`${location.pathname}${location.hash}` !== target) history.pushState(null, "", target);
  render();
}

export function signedIn(me) {
  state.me = me;
  state.cache = {};
  updateChrome();
}

function updateChrome() {
  const me = state.me;
  $("sign-out").hidden = !me;
  $("who").hidden = !me;
  $("who").textContent = me ? `${me.display_name}${me.role in ROLE_NAMES && me.role !== "parent" ? `, ${ROLE_NAMES[me.role]}` : ""}` : "";
  $("school-name").textContent = me?.school_name ? ` · ${me.school_name}` : "";
  const pages = me ? table.pagesFor(me) : [];
  $("nav").hidden = pages.length < 2;
  fill($("nav-list"),
    ...pages.map((page) => h("li", null, h("a", { href: `#${page.id}`, text: page.title, dataset: { page: page.id } }))),
  );
}

let renderSeq = 0;

export async function render({ focus = true } = {}) {
  const seq = ++renderSeq;
  stopListening();
  delete document.body.dataset.mode; // a page that changes the frame (the class board) sets it again
  $("actions").replaceChildren();
  clearMessages();
  updateChrome();
  const route = currentRoute();
  const pages = table.pagesFor(state.me);
  const page = pageOf(route, pages);
  const view = $("view");
  view.setAttribute("aria-busy", "true");
  fill(view, h("p", { class: "loading", text: "Loading…" }));
  let node;
  try {
    node = await page.build(route);
  } catch (error) {
    if (seq !== renderSeq) return;
    node = section(page.title, h("p", { text: "This page could not be shown." }));
    setTimeout(() => failed(error));
  }
  if (seq !== renderSeq) return;
  fill(view, node);
  view.removeAttribute("aria-busy");
  document.title = `${page.title} · Schoolgate`;
  for (const link of $("nav-list").querySelectorAll("a")) {
    if (link.dataset.page === (pages.includes(page) ? page.id : "")) {
      link.setAttribute("aria-current", "page");
      $("nav-list").scrollLeft = link.parentElement.offsetLeft - 16; // a phone's menu scrolls sideways
    } else link.removeAttribute("aria-current");
  }
  if (focus) node.querySelector("h1")?.focus({ preventScroll: false });
}

export async function signOut() {
  const wasPupil = state.me?.role === "pupil";
  const joining = currentRoute().id === "join";
  try {
    await api("DELETE", URLS.session);
  } catch {
    // Signed out already, or the server is away: either way, forget who was here.
  }
  state.me = null;
  state.cache = {};
  if (joining) {
    state.join.step = "start";
    await render();
  } else {
    state.join = null;
    go(wasPupil ? "pupil" : "");
  }
  say("You are signed out.");
}

/** Take over the page: ask who is signed in, then show the page the address names. */
export async function start(pageTable) {
  table = pageTable;
  $("sign-out").addEventListener("click", signOut);
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("main").focus();
  });
  // Following a #link and going back both fire popstate (and hashchange after it): render once.
  window.addEventListener("popstate", () => render());
  try {
    state.me = await api("GET", URLS.me);
  } catch (error) {
    state.me = null;
    if (error.status !== 401) setTimeout(() => warn(error.message));
  }
  await render({ focus: false });
}
