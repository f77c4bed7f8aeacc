// `#notification-settings`: how a person hears from school. Per kind of news, on this phone
// (push) and by email: at once, in the daily round-up, or not at all. The notification centre
// in the app always keeps everything; safety, account and urgent notices cannot be turned off.
import { api, notificationsApi } from "../core/api.js";
import { h, section, uid } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { pushToggle } from "../ui/push-toggle.js";

const KINDS = {
  points: "Points for my child",
  class_stories: "Class stories",
  school_stories: "Year group and school stories",
  messages: "Messages",
  announcements: "Announcements",
  approved_work: "Work added to a portfolio",
  account: "About my account",
  safety: "Safety notices",
  emergency: "Urgent notices from school",
};
const STAFF_KINDS = ["messages", "announcements", "school_stories", "class_stories", "account", "safety"];
const CHANNELS = { push: "On this phone", email: "By email" };
const TIMINGS = { instant: "At once", digest: "In the daily round-up", off: "Off" };

function choice(kind, channel, value, locked) {
  const id = uid(`${kind}-${channel}`);
  if (locked) return h("td", null, h("span", { text: "Always, at once" }));
  return h(
    "td",
    null,
    h("label", { class: "visually-hidden", for: id, text: `${KINDS[kind]}: ${CHANNELS[channel]}` }),
    h("select", { id, name: `${kind}.${channel}` }, ...Object.entries(TIMINGS).map(([v, words]) => h("option", { value: v, text: words, selected: v === value }))),
  );
}

export async function notificationSettingsView() {
  const [matrix, timing] = await Promise.all([api("GET", notificationsApi("/preferences")), api("GET", notificationsApi("/settings"))]);
  const kinds = state.me.role === "parent" ? Object.keys(KINDS) : STAFF_KINDS;
  const rows = kinds.map((kind) =>
    h(
      "tr",
      null,
      h("th", { scope: "row", text: KINDS[kind] }),
      ...Object.keys(CHANNELS).map((channel) => choice(kind, channel, matrix.choices[kind][channel], kind in matrix.locked)),
    ),
  );
  const save = h("button", { type: "submit", text: "Save my choices" });
  const form = h(
    "form",
    { class: "notification-choices" },
    h(
      "table",
      null,
      h("caption", { text: `What you hear about, and how. The daily round-up comes at ${timing.digest_at}.` }),
      h("thead", null, h("tr", null, h("th", { scope: "col", text: "News" }), ...Object.values(CHANNELS).map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", null, ...rows),
    ),
    h("p", { class: "hint", text: "Everything always waits for you under Notifications in the app. Safety, account and urgent notices always come at once." }),
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const choices = {};
    for (const select of form.querySelectorAll("select")) {
      const [kind, channel] = select.name.split(".");
      (choices[kind] ??= {})[channel] = select.value;
    }
    await working(save, "Saving…", async () => {
      await api("PUT", notificationsApi("/preferences"), { choices });
      say("Your choices are saved.", { fade: 4000 });
    });
  });
  return section("How you hear from school", pushToggle(), form);
}
