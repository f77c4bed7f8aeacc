import { api, roster } from "../core/api.js";
import { field, fill, h, heading, section, uid } from "../core/dom.js";
import { working } from "../core/messages.js";
import { state } from "../core/state.js";
import { listOf, ROLE_NAMES } from "../core/words.js";
import { redrawSaying } from "../ui/school.js";

const STAFF_ROLES = ["teacher", "teaching_assistant", "leader", "office", "school_admin"];

function roleSelect(chosen, attrs = {}) {
  return h("select", { required: true, ...attrs }, STAFF_ROLES.map((r) => h("option", { value: r, text: ROLE_NAMES[r], selected: r === chosen })));
}

/** Tick boxes for the school's classes, with a way to read which are ticked. */
function classChecks(classes, chosen, legend) {
  const set = h("fieldset", { class: "ways" }, h("legend", { text: legend }));
  for (const c of classes) {
    const id = uid("class");
    set.append(h("div", { class: "way" }, h("input", { type: "checkbox", id, value: c.class_id, checked: chosen.includes(c.class_id) }), h("label", { for: id, text: c.name })));
  }
  if (!classes.length) set.append(h("p", { class: "hint", text: "The school has no classes yet." }));
  return { set, value: () => [...set.querySelectorAll("input:checked")].map((i) => i.value) };
}

/** Leaders: who works at the school, in which role and with which classes. */
export async function staffView() {
  const body = h("div", { class: "stack" });

  const saved = (words) => redrawSaying(draw, words);

  async function draw() {
    const [staff, classes] = await Promise.all([api("GET", roster("/staff")), api("GET", roster("/classes"))]);
    classes.sort((a, b) => a.name.localeCompare(b.name, "en-GB", { numeric: true }));
    const className = Object.fromEntries(classes.map((c) => [c.class_id, c.name]));
    const active = staff.filter((m) => m.status === "active").sort((a, b) => a.display_name.localeCompare(b.display_name));

    const rows = active.map((m) => {
      const mine = m.staff_id === state.me.staff_id;
      const role = roleSelect(m.role, { disabled: mine });
      const ticks = classChecks(classes, m.class_ids, `Classes of ${m.display_name}`);
      const save = h("button", { type: "submit", text: "Save" });
      const form = h("form", { class: "stack" },
        field(`Role of ${m.display_name}`, { control: role, hint: mine ? "Another leader changes your own role." : undefined }),
        ticks.set,
        save);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        working(save, "Saving…", async () => {
          await api("PUT", roster(`/staff/${encodeURIComponent(m.staff_id)}`), { role: role.value, class_ids: ticks.value() });
          await saved(`Saved: ${m.display_name} is ${ROLE_NAMES[role.value].toLowerCase()}${ticks.value().length ? ` of ${listOf(ticks.value().map((c) => className[c]))}` : ""}.`);
        });
      });
      return h("tr", null,
        h("th", { scope: "row", text: m.display_name }),
        h("td", { text: ROLE_NAMES[m.role] || m.role }),
        h("td", { text: listOf(m.class_ids.map((c) => className[c] || c)) || "None" }),
        h("td", null, h("details", null, h("summary", { text: `Change ${m.display_name}` }), form)));
    });

    const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
    const email = h("input", { type: "email", required: true, maxlength: 254, autocomplete: "off" });
    const role = roleSelect("teacher");
    const ticks = classChecks(classes, [], "Their classes");
    const add = h("button", { type: "submit", text: "Add to the staff" });
    const adding = h("form", { class: "stack" },
      field("Name", { control: name, hint: "As families and colleagues will see it, e.g. Mr Price." }),
      field("Email", { control: email, hint: "They sign in with it." }),
      field("Role", { control: role }),
      ticks.set,
      add);
    adding.addEventListener("submit", (event) => {
      event.preventDefault();
      working(add, "Adding…", async () => {
        const who = name.value.trim();
        await api("POST", roster("/staff"), { display_name: who, email: email.value.trim(), role: role.value, class_ids: ticks.value() });
        await saved(`${who} is on the staff. Give them a set-up link to choose their password.`);
      });
    });

    fill(body,
      h("div", { class: "table-wrap" },
        h("table", null,
          h("caption", { text: "Staff" }),
          h("thead", null, h("tr", null, ["Name", "Role", "Classes", "Change"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", null, rows))),
      h("p", null, "A new colleague chooses their password with a ", h("a", { href: "#staff", text: "set-up link" }), " you send them by email or hand them."),
      heading(2, "Add a member of staff"),
      adding,
    );
  }

  await draw();
  return section(
    "Staff and roles",
    h("p", { text: "Who works at the school, their role, and the classes they teach or help in. Teachers and teaching assistants see their own classes; leaders see every class." }),
    body,
  );
}
