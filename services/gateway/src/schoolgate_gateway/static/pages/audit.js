import { api, roster, schoolClasses, URLS } from "../core/api.js";
import { field, fill, h, section } from "../core/dom.js";
import { working } from "../core/messages.js";

const WHEN = { dateStyle: "medium", timeStyle: "short" };

/** Leaders: which member of staff looked at which child's record, and when. */
export async function auditView() {
  const [pupils, classes, staff] = await Promise.all([
    api("GET", roster("/pupils?include_left=true")),
    schoolClasses(),
    api("GET", roster("/staff?include_left=true")).catch(() => []),
  ]);
  const pupilName = Object.fromEntries(pupils.map((p) => [p.pupil_id, `${p.first_name} ${p.surname}`]));
  const className = Object.fromEntries(classes.map((c) => [c.class_id, c.name]));
  const staffName = Object.fromEntries(staff.map((m) => [m.staff_id, m.display_name]));
  const choose = h("select", null, h("option", { value: "", text: "Every child" }),
    [...pupils].sort((a, b) => pupilName[a.pupil_id].localeCompare(pupilName[b.pupil_id]))
      .map((p) => h("option", { value: p.pupil_id, text: pupilName[p.pupil_id] })));
  const show = h("button", { type: "submit", class: "secondary", text: "Show" });
  const table = h("div");

  async function draw() {
    const entries = await api("GET", URLS.audit(choose.value));
    if (!entries.length) {
      fill(table, h("p", { text: "Nobody has looked at these records yet." }));
      return;
    }
    const rows = entries.map((e) => h("tr", null,
      h("td", { text: new Date(e.at).toLocaleString("en-GB", WHEN) }),
      h("td", { text: staffName[e.staff_id] || "a member of staff" }),
      h("td", { text: e.pupil_id ? pupilName[e.pupil_id] || "a pupil who was erased" : `the class ${className[e.class_id] || ""}` }),
      h("td", { text: e.what }),
    ));
    fill(table, h("table", null,
      h("thead", null, h("tr", null, ["When", "Who", "Whose record", "What"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", null, rows)));
  }

  const form = h("form", { class: "stack" }, field("Child", { control: choose }), show);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(show, "Loading…", draw);
  });
  await draw();
  return section(
    "Who looked at records",
    h("p", { text: "Each time a member of staff opens a child's details, consent, points, portfolio or class report, or downloads their record, it is noted here. Only the school's leaders see this." }),
    form,
    table,
  );
}
