// What every messaging page shares: the school's hours in plain words, and the box a message is
// written in, which checks a message before it goes (office business, full names, the hour).
import { api, messagingApi } from "../core/api.js";
import { checkbox, field, fill, h, heading, uid } from "../core/dom.js";
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
export function composer({ label = "Your message", to = "class", pupilId, pupilName, staff = [], send, status }) {
  const parent = state.me.role === "parent";
  const box = h("textarea", { rows: 4, maxlength: 5000 });
  const files = attachments({ pupilId, pupilName });
  const promise = h("p", { class: "hint", "aria-live": "polite" });
  const choices = h("div", { class: "before-send", hidden: true });
  const button = h("button", { type: "submit", text: "Send" });
  const form = h("form", { class: "stack composer" }, field(label, { control: box }), files.node, promise, button, choices);
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
      await send({ text, attachments: files.chosen(), ...how });
      box.value = "";
      files.clear();
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
    if (files.busy()) {
      warn("Please wait until your files have been added.");
      return;
    }
    if (!text && !files.chosen().length) {
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

/**
 * Photos and PDFs for a message: each is sent to the school when chosen (made safe there), then
 * attached when the message goes. A photo needs words for those who cannot see it; staff also say
 * whether the child it is about is in it, or that no child can be recognised.
 */
function attachments({ pupilId, pupilName }) {
  const staff = state.me.role !== "parent";
  const items = [];
  const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/heic,application/pdf", multiple: true });
  const list = h("ul", { class: "message-attachments" });

  function draw() {
    fill(
      list,
      ...items.map((item) => {
        const word = item.kind === "document" ? "PDF" : "Photo";
        const parts = [h("p", { class: "attachment-name", text: `${item.status === "ready" ? word : "Adding"}: ${item.name}` })];
        if (item.status === "ready" && item.kind === "image") {
          parts.unshift(h("img", { src: item.preview, alt: "", class: "attachment-preview" }));
          const alt = h("textarea", { rows: 2, maxlength: 500, value: item.alt });
          alt.addEventListener("input", () => (item.alt = alt.value));
          parts.push(field("Describe the photo for someone who cannot see it", { control: alt }));
          if (staff) {
            if (pupilId) {
              parts.push(checkbox(`${pupilName || "The child"} is in it`, { checked: item.tagged, onchange: (e) => (item.tagged = e.currentTarget.checked) }));
            }
            parts.push(checkbox("No child can be recognised in it", { checked: item.nobody, onchange: (e) => (item.nobody = e.currentTarget.checked) }));
          }
        }
        const remove = h("button", { type: "button", class: "secondary small", text: `Remove ${item.name}` });
        remove.addEventListener("click", () => {
          items.splice(items.indexOf(item), 1);
          if (item.preview) URL.revokeObjectURL(item.preview);
          draw();
          input.focus();
        });
        if (item.status === "ready") parts.push(remove);
        return h("li", null, ...parts);
      }),
    );
  }

  input.addEventListener("change", async () => {
    const chosen = [...input.files].slice(0, Math.max(0, 10 - items.length));
    input.value = "";
    await Promise.all(
      chosen.map(async (file) => {
        const item = { name: file.name, status: "uploading", alt: "", tagged: false, nobody: false };
        items.push(item);
        draw();
        try {
          Object.assign(item, await api("POST", messagingApi("/media"), file), { status: "ready" });
          if (item.kind === "image") item.preview = URL.createObjectURL(file);
        } catch (error) {
          items.splice(items.indexOf(item), 1);
          failed(error);
        }
        draw();
      }),
    );
  });

  return {
    node: h("div", { class: "stack" }, field("Add a photo or PDF (optional)", { control: input }), list),
    busy: () => items.some((i) => i.status !== "ready"),
    chosen: () =>
      items
        .filter((i) => i.status === "ready")
        .map((i) => ({
          media_id: i.media_id,
          kind: i.kind,
          alt_text: i.alt.trim(),
          tagged_pupil_ids: i.tagged && pupilId ? [pupilId] : [],
          no_child_recognisable: i.nobody,
        })),
    clear() {
      for (const i of items) if (i.preview) URL.revokeObjectURL(i.preview);
      items.length = 0;
      draw();
    },
  };
}
