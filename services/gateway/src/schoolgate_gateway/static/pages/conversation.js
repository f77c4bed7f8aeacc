// `#conversation=<id>`: one conversation, oldest first, live; marked read while it is open.
import { afterQuery, api, lastWritten, messagingApi, URLS } from "../core/api.js";
import { field, fill, h, paragraphs, section, uid } from "../core/dom.js";
import { go } from "../core/router.js";
import { failed, quietly, say, working } from "../core/messages.js";
import { freshest, listen } from "../core/live.js";
import { sentWhen } from "../core/school-time.js";
import { state } from "../core/state.js";
import { backAt, composer, messagingStatus, replyPromise } from "../ui/messaging.js";

const WITHDRAW_MS = 10 * 60 * 1000;

const media = (conversationId, a, size) =>
  messagingApi(`/conversations/${encodeURIComponent(conversationId)}/media/${encodeURIComponent(a.media_id)}?size=${size}`);

function mediaList(conversationId, list) {
  if (!list?.length) return null;
  return h(
    "ul",
    { class: "message-media" },
    ...list.map((a) =>
      h(
        "li",
        null,
        a.kind === "image"
          ? h("a", { href: media(conversationId, a, "full") }, h("img", { src: media(conversationId, a, "thumb"), alt: a.alt_text || "A photo" }))
          : h("a", { href: media(conversationId, a, "full"), text: a.alt_text ? `PDF: ${a.alt_text}` : "Open the PDF" }),
      ),
    ),
  );
}

/** Who wrote a message, as the reader would call them. */
function authorOf(m, c) {
  if (m.mine) return "You";
  // the service does not name the member of staff who wrote: the class (or the office) did, and
  // once a conversation was passed on, either may have
  if (m.side === "school") {
    if (c.passes?.length) return "The school";
    return c.inbox === "office" ? "The office" : c.class_name ? `Class ${c.class_name}` : "The class";
  }
  return c.pupil_name ? `${c.pupil_name}'s family` : "The family";
}

function passWords(p, c) {
  const who = p.to === "office" ? (c.class_staff?.[0] || "The class") : "The office";
  const where = p.to === "office" ? "the office" : c.class_name ? `class ${c.class_name}` : "the class";
  return `${who} passed this to ${where}${p.note ? `: ${p.note}` : "."}`;
}

export async function conversationView(route) {
  const id = route.key;
  const me = state.me;
  const list = h("ol", { class: "messages" });
  const passes = h("div");
  const tools = h("div");
  const writing = h("div");
  const title = h("h1", { tabindex: "-1" });
  const status = await messagingStatus().catch(() => null);
  let shown = null;
  let composed = false;
  let reporting = null; // the report being written: { id, text, focused }

  const url = (position) => messagingApi(`/conversations/${encodeURIComponent(id)}${afterQuery(position)}`);

  async function markRead(c) {
    const newest = c.messages.filter((m) => !m.scheduled).at(-1);
    if (!c.unread || !newest) return;
    await api("POST", messagingApi(`/conversations/${encodeURIComponent(id)}/read`), { through_message_id: newest.message_id }).catch(quietly);
  }

  function messageItem(m, c) {
    const body = m.withdrawn
      ? h("p", { class: "muted", text: "This message was withdrawn." })
      : m.hidden && !m.text
        ? h("p", { class: "muted", text: "Hidden by the school." })
        : [paragraphs(m.text, "message-text"), mediaList(id, m.attachments)];
    const notes = [];
    if (m.hidden && m.text) notes.push("Hidden by the school");
    if (m.scheduled) notes.push(`Scheduled: families see it ${sentWhen(m.visible_from, status?.timezone)}`);
    if (m.mine && m.read && !m.withdrawn) notes.push("Read");
    const actions = h("div", { class: "message-actions" });
    if (m.mine && !m.withdrawn && Date.now() - new Date(m.visible_from).getTime() < WITHDRAW_MS) {
      const b = h("button", { type: "button", class: "secondary", text: "Withdraw" });
      b.addEventListener("click", () =>
        working(b, "Withdrawing…", async () => {
          await api("POST", messagingApi(`/conversations/${encodeURIComponent(id)}/messages/${encodeURIComponent(m.message_id)}/withdraw`));
          say("Your message was withdrawn.");
          await refresh(lastWritten());
        }),
      );
      actions.append(b);
    }
    if (!m.mine && !m.withdrawn && !m.hidden) {
      const b = h("button", { type: "button", class: "secondary", text: "Report", "aria-expanded": "false" });
      const holder = h("div");
      const close = () => {
        holder.replaceChildren();
        b.setAttribute("aria-expanded", "false");
        reporting = null;
      };
      // a report being written survives the page's live refresh (a new message, a receipt):
      // the form comes back with what was typed, and the caret where it was
      const open = ({ focus }) => {
        b.setAttribute("aria-expanded", "true");
        if (reporting?.id !== m.message_id) reporting = { id: m.message_id, text: "", focused: true };
        const reason = h("textarea", { rows: 2, maxlength: 1000, required: true, value: reporting.text });
        reason.addEventListener("input", () => {
          if (reporting) reporting.text = reason.value;
        });
        reason.addEventListener("focus", () => {
          if (reporting) reporting.focused = true;
        });
        reason.addEventListener("blur", () => {
          if (reporting) reporting.focused = false;
        });
        const send = h("button", { type: "submit", text: "Send the report" });
        const form = h("form", { class: "stack" }, field("What is wrong with this message?", { control: reason, hint: "A school leader reads it." }), send);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          working(send, "Sending…", async () => {
            await api("POST", messagingApi(`/conversations/${encodeURIComponent(id)}/messages/${encodeURIComponent(m.message_id)}/report`), { reason: reason.value.trim() });
            close();
            say("Thank you. A school leader will look at it.");
          });
        });
        holder.replaceChildren(form);
        if (focus) reason.focus();
      };
      b.addEventListener("click", () => (holder.firstChild ? close() : open({ focus: true })));
      if (reporting?.id === m.message_id) queueMicrotask(() => open({ focus: reporting.focused }));
      actions.append(b, holder);
    }
    return h(
      "li",
      { class: `message ${m.mine ? "mine" : "theirs"}` },
      h("p", { class: "message-from" }, h("strong", { text: authorOf(m, c) }), h("span", { class: "muted", text: ` ${sentWhen(m.visible_from, status?.timezone)}` })),
      body,
      notes.length ? h("p", { class: "message-notes", text: notes.join(" · ") }) : null,
      actions.childNodes.length ? actions : null,
    );
  }

  function passTool(c) {
    const staffSide = c.side === "school" && c.kind === "family";
    const to = c.inbox === "class" ? "office" : "class";
    if (!staffSide || !c.may_write || (to === "class" && !["office", "leader"].includes(me.role))) return null;
    const label = to === "office" ? "Pass to the office" : "Pass to the class";
    const note = h("input", { type: "text", maxlength: 1000 });
    const b = h("button", { type: "submit", class: "secondary", text: label });
    const form = h("form", { class: "stack pass" }, field("A note for them (the family sees it)", { control: note }), b);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      working(b, "Passing…", async () => {
        await api("POST", messagingApi(`/conversations/${encodeURIComponent(id)}/pass`), { to, note: note.value.trim() });
        // passed on, it leaves this inbox (and the page) for the other one's
        go("messages");
        say(to === "office" ? "Passed to the office. The family can see that you did." : "Passed to the class. The family can see that you did.");
      });
    });
    return h("details", null, h("summary", { text: label }), form);
  }

  function show(c) {
    shown = c;
    const who = c.pupil_name ? `${c.pupil_name} · ` : "";
    title.textContent =
      c.kind === "announcement" ? `Announcement to ${c.class_name || "the class"}` : `${who}${c.inbox === "office" ? "The office" : `Class ${c.class_name}`}`;
    fill(passes, ...c.passes.map((p) => h("p", { class: "notice", text: passWords(p, c) })));
    fill(list, ...c.messages.map((m) => messageItem(m, c)));
    fill(tools, passTool(c));
    if (!composed) {
      composed = true;
      fill(writing, compose(c));
    }
  }

  function compose(c) {
    const parent = me.role === "parent";
    if (!(c.may_write || (parent && c.may_reply))) {
      return h("p", { class: "muted", text: c.kind === "announcement" ? "This is an announcement to the class." : "You can read this conversation, but not write in it." });
    }
    const announcement = c.kind === "announcement";
    const box = composer({
      label: announcement ? "Reply privately to the teacher" : "Write a reply",
      to: c.inbox === "office" ? "office" : "class",
      pupilId: c.pupil_id,
      pupilName: c.pupil_name,
      staff: c.class_staff || [],
      status,
      send: async ({ text, attachments, to, sendAt }) => {
        if (to === "office" && c.inbox !== "office") {
          const started = await api("POST", messagingApi("/conversations"), { pupil_id: c.pupil_id, to: "office", text, attachments });
          go(`conversation=${started.conversation_id}`);
          say(`Sent to the office. ${replyPromise(status, { office: true })}`.trim());
          return;
        }
        const sent = await api("POST", messagingApi(`/conversations/${encodeURIComponent(id)}/messages`), { text, attachments, send_at: sendAt || undefined });
        const promise = parent ? replyPromise(status, { office: c.inbox === "office", staff: c.class_staff || [] }) : "";
        if (sent.conversation_id && sent.conversation_id !== id) {
          go(`conversation=${sent.conversation_id}`);
          say("Sent privately to the teacher: the other families do not see it.");
          return;
        }
        say(sendAt ? `Saved. Families see it at ${backAt(status)}.` : `Sent. ${promise}`.trim());
        await refresh(lastWritten());
      },
    });
    return box.node;
  }

  const refresh = freshest(
    (position) => api("GET", url(position)),
    (c) => {
      show(c);
      markRead(c);
    },
  );
  await refresh(lastWritten());
  listen(
    URLS.messagesLive(me.school_id, id),
    (news) => {
      if (news.conversation_id && shown && news.conversation_id !== id) return;
      refresh(news.position).catch(quietly);
    },
    { event: "messages" },
  );
  const titleId = uid("title");
  title.id = titleId;
  return h(
    "section",
    { "aria-labelledby": titleId },
    h("p", null, h("a", { href: "#messages", text: "All messages" })),
    title,
    passes,
    list,
    writing,
    tools,
  );
}
