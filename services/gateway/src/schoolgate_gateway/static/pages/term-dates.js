import { api, caughtUp, roster } from "../core/api.js";
import { field, fill, h, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { countOf, longDate } from "../core/words.js";
import { schoolBody } from "../ui/school.js";

/** A list of named date ranges (terms, or holidays) that rows are added to and removed from. */
function ranges(kind, items, max) {
  const list = h("ol", { class: "stack terms" });
  let count = 0;
  const add = h("button", { type: "button", class: "secondary", text: `Add a ${kind.toLowerCase()}` });

  function row(item = { name: "", starts: "", ends: "" }) {
    const n = ++count;
    const name = h("input", { type: "text", required: true, maxlength: 100, value: item.name });
    const starts = h("input", { type: "date", required: true, value: item.starts });
    const ends = h("input", { type: "date", required: true, value: item.ends });
    const remove = h("button", { type: "button", class: "secondary small", text: "Remove", "aria-label": `Remove ${kind.toLowerCase()} ${n}` });
    const li = h("li", { class: "row" }, field(`${kind} ${n} name`, { control: name }), field(`${kind} ${n} starts`, { control: starts }), field(`${kind} ${n} ends`, { control: ends }), remove);
    li.read = () => ({ name: name.value.trim(), starts: starts.value, ends: ends.value });
    remove.addEventListener("click", () => {
      li.remove();
      say(`${kind} removed. Save to keep the change.`);
      add.focus();
    });
    return li;
  }

  add.addEventListener("click", () => {
    if (list.children.length >= max) return warn(`There can be at most ${max} here.`);
    const li = row();
    list.append(li);
    li.querySelector("input").focus();
    return undefined;
  });
  fill(list, items.map((item) => row(item)));
  return { list, add, read: () => [...list.children].map((li) => li.read()) };
}

/** Leaders: the school's terms and holidays. */
export async function termDatesView() {
  const school = await api("GET", roster(""));
  const terms = ranges("Term", school.terms, 12);
  const holidays = ranges("Holiday", school.holidays || [], 50);

  const between = h("div");
  function showBetween(saved) {
    const sorted = [...saved].sort((a, b) => a.starts.localeCompare(b.starts));
    const gaps = sorted.slice(1).map((t, i) => [sorted[i], t]).filter(([a, b]) => a.ends < b.starts);
    fill(between, gaps.length
      ? h("ul", null, gaps.map(([a, b]) => h("li", { text: `After ${a.name}: from the day after ${longDate(a.ends)} until ${longDate(b.starts)}` })))
      : h("p", { class: "muted", text: "The holidays between terms show here once there are two terms." }));
  }
  showBetween(school.terms);

  const save = h("button", { type: "submit", text: "Save term dates" });
  const form = h("form", { class: "stack" },
    h("h2", { text: "Terms" }), terms.list, terms.add,
    h("h2", { text: "Holidays in term time" }),
    h("p", { text: "Half terms, training days and other days the school is closed." }),
    holidays.list, holidays.add,
    save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = { terms: terms.read(), holidays: holidays.read() };
    const wrong = [...wanted.terms, ...wanted.holidays].find((t) => t.ends < t.starts);
    if (wrong) return warn(`${wrong.name || "A term"} ends before it starts.`);
    return working(save, "Saving…", async () => {
      const answer = await api("PUT", roster(""), schoolBody(school, wanted));
      await caughtUp(); // so the page, opened again, reads what was saved
      Object.assign(school, { terms: answer.terms, holidays: answer.holidays });
      showBetween(answer.terms);
      say(`Saved ${countOf(wanted.terms.length, "term")} and ${countOf(wanted.holidays.length, "holiday")}.`);
    });
  });
  return section(
    "Term dates",
    h("p", { text: "The school's terms and its holidays. The days between two terms are holidays too." }),
    form,
    h("h2", { text: "Between terms" }),
    between,
  );
}
