// `#notifications`: what the school told this person, newest first; opening it counts everything
// shown as read. Each notification links to what it is about (a child's page, a story, a message).
import { api, notificationsApi } from "../core/api.js";
import { fill, h, section } from "../core/dom.js";
import { quietly } from "../core/messages.js";
import { countOf, when } from "../core/words.js";
import { emptyState } from "../ui/monsters.js";

const KIND_WORDS = {
  points: "Points",
  class_stories: "Class story",
  school_stories: "School story",
  messages: "Message",
  announcements: "Announcement",
  approved_work: "Work approved",
  account: "Your account",
  safety: "Safety",
  emergency: "Urgent",
};

function item(n) {
  return h(
    "li",
    { class: `notification${n.unread ? " unread" : ""}${n.kind === "emergency" ? " urgent" : ""}` },
    h(
      "a",
      { href: n.url || "#home" },
      h("span", { class: "notification-title", text: n.title }),
      n.unread ? h("span", { class: "unread-badge", text: "New" }) : null,
    ),
    n.body ? h("p", { class: "notification-body", text: n.body }) : null,
    h("p", { class: "muted" }, h("span", { class: "tag", text: KIND_WORDS[n.kind] || "News" }), h("span", { text: ` ${when(n.at)}` })),
  );
}

export async function notificationsView() {
  const list = h("ul", { class: "notifications" });
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary", text: "Show older", hidden: true });
  let shown = [];
  const show = (page) => {
    shown = [...shown, ...page.items];
    fill(list, shown.length ? shown.map(item) : emptyState("Nothing yet. Points, stories and messages will show here."));
    more.hidden = !page.more;
  };
  const first = await api("GET", notificationsApi(""));
  summary.textContent = first.unread ? `${countOf(first.unread, "new notification")}.` : "You are up to date.";
  show(first);
  more.addEventListener("click", async () => {
    const last = shown[shown.length - 1];
    show(await api("GET", notificationsApi(`?before=${encodeURIComponent(last.at)}`)));
  });
  // everything on screen now counts as read, after it has been shown as new once
  if (first.unread) api("POST", notificationsApi("/seen")).catch(quietly);
  const choose = h("p", null, h("a", { href: "#notification-settings", text: "Choose what you hear about, and how" }));
  return section("Notifications", choose, summary, list, more);
}
