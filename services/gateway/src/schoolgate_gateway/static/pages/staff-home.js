import { api, consent, messagingApi } from "../core/api.js";
import { h, section } from "../core/dom.js";
import { state } from "../core/state.js";
import { pagesOf } from "../core/router.js";

export async function staffHomeView() {
  const me = state.me;
  const list = h("ul", { class: "tasks" });
  let waiting = 0;
  let reported = 0;
  if (me.role === "leader") {
    [waiting, reported] = await Promise.all([
      api("GET", consent("/guardian-requests")).then((r) => r.length, () => 0),
      api("GET", messagingApi("/reports?status=open")).then((r) => r.length, () => 0),
    ]);
  }
  const pages = pagesOf(me);
  let unread = 0;
  if (pages.some((p) => p.id === "messages")) {
    unread = (await api("GET", messagingApi("/conversations")).catch(() => ({}))).unread || 0;
  }
  for (const page of pages) {
    if (page.id === "home") continue;
    const counts = {
      requests: waiting && ` (${waiting} waiting)`,
      reported: reported && ` (${reported} to decide)`,
      messages: unread && ` (${unread} new)`,
    };
    const extra = counts[page.id] || "";
    list.append(h("li", null, h("a", { href: `#${page.id}`, text: `${page.title}${extra}` }), h("p", { class: "muted", text: page.about })));
  }
  return section(`Hello, ${me.display_name}`, h("p", { text: me.school_name }), list);
}
