import { api, consent, messagingApi, notificationsApi } from "../core/api.js";
import { h, section } from "../core/dom.js";
import { state } from "../core/state.js";
import { pagesOf } from "../core/router.js";

/** How many of each wait on the page, asked after the page shows: a slow count never holds
 * the home page (or a sign-out from it) back. */
function counts(me, pages) {
  const has = (id) => pages.some((p) => p.id === id);
  const count = (id, ask, words) =>
    has(id) ? ask().then((n) => [id, n ? ` (${n} ${words})` : ""], () => [id, ""]) : null;
  return [
    me.role === "leader" ? count("requests", () => api("GET", consent("/guardian-requests")).then((r) => r.length), "waiting") : null,
    me.role === "leader" ? count("reported", () => api("GET", messagingApi("/reports?status=open")).then((r) => r.length), "to decide") : null,
    count("messages", () => api("GET", messagingApi("/conversations")).then((r) => r.unread || 0), "new"),
    count("notifications", () => api("GET", notificationsApi("/unread")).then((r) => r.unread || 0), "new"),
  ].filter(Boolean);
}

export async function staffHomeView() {
  const me = state.me;
  const pages = pagesOf(me);
  const links = {};
  const list = h(
    "ul",
    { class: "tasks" },
    pages
      .filter((page) => page.id !== "home")
      .map((page) => {
        links[page.id] = h("a", { href: `#${page.id}`, text: page.title });
        return h("li", null, links[page.id], h("p", { class: "muted", text: page.about }));
      }),
  );
  for (const asked of counts(me, pages)) {
    asked.then(([id, extra]) => {
      const page = pages.find((p) => p.id === id);
      if (extra) links[id].textContent = `${page.title}${extra}`;
    });
  }
  return section(`Hello, ${me.display_name}`, h("p", { text: me.school_name }), list);
}
