import { api, roster } from "../core/api.js";
import { field, fill, h, heading, section } from "../core/dom.js";
import { working } from "../core/messages.js";
import { redrawSaying } from "../ui/school.js";

const byName = (a, b) => a.name.localeCompare(b.name, "en-GB", { numeric: true });

/** Leaders: the school's year groups and their classes, added and renamed without a file. */
export async function classesView() {
  const body = h("div", { class: "stack" });

  /** A small form that saves one name (and maybe a year group), then draws the page again. */
  function nameForm({ label, value = "", button, extra = null, save }) {
    const name = h("input", { type: "text", required: true, maxlength: 100, value });
    const go = h("button", { type: "submit", class: "small", text: button.text, "aria-label": button.label });
    const form = h("form", { class: "row" }, field(label, { control: name }), extra, go);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      working(go, "Saving…", () => save(name.value.trim()));
    });
    return form;
  }

  const saved = (words) => redrawSaying(draw, words);

  async function draw() {
    const [groups, classes] = await Promise.all([api("GET", roster("/year-groups")), api("GET", roster("/classes"))]);
    groups.sort(byName);
    classes.sort(byName);
    const groupName = Object.fromEntries(groups.map((g) => [g.year_group_id, g.name]));
    const groupSelect = (chosen) =>
      h("select", { required: true }, groups.map((g) => h("option", { value: g.year_group_id, text: g.name, selected: g.year_group_id === chosen })));

    const groupRows = groups.map((g) =>
      h("li", null, nameForm({
        label: `New name for ${g.name}`,
        value: g.name,
        button: { text: "Rename", label: `Rename ${g.name}` },
        save: async (name) => {
          await api("PUT", roster(`/year-groups/${encodeURIComponent(g.year_group_id)}`), { name });
          await saved(`${g.name} is now called ${name}.`);
        },
      })));

    const addGroup = nameForm({
      label: "Year group name",
      button: { text: "Add year group" },
      save: async (name) => {
        await api("POST", roster("/year-groups"), { name });
        await saved(`${name} is added.`);
      },
    });

    const classRows = classes.map((c) => {
      const moveTo = groupSelect(c.year_group_id);
      const labelled = field(`Year group of ${c.name}`, { control: moveTo });
      return h("li", null, nameForm({
        label: `Name of ${c.name} (${groupName[c.year_group_id] || "no year group"})`,
        value: c.name,
        extra: labelled,
        button: { text: "Save", label: `Save ${c.name}` },
        save: async (name) => {
          await api("PUT", roster(`/classes/${encodeURIComponent(c.class_id)}`), { name, year_group_id: moveTo.value });
          await saved(`${name} is saved, in ${groupName[moveTo.value]}.`);
        },
      }));
    });

    const inGroup = groupSelect(groups[0]?.year_group_id);
    const addClass = groups.length
      ? nameForm({
          label: "Class name",
          extra: field("In year group", { control: inGroup }),
          button: { text: "Add class" },
          save: async (name) => {
            await api("POST", roster("/classes"), { name, year_group_id: inGroup.value });
            await saved(`Class ${name} is added to ${groupName[inGroup.value]}.`);
          },
        })
      : h("p", { text: "Add a year group first: every class belongs to one." });

    fill(body,
      heading(2, "Year groups"),
      groups.length ? h("ul", { class: "links" }, groupRows) : h("p", { text: "No year groups yet." }),
      addGroup,
      heading(2, "Classes"),
      classes.length ? h("ul", { class: "links" }, classRows) : h("p", { text: "No classes yet." }),
      addClass,
    );
  }

  await draw();
  return section(
    "Year groups and classes",
    h("p", { text: "Every pupil is in one class, and every class in a year group. A roster import adds these for you; here you can add and rename them by hand." }),
    body,
  );
}
