import { api, messagingApi, readUntil, URLS } from "../core/api.js";
import { checkbox, fill, h, section, uid } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { messagingNotice } from "../ui/messaging-notice.js";
import { monster } from "../ui/monsters.js";
import { pointsPanel } from "../ui/points.js";

async function childCard(child) {
  const titleId = uid("child");
  const panel = pointsPanel(child, { targets: true });
  let body = panel.node;
  try {
    await panel.ready;
  } catch (error) {
    panel.close();
    body = h("p", { text: `Points are not available right now. ${error.message}` });
  }
  const picture = h("span", { class: "child-monster" }, monster(child.avatar || child.pupil_id));
  const node = h(
    "li",
    null,
    h(
      "article",
      { class: "card child-card", "aria-labelledby": titleId },
      h("div", { class: "child-head" }, picture, h("div", null, h("h2", { id: titleId, text: child.name }), h("p", { class: "muted", text: [child.class_name && `Class ${child.class_name}`, child.school_name].filter(Boolean).join(", ") }))),
      body,
    ),
  );
  return { node, close: panel.close };
}

// A school changed its code of conduct: ask again, as when the family joined.
function conductDue(item, done) {
  const agree = checkbox("I have read the new code of conduct and I agree to it", { required: true });
  const button = h("button", { type: "submit", text: "Agree" });
  const form = h("form", { class: "stack" }, agree, button);
  const text = h("div", { class: "conduct" });
  for (const paragraph of item.text.split(/\n\s*\n/)) text.append(h("p", { text: paragraph }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Saving…", async () => {
      await api("POST", URLS.conductAcceptances(item.school_id), {
        version: item.version,
      });
      await done();
    });
  });
  const titleId = uid("conduct");
  return h(
    "article",
    { class: "card", "aria-labelledby": titleId },
    h("h2", { id: titleId, text: "The school's code of conduct has changed" }),
    h("p", { text: "Please read the new version and agree to it." }),
    text,
    form,
  );
}

export function familyView() {
  const list = h("ul", { class: "cards" });
  const waiting = h("div");
  const conduct = h("div");
  const refresh = h("button", { type: "button", text: "Check again" });
  let cards = [];

  async function load() {
    const me = await api("GET", URLS.me);
    state.me = me;
    const fresh = await Promise.all(me.children.map(childCard));
    for (const card of cards) card.close();
    cards = fresh;
    fill(list, ...cards.map((c) => c.node));
    const accepted = (item) => async () => {
      // the school records the agreement a moment later: wait for it, then show the page
      await readUntil(
        () => api("GET", URLS.me),
        (m) => !(m.code_of_conduct_due || []).some((d) => d.school_id === item.school_id && d.version === item.version),
      ).catch(() => null);
      await load();
    };
    conduct.replaceChildren(...(me.code_of_conduct_due || []).map((item) => conductDue(item, accepted(item))));
    let links = [];
    try {
      links = await api("GET", URLS.familyChildren);
    } catch {
      links = [];
    }
    const pendingCount = links.filter((l) => l.status === "pending").length;
    waiting.replaceChildren();
    if (pendingCount) {
      waiting.append(
        h("div", { class: "notice" },
          h("h2", { text: "Waiting for the school" }),
          h("p", {
            text:
              pendingCount === 1
                ? "You asked to join as a parent or carer of a child. The school needs to approve this first. You will see the child here once they do."
                : `You asked to join as a parent or carer of ${pendingCount} children. The school needs to approve this first.`,
          }),
        ),
      );
    }
    if (!me.children.length && !pendingCount) {
      waiting.append(
        h("p", { text: "You are not connected to a child yet. " }, h("a", { href: "/join", text: "Join with the code from the school's letter" })),
      );
    }
  }

  // the way to the school's messages, with how many are new
  const messages = h("p", null, h("a", { href: "#messages", text: "Messages" }));
  if (state.me.children.length) {
    api("GET", messagingApi("/conversations"))
      .then((inbox) => {
        if (inbox.unread) messages.firstChild.textContent = `Messages (${inbox.unread} new)`;
      })
      .catch(() => null);
  }

  refresh.addEventListener("click", () =>
    working(refresh, "Checking…", async () => {
      await load();
      say("Updated just now.");
    }),
  );
  const view = section(
    state.me.children.length === 1 ? "Your child" : "Your children",
    state.me.children.length
      ? h("p", { class: "muted", text: "Points appear here as soon as the school gives them. Each child is only compared with their own target and their own weeks." })
      : null,
    messagingNotice(),
    conduct,
    waiting,
    state.me.children.length ? messages : null,
    list,
    refresh,
    h("p", null, h("a", { href: "/join", text: "Add another child with a code from a letter" })),
  );
  return load().then(() => view);
}
