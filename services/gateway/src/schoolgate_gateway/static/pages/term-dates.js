import { api, roster } from "../core/api.js";
import { field, fill, h, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { longDate } from "../core/words.js";
import { schoolBody } from "../ui/school.js";

const MAX_TERMS = 12;

/** Leaders: the school's terms; the days between them are its holidays. */
export async function termDatesView() {
  const school = await api("GET", roster(""));
  const list = h("ol", { class: "stack terms" });
  let count = 0;

  function termRow(term = { name: "", starts: "", ends: "" }) {
    const n = ++count;
    const name = h("input", { type: "text", required: true, maxlength: 100, value: term.name });
    const starts = h("input", { type: "date", required: true, value: term.starts });
    const ends = h("input", { type: "date", required: true, value: term.ends });
    const remove = h("button", { type: "button", class: "secondary small", text: "Remove", "aria-label": `Remove term ${n}` });
    const row = h("li", { class: "row term" }, field(`Term ${n} name`, { control: name }), field(`Term ${n} starts`, { control: starts }), field(`Term ${n} ends`, { control: ends }), remove);
    row.read = () => ({ name: name.value.trim(), starts: starts.value, ends: ends.value });
    remove.addEventListener("click", () => {
      row.remove();
      say("Term removed. Save to keep the change.");
      addButton.focus();
    });
    return row;
  }

  const addButton = h("button", { type: "button", class: "secondary", text: "Add a term" });
  addButton.addEventListener("click", () => {
    if (list.children.length >= MAX_TERMS) return warn(`A school year has at most ${MAX_TERMS} terms here.`);
    const row = termRow();
    list.append(row);
    row.querySelector("input").focus();
    return undefined;
  });
  fill(list, school.terms.map((t) => termRow(t)));

  const holidays = h("div");
  function showHolidays(terms) {
    const sorted = [...terms].sort((a, b) => a.starts.localeCompare(b.starts));
    const gaps = sorted.slice(1).map((t, i) => [sorted[i], t]).filter(([a, b]) => a.ends < b.starts);
    fill(holidays, gaps.length
      ? h("ul", null, gaps.map(([a, b]) => h("li", { text: `After ${a.name}: from the day after ${longDate(a.ends)} until ${longDate(b.starts)}` })))
      : h("p", { class: "muted", text: "Holidays show here once there are two terms." }));
  }
  showHolidays(school.terms);

  const save = h("button", { type: "submit", text: "Save term dates" });
  const form = h("form", { class: "stack" }, list, addButton, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const terms = [...list.children].map((row) => row.read());
    const wrong = terms.find((t) => t.ends < t.starts);
    if (wrong) return warn(`${wrong.name || "A term"} ends before it starts.`);
    return working(save, "Saving…", async () => {
      const answer = await api("PUT", roster(""), schoolBody(school, { terms }));
      school.terms = answer.terms;
      showHolidays(answer.terms);
      say(`Saved ${terms.length === 1 ? "1 term" : `${terms.length} terms`}.`);
    });
  });
  return section(
    "Term dates",
    h("p", { text: "The school's terms. The days between two terms are the school holidays." }),
    form,
    h("h2", { text: "Holidays" }),
    holidays,
  );
}
