// Choosing a class or a pupil, and typing the code a teacher shows.
import { schoolClasses, schoolPupils } from "../core/api.js";
import { field, h } from "../core/dom.js";
import { state } from "../core/state.js";

async function classNames() {
  if (Object.keys(state.me.classes || {}).length && state.me.role !== "office") {
    return state.me.classes;
  }
  const classes = await schoolClasses();
  return Object.fromEntries(classes.map((c) => [c.class_id, c.name]));
}

/** A select of the pupils this person may work with, grouped by class. */
export async function pupilSelect(label, onChange) {
  const [pupils, names] = await Promise.all([schoolPupils(), classNames()]);
  const select = h("select", { required: true, onchange: onChange });
  select.append(h("option", { value: "", text: "Choose a child" }));
  const byClass = new Map();
  for (const pupil of pupils) {
    const name = names[pupil.class_id] || pupil.class_id;
    if (!byClass.has(name)) byClass.set(name, []);
    byClass.get(name).push(pupil);
  }
  for (const name of [...byClass.keys()].sort()) {
    const group = h("optgroup", { label: `Class ${name}` });
    const members = byClass.get(name).sort((a, b) => a.first_name.localeCompare(b.first_name));
    for (const pupil of members) {
      group.append(
        h("option", { value: pupil.pupil_id, text: `${pupil.first_name} ${pupil.surname}` }),
      );
    }
    select.append(group);
  }
  const pupilName = (id) => {
    const pupil = pupils.find((p) => p.pupil_id === id);
    return pupil ? `${pupil.first_name} ${pupil.surname}` : id;
  };
  return { control: field(label, { control: select }), select, pupilName, pupils };
}

export function classSelect(onChange) {
  const entries = Object.entries(state.me.classes || {});
  const select = h("select", { onchange: onChange });
  for (const [id, name] of entries) select.append(h("option", { value: id, text: name }));
  return { control: entries.length > 1 ? field("Class", { control: select }) : null, select };
}

/** A box to type a short code a teacher shows (a class code, a board code): capitals, no guessing. */
export function codeInput({ maxlength = 16 } = {}) {
  return h("input", {
    type: "text",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    class: "code-input",
    required: true,
    minlength: 4,
    maxlength,
  });
}
