import { api, caughtUp, messagingApi } from "../core/api.js";
import { checkbox, field, fill, h, section, uid } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { WEEKDAYS } from "../core/words.js";
import { messagingNotice } from "../ui/messaging-notice.js";

// The office matters a parent writing to a teacher is steered away from, with a few of the
// words Schoolgate already knows for each, so a leader adds only what their families say.
const MATTERS = [
  ["absence", "Absence", "“off school”, “won't be in”, “day off”"],
  ["sickness", "Sickness", "“poorly”, “temperature”, “been sick”"],
  ["appointment", "Appointments", "“dentist”, “doctor's appointment”, “hospital”"],
  ["dinners", "Dinners", "“school dinners”, “packed lunch”, “dinner money”"],
  ["music_lessons", "Music lessons", "“violin lesson”, “music lessons”, “piano”"],
  ["complaint", "Complaints", "“complaint”, “not happy with”, “unacceptable”"],
  ["collection", "Collection and urgent matters", "“picking up”, “grandma will collect”, “urgent”"],
];

const words = (text) => [...new Set(text.split(",").map((w) => w.trim()).filter(Boolean))];

function killSwitch(status, redraw) {
  const titleId = uid("switch");
  if (status.switched_off) {
    const on = h("button", { type: "button", text: "Switch back on" });
    on.addEventListener("click", () =>
      working(on, "Switching on…", async () => {
        await api("PUT", messagingApi("/messaging/switch"), { on: true, notice: "" });
        await caughtUp();
        await redraw();
        say("Messaging is on again. Families can write to the school.");
      }),
    );
    return h(
      "section",
      { class: "card", "aria-labelledby": titleId },
      h("h2", { id: titleId, text: "Messaging is switched off" }),
      h("p", { text: "Nobody can send messages until you switch it back on. Families see the notice above on their home page." }),
      on,
    );
  }
  const notice = h("textarea", { rows: 3, required: true, maxlength: 500 });
  const off = h("button", { type: "submit", class: "danger", text: "Switch messaging off" });
  const form = h(
    "form",
    { class: "stack" },
    field("The notice families see", {
      control: notice,
      hint: "Say in a sentence or two why, and how to reach the school meanwhile. Families see it on their home page.",
    }),
    off,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = notice.value.trim();
    if (!text) {
      warn("Write the notice families will see first.");
      notice.focus();
      return;
    }
    working(off, "Switching off…", async () => {
      await api("PUT", messagingApi("/messaging/switch"), { on: false, notice: text });
      await caughtUp();
      await redraw();
      say("Messaging is switched off for the whole school. Families see your notice.");
    });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": titleId },
    h("h2", { id: titleId, text: "Switch messaging off for the whole school" }),
    h("p", { text: "For an emergency, such as an account that has been taken over: nobody can send messages until you switch it back on. Messages already sent are kept." }),
    form,
  );
}

function officeForm(settings) {
  const days = WEEKDAYS.map((day, index) => checkbox(day, { value: String(index), checked: settings.office_days.includes(index) }));
  const starts = h("input", { type: "time", required: true, value: settings.office_starts.slice(0, 5) });
  const ends = h("input", { type: "time", required: true, value: settings.office_ends.slice(0, 5) });
  const phone = h("input", { type: "text", inputmode: "tel", maxlength: 40, autocomplete: "off", value: settings.phone });
  const extra = Object.fromEntries(settings.office_words.map((w) => [w.matter, w.words]));
  const fields = MATTERS.map(([matter, label, examples]) => {
    const input = h("input", { type: "text", maxlength: 2000, value: (extra[matter] || []).join(", ") });
    return { matter, input, node: field(label, { control: input, hint: `Already known, for example ${examples}.` }) };
  });
  const save = h("button", { type: "submit", text: "Save" });
  const titleId = uid("office");
  const wordsId = uid("words");
  const form = h(
    "form",
    { class: "stack" },
    h("fieldset", null, h("legend", { text: "The office is open on" }), ...days),
    field("It opens at", { control: starts }),
    field("and closes at", { control: ends, hint: "Outside these hours families are told when to expect a reply." }),
    field("The school's phone number", { control: phone, hint: "Shown to families for anything urgent outside the office's hours." }),
    h(
      "fieldset",
      { "aria-describedby": wordsId },
      h("legend", { text: "Words that mean a message is for the office" }),
      h("p", { class: "hint", id: wordsId, text: "When a parent writes to a teacher about one of these, Schoolgate offers to send it to the office instead; the parent chooses. It already knows many words. Add your families' own, separated by commas." }),
      ...fields.map((f) => f.node),
    ),
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const officeDays = days.map((d) => d.querySelector("input")).filter((i) => i.checked).map((i) => Number(i.value));
    if (!officeDays.length) return warn("Please tick at least one day the office is open.");
    if (starts.value >= ends.value) return warn("The office must open before it closes.");
    return working(save, "Saving…", async () => {
      const saved = await api("PUT", messagingApi("/messaging/settings"), {
        office_days: officeDays,
        office_starts: starts.value,
        office_ends: ends.value,
        phone: phone.value.trim(),
        office_words: fields.map((f) => ({ matter: f.matter, words: words(f.input.value) })).filter((w) => w.words.length),
      });
      phone.value = saved.phone;
      const savedWords = Object.fromEntries(saved.office_words.map((w) => [w.matter, w.words]));
      for (const f of fields) f.input.value = (savedWords[f.matter] || []).join(", ");
      say("Saved. The office's hours, phone number and words are updated.");
    });
  });
  return h("section", { class: "card", "aria-labelledby": titleId }, h("h2", { id: titleId, text: "The office" }), form);
}

/** Leaders: the kill switch, the office's hours and phone number, and the office words. */
export async function messagingSettingsView() {
  const [status, settings] = await Promise.all([
    api("GET", messagingApi("/messaging/status")),
    api("GET", messagingApi("/messaging/settings")),
  ]);
  const switchArea = h("div");
  const notice = messagingNotice();
  async function redraw() {
    const now = await api("GET", messagingApi("/messaging/status"));
    await notice.refresh();
    fill(switchArea, killSwitch(now, redraw));
  }
  fill(switchArea, killSwitch(status, redraw));
  return section(
    "Messaging settings",
    h("p", { text: "Messaging for the whole school, and the school office's hours." }),
    notice,
    switchArea,
    officeForm(settings),
  );
}
