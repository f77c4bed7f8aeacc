import { api, consent, messagingApi } from "../core/api.js";
import { h, section } from "../core/dom.js";
import { state } from "../core/state.js";
import { pagesOf } from "../core/router.js";

export async function staffHomeView() {
  const me = state.me;
  const list = h("ul", { class: "tasks" });
  let waiting = 0;
  if (me.role === "leader") {
    waiting = (await api("GET", consent("/guardian-requests")).catch(() => [])).length;
  }
  const pages = pagesOf(me);
  let unread = 0;
  if (pages.some((p) => p.id === "messages")) {
    unread = (await api("GET", messagingApi("/conversations")).catch(() => ({}))).unread || 0;
  }
  for (const page of pages) {
    if (page.id === "home") continue;
    const extra =
      page.id === "requests" && waiting ? ` (${waiting} waiting)` : page.id === "messages" && unread ? ` (${unread} new)` : "";
    list.append(h("li", null, h("a", { href: `#${page.id}`, text: `${page.title}${extra}` }), h("p", { class: "muted", text: page.about })));
  }
  return section(`Hello, ${me.display_name}`, h("p", { text: me.school_name }), list);
}
