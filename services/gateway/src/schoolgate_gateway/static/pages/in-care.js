import { api, consent, schoolClasses, schoolPupils } from "../core/api.js";
import { h, section } from "../core/dom.js";

/** Leaders: the pupils in local-authority care, whose photos are never shown by mistake. */
export async function inCareView() {
  const [media, pupils, classes] = await Promise.all([api("GET", consent("/media")), schoolPupils(), schoolClasses()]);
  const byId = new Map(pupils.map((p) => [p.pupil_id, p]));
  const className = Object.fromEntries(classes.map((c) => [c.class_id, c.name]));
  const inCare = media.filter((m) => m.in_care && byId.has(m.pupil_id)).map((m) => ({ ...m, pupil: byId.get(m.pupil_id) }));
  inCare.sort((a, b) => `${a.pupil.surname} ${a.pupil.first_name}`.localeCompare(`${b.pupil.surname} ${b.pupil.first_name}`));
  const table = h("div", { class: "table-wrap" },
    h("table", null,
      h("caption", { text: "Pupils in care" }),
      h("thead", null, h("tr", null, ["Pupil", "Class", "Photos"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", null, inCare.map((m) =>
        h("tr", null,
          h("th", { scope: "row", text: `${m.pupil.first_name} ${m.pupil.surname}` }),
          h("td", { text: className[m.pupil.class_id] || "" }),
          h("td", { text: m.exception ? "Allowed as an exception" : "Never shown" }))))));
  return section(
    "Pupils in care",
    h("p", null, "Pupils recorded as in local-authority care. To change a pupil's care status, or record an exception, use ", h("a", { href: "#media", text: "Photo consent" }), "."),
    inCare.length ? table : h("p", { text: "No pupil is recorded as in care." }),
  );
}
