// `#absence`: a parent tells the office their child will be away. `#absences`: the office's list of
// what families reported, each recorded in the register with one button.
import { afterQuery, api, lastWritten, messagingApi } from "../core/api.js";
import { field, fill, h, section, uid } from "../core/dom.js";
import { checkAgain, say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { dayOf, isoDay } from "../core/words.js";
import { ABSENCE_REASONS, absenceDraft } from "../ui/messaging.js";
import { emptyState } from "../ui/monsters.js";

const REASON_WORDS = Object.fromEntries(ABSENCE_REASONS);

/** "Monday 7 December": a school date in a sentence (a comma-free date, and no year to read). */
const dayWords = (iso) => dayOf(iso).toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });

const days = (a) => (a.first_day === a.last_day ? dayWords(a.first_day) : `${dayWords(a.first_day)} to ${dayWords(a.last_day)}`);

export function absenceView(route) {
  const me = state.me;
  const draft = absenceDraft.take();
  const children = (me.children || []).filter((c) => c.school_id === me.school_id);
  if (!children.length) return section("Report an absence", h("p", { text: "You are not connected to a child at this school yet." }));
  const chosen = draft?.pupilId || route.key;
  const child = h("select", { required: true }, ...children.map((c) => h("option", { value: c.pupil_id, text: c.name, selected: c.pupil_id === chosen })));
  const today = isoDay(new Date());
  const first = h("input", { type: "date", required: true, value: today });
  const last = h("input", { type: "date", required: true, value: today });
  const reason = h("select", { required: true }, ...ABSENCE_REASONS.map(([value, text]) => h("option", { value, text, selected: value === (draft?.reason || "sickness") })));
  const note = h("textarea", { rows: 3, maxlength: 1000, value: draft?.note || "" });
  const button = h("button", { type: "submit", text: "Tell the office" });
  const done = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack" },
    field("Which child?", { control: child }),
    field("First day away", { control: first }),
    field("Last day away", { control: last, hint: "The same day if it is just one day." }),
    field("Why?", { control: reason }),
    field("Anything the office should know (optional)", { control: note }),
    button,
  );
  first.addEventListener("change", () => {
    if (last.value < first.value) last.value = first.value;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Sending…", async () => {
      await api("POST", messagingApi("/absences"), {
        pupil_id: child.value,
        first_day: first.value,
        last_day: last.value,
        reason: reason.value,
        note: note.value.trim(),
      });
      const name = children.find((c) => c.pupil_id === child.value)?.name || "your child";
      const when = first.value === last.value ? `on ${dayWords(first.value)}` : `from ${dayWords(first.value)} to ${dayWords(last.value)}`;
      const titleId = uid("done");
      fill(done, h("section", { class: "notice", "aria-labelledby": titleId }, h("h2", { id: titleId, tabindex: "-1", text: "Thank you: the office knows" }), h("p", { text: `The office has your message that ${name} will be away ${when}. You do not need to do anything else.` })));
      form.hidden = true;
      done.querySelector("h2").focus();
      say("Sent to the office.");
    });
  });
  return section(
    "Report an absence",
    h("p", { text: "Tell the school office when your child will be away. The office puts it in the register." }),
    form,
    done,
  );
}

export async function absencesView() {
  const list = h("ul", { class: "cards" });
  async function load() {
    const found = await api("GET", messagingApi(`/absences${afterQuery(lastWritten())}`));
    fill(
      list,
      found.length
        ? found.map((a) => {
            const titleId = uid("absence");
            const recorded = a.status === "recorded";
            const b = recorded ? null : h("button", { type: "button", text: "Recorded", "aria-describedby": titleId });
            b?.addEventListener("click", () =>
              working(b, "Saving…", async () => {
                await api("POST", messagingApi(`/absences/${encodeURIComponent(a.absence_id)}/record`));
                say(`${a.pupil_name}'s absence is marked as recorded.`);
                await load();
              }),
            );
            return h(
              "li",
              null,
              h(
                "article",
                { class: "card", "aria-labelledby": titleId },
                h("h2", { id: titleId, text: `${a.pupil_name}${a.class_name ? ` (${a.class_name})` : ""}` }),
                h("p", { text: `${days(a)}. ${REASON_WORDS[a.reason] || a.reason}.` }),
                a.note ? h("p", { class: "message-text", text: a.note }) : null,
                h("p", { class: recorded ? "muted" : "badge", text: recorded ? "In the register" : "Not yet in the register" }),
                b,
              ),
            );
          })
        : emptyState("No absences reported."),
    );
  }
  await load();
  return section("Absences", h("p", { class: "muted", text: "What families told the office. Press Recorded once it is in the register." }), list, checkAgain(load));
}
