// `#messages`: a person's conversations, newest first, live. A parent sees their children's, class
// staff their classes', the office (and leaders) the office's.
import { afterQuery, api, lastWritten, messagingApi, URLS } from "../core/api.js";
import { fill, h, section, uid } from "../core/dom.js";
import { quietly } from "../core/messages.js";
import { freshest, listen } from "../core/live.js";
import { sentWhen } from "../core/school-time.js";
import { state } from "../core/state.js";
import { countOf } from "../core/words.js";
import { messagingStatus } from "../ui/messaging.js";
import { emptyState } from "../ui/monsters.js";

/** Where a conversation is: the class (by name) or the office; an announcement to a class. */
export function placeOf(c) {
  if (c.kind === "announcement") return `Announcement to ${c.class_name || "the class"}`;
  if (c.inbox === "office") return "The office";
  return c.class_name ? `Class ${c.class_name}` : "The class";
}

function row(c, timeZone) {
  const titleId = uid("conv");
  const unread = Number(c.unread) || 0;
  const who = c.pupil_name || "";
  return h(
    "li",
    { class: `conversation-row${unread ? " unread" : ""}` },
    h(
      "a",
      { href: `#conversation=${c.conversation_id}`, "aria-describedby": titleId },
      h("span", { class: "conversation-who", text: who ? `${who} · ${placeOf(c)}` : placeOf(c) }),
      unread ? h("span", { class: "unread-badge", text: `${unread} new` }) : null,
    ),
    h(
      "p",
      { id: titleId, class: "conversation-preview" },
      c.preview ? h("span", { text: c.preview }) : null,
      c.read_only ? h("span", { class: "tag", text: "Read-only" }) : null,
      c.waiting ? h("span", { class: "tag", text: "Waiting for a reply" }) : null,
      c.last_at ? h("span", { class: "muted", text: ` ${sentWhen(c.last_at, timeZone)}` }) : null,
    ),
  );
}

export async function messagesView() {
  const me = state.me;
  const list = h("ul", { class: "conversations" });
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const status = await messagingStatus().catch(() => null);
  const timeZone = status?.timezone;
  const refresh = freshest(
    (position) => api("GET", messagingApi(`/conversations${afterQuery(position)}`)),
    (inbox) => {
      const rows = inbox.conversations || [];
      summary.textContent = inbox.unread ? `${countOf(inbox.unread, "new message")}.` : "No new messages.";
      fill(list, rows.length ? rows.map((c) => row(c, timeZone)) : emptyState("No messages yet."));
    },
  );
  await refresh(lastWritten()); // what this page wrote (a message just sent) shows at once
  listen(URLS.messagesLive(me.school_id), (news) => refresh(news.position).catch(quietly), { event: "messages" });

  const links = [];
  if (me.role === "parent") {
    links.push(h("a", { href: "#write", class: "button-link", text: "New message" }));
    links.push(h("a", { href: "#absence", class: "button-link secondary-link", text: "Report an absence" }));
  } else {
    links.push(h("a", { href: "#write", class: "button-link", text: "New message" }));
    if (["teacher", "leader"].includes(me.role)) {
      links.push(h("a", { href: "#announce", class: "button-link secondary-link", text: "Announcement to a class" }));
    }
    if (["office", "leader"].includes(me.role)) {
      links.push(h("a", { href: "#absences", class: "button-link secondary-link", text: "Absences" }));
    }
  }
  const off = status?.switched_off
    ? h("div", { class: "notice" }, h("p", { text: status.notice || "The school has switched messages off for now." }))
    : null;
  return section("Messages", off, h("p", { class: "actions-row" }, ...links), summary, list);
}
