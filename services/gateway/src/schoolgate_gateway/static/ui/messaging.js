// What every messaging page shares: the school's hours in plain words, and the box a message is
// written in, which checks a message before it goes (office business, full names, the hour).
import { api, messagingApi } from "../core/api.js";
import { field, h, heading, uid } from "../core/dom.js";
import { failed, warn } from "../core/messages.js";
import { replyAfterWords, todayIn } from "../core/school-time.js";
import { state } from "../core/state.js";
import { listOf } from "../core/words.js";

/** What a message the office deals with is about, as a parent would say it. */
export const MATTER_WORDS = {
  absence: "an absence",
  sickness: "your child being ill",
  appointment: "an appointment",
  dinners: "school dinners",
  music_lessons: "music lessons",
  complaint: "a complaint",
  collection: "who collects your child",
};

/** Office matters that are really an absence, and the reason the absence form starts with. */
export const ABSENCE_REASON = { absence: "other", sickness: "sickness", appointment: "appointment" };

export const ABSENCE_REASONS = [
  ["sickness", "Illness"],
  ["appointment", "An appointment (doctor, dentist, hospital)"],
  ["family", "A family matter"],
  ["other", "Something else"],
];

export const messagingStatus = () => api("GET", messagingApi("/messaging/status"));

/** "8:00 on Monday": when staff are next in, on the school's clock. */
export const backAt = (status, who = "school") =>
  replyAfterWords(status?.[who]?.reply_after_local, todayIn(status?.timezone));

/** Who the class's messages go to: "Ms Oak and Mr Birch", or a plain word without names. */
export const classStaffWords = (names) => (names?.length ? listOf(names) : "your child's class teacher");

/** For a family writing outside hours: when a reply can come, or nothing in hours. */
export function replyPromise(status, { office = false, staff = [] } = {}) {
  const who = office ? "office" : "school";
  if (!status || status[who]?.in_hours || !status[who]?.reply_after_local) return "";
  const name = office ? "The office" : staff[0] || "Your child's teacher";
  return `${name} usually replies within one school day. It is now outside school hours: expect a reply after ${backAt(status, who)}.`;
}

/** The page's draft for the absence form, when a message turned out to be an absence. */
export const absenceDraft = {
  set(draft) {
    state.cache["absence-draft"] = draft;
  },
  take() {
    const draft = state.cache["absence-draft"];
    delete state.cache["absence-draft"];
    return draft || null;
  },
};

/**
 * The box a message is written in. Before it goes, the service is asked what it thinks of it;
 * when there is something to say, the writer sees it in plain words and chooses, else it goes.
 *
 * `send({ text, to, sendAt })` sends it; `to` is "class" or "office" (or a function answering
 * which, when the page lets the writer choose): a parent's message the office deals with can go
 * there instead. `staff` are the class staff's names.
 */
export function composer({ label = "Your message", to = "class", pupilId, staff = [], send, status }) {
  const parent = state.me.role === "parent";
  const box = h("textarea", { rows: 4, maxlength: 5000, required: true });
  const promise = h("p", { class: "hint", "aria-live": "polite" });
  const choices = h("div", { class: "before-send", hidden: true });
  const button = h("button", { type: "submit", text: "Send" });
  const form = h("form", { class: "stack composer" }, field(label, { control: box }), promise, button, choices);
  const teacher = staff[0] || "the class teacher";
  const target = () => (typeof to === "function" ? to() : to);
  let known = status;

  const showPromise = (now) => {
    known = now || known;
    promise.textContent = parent ? replyPromise(known, { office: target() === "office", staff }) : "";
    promise.hidden = !promise.textContent;
  };
  showPromise(status);

  const close = () => {
    choices.hidden = true;
    choices.replaceChildren();
  };

  const go = async (how, control) => {
    const text = box.value.trim();
    control.disabled = true;
    try {
      await send({ text, ...how });
      box.value = "";
      close();
    } catch (error) {
      failed(error);
    } finally {
      control.disabled = false;
    }
  };

  function ask(lines, buttons) {
    const titleId = uid("before");
    const actions = h("div", { class: "actions-row" });
    for (const [text, how, cls] of buttons) {
      const b = h("button", { type: "button", class: cls, text });
      b.addEventListener("click", () => (how ? go(how, b) : close()));
      actions.append(b);
    }
    const change = h("button", { type: "button", class: "secondary", text: "Change my message" });
    change.addEventListener("click", () => {
      close();
      box.focus();
    });
    actions.append(change);
    choices.replaceChildren(
      h("section", { class: "notice", "aria-labelledby": titleId }, heading(2, "Before you send", { id: titleId }), ...lines, actions),
    );
    choices.hidden = false;
    choices.querySelector("h2").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    close();
    const text = box.value.trim();
    if (!text) {
      warn("Please write your message first.");
      box.focus();
      return;
    }
    button.disabled = true;
    let check;
    try {
      check = await api("POST", messagingApi("/messaging/check"), { text, pupil_id: pupilId || undefined, to: target() });
    } catch (error) {
      failed(error);
      return;
    } finally {
      button.disabled = false;
    }
    const now = check.status;
    showPromise(now);
    if (now.switched_off) {
      warn(now.notice || "The school has switched messages off for now.");
      return;
    }
    const lines = [];
    let buttons = [["Send", {}]];
    const matter = check.office_matter?.matter;
    if (matter) {
      lines.push(
        h("p", { text: `This looks like it is about ${MATTER_WORDS[matter] || "something the office deals with"}. These go to the school office, who deal with them. Send it to the office instead?` }),
      );
      buttons = [
        ["Send to the office", { to: "office" }],
        [`Send to ${teacher} anyway`, {}, "secondary"],
      ];
      if (matter === "collection" && !now.office.in_hours && now.phone) {
        lines.push(h("p", { class: "notice-text", text: `For anything urgent today, please phone the office on ${now.phone}.` }));
      }
      if (matter in ABSENCE_REASON && parent && pupilId) {
        const report = h("a", { href: `#absence=${pupilId}`, class: "button-link", text: "Report an absence" });
        report.addEventListener("click", () => absenceDraft.set({ pupilId, note: text, reason: ABSENCE_REASON[matter] }));
        lines.push(h("p", { text: "If your child will be away, the absence form tells the office straight away. " }, report));
      }
    }
    if (check.full_names?.length) {
      const names = listOf(check.full_names.map((n) => n.name));
      lines.push(h("p", { text: `You named ${names}. We use first names only: please change it before sending.` }));
      if (!matter) buttons = [["Send anyway", {}, "secondary"]];
    }
    if (!parent && !now.school.in_hours && now.school.reply_after) {
      const at = backAt(now);
      lines.push(h("p", { text: `It is outside school hours. Families can get it at ${at} instead, when school starts.` }));
      buttons = [
        [`Send at ${at}`, { sendAt: now.school.reply_after }],
        ["Send now", {}, "secondary"],
      ];
    }
    if (!lines.length) {
      await go({}, button);
      return;
    }
    ask(lines, buttons);
  });
  return { node: form, focus: () => box.focus(), update: () => showPromise(null) };
}
