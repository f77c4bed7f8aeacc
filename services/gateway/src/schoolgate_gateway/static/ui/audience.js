// Who a story is for (a class, a year group, the school), and when it is published.
import { api, cached, roster } from "../core/api.js";
import { checkbox, field, fill, h, heading, uid } from "../core/dom.js";
import { warn } from "../core/messages.js";
import { state } from "../core/state.js";
import { listOf, localInput } from "../core/words.js";

/** The pupils a story's audience includes, by the names their classes know them by. */
export async function audiencePupils(audience) {
  if (!audience) return [];
  let found;
  if (audience.kind === "classes") {
    found = (
      await Promise.all(
        (audience.class_ids || []).map((c) =>
          cached(`class-pupils-${c}`, () => api("GET", roster(`/classes/${encodeURIComponent(c)}/pupils`))),
        ),
      )
    ).flat();
  } else if (audience.kind === "year_group") {
    const y = audience.year_group_id;
    found = await cached(`year-pupils-${y}`, () => api("GET", roster(`/pupils?year_group_id=${encodeURIComponent(y)}`)));
  } else {
    found = await cached("pupils", () => api("GET", roster("/pupils")));
  }
  return found
    .map((p) => ({ pupil_id: p.pupil_id, name: p.display_name || p.first_name || p.pupil_id }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Words for who a story is for: "Class Oak", "Classes Oak and Willow", "Year 3". */
export function audienceLabel(audience, { classes = [], years = [] } = {}) {
  if (!audience) return "Story";
  const className = (id) => classes.find((c) => c.class_id === id)?.name || state.me?.classes?.[id] || id;
  if (audience.kind === "school") return "The whole school";
  if (audience.kind === "year_group") {
    return years.find((y) => y.year_group_id === audience.year_group_id)?.name || audience.year_group_id || "A year group";
  }
  const names = (audience.class_ids || []).map(className);
  return `${names.length === 1 ? "Class" : "Classes"} ${listOf(names)}`;
}

/** "Publish later": a tick box that shows a date and time. */
export function publishLater(current) {
  const scheduled = current && new Date(current) > new Date();
  const at = h("input", { type: "datetime-local", value: scheduled ? localInput(current) : "" });
  const atField = field("Show it to families from", { control: at, hint: "Families will not see it before then." });
  atField.hidden = !scheduled;
  const later = checkbox("Publish later", {
    checked: scheduled,
    onchange: (event) => {
      atField.hidden = !event.currentTarget.checked;
      if (event.currentTarget.checked) at.focus();
    },
  });
  const box = later.querySelector("input");
  return {
    node: h("div", { class: "stack" }, later, atField),
    /** The ISO time to show it from, null for now; throws a plain reason when it is not right. */
    value() {
      if (!box.checked) return null;
      const chosen = at.value ? new Date(at.value) : null;
      if (!chosen || Number.isNaN(chosen.getTime())) throw new Error("Choose the day and time families should see it.");
      if (chosen <= new Date()) throw new Error("Choose a time in the future, or untick “Publish later”.");
      return chosen.toISOString();
    },
    focus: () => (box.checked ? at : box).focus(),
    reset() {
      box.checked = false;
      at.value = "";
      atField.hidden = true;
    },
  };
}

/** Say plainly why a story was refused, beside the button that was pressed. */
export function refusal(box, title, error) {
  const next =
    error.slug === "no-media-consent"
      ? "Untick those children, or remove the photo they are in, then try again."
      : null;
  fill(box, h("div", { class: "notice" }, heading(2, title), h("p", { text: error.message }), next ? h("p", { text: next }) : null));
  warn(error.message);
}

/** Who may see a new story: some of my classes, a year group, or (leaders) the whole school. */
export function audienceChooser({ classes, years, wholeSchool, onChange }) {
  const name = uid("audience");
  const options = h("div", { class: "audience-options" });
  const changed = () => onChange(value());
  const choice = (kind, label, checked) => {
    const id = uid("audience");
    return h("div", { class: "way" }, h("input", { type: "radio", name, id, value: kind, checked, onchange: () => show() }), h("label", { for: id, text: label }));
  };
  const classBoxes = classes.map((c, i) => checkbox(c.name, { value: c.class_id, checked: i === 0, onchange: changed }));
  const classSet = classes.length > 1 ? h("fieldset", { class: "sub-choice" }, h("legend", { text: "Which classes?" }), ...classBoxes) : null;
  const yearSelect = h("select", { onchange: changed });
  for (const y of years) yearSelect.append(h("option", { value: y.year_group_id, text: y.name }));
  const yearField = field("Year group", { control: yearSelect });
  yearField.classList.add("sub-choice");
  const classLabel = classes.length === 1 ? `My class, ${classes[0].name}` : wholeSchool ? "One or more classes" : "One or more of my classes";
  options.append(choice("classes", classLabel, true));
  if (classSet) options.append(classSet);
  if (years.length) options.append(choice("year_group", "A year group", false), yearField);
  if (wholeSchool) options.append(choice("school", "The whole school", false));
  const set = h("fieldset", { class: "audience" }, h("legend", { text: "Who will see it?" }), options);

  function kind() {
    return set.querySelector(`input[name="${name}"]:checked`)?.value || "classes";
  }
  function show() {
    if (classSet) classSet.hidden = kind() !== "classes";
    yearField.hidden = kind() !== "year_group";
    changed();
  }
  function value() {
    const k = kind();
    if (k === "year_group") return { kind: k, class_ids: [], year_group_id: yearSelect.value };
    if (k === "school") return { kind: k, class_ids: [], year_group_id: null };
    const ids = classes.length === 1 ? [classes[0].class_id] : classBoxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    return { kind: k, class_ids: ids, year_group_id: null };
  }
  setTimeout(show);
  return { node: set, value, focus: () => set.querySelector("input")?.focus() };
}
