import { api, caughtUp, consent, roster, schoolClasses } from "../core/api.js";
import { field, fill, h, section } from "../core/dom.js";
import { failed, say, working } from "../core/messages.js";
import { countOf } from "../core/words.js";

const CHOICES = [["", "Not recorded"], ["yes", "Yes, they agreed"], ["no", "No"]];

/** The office and leaders: a whole class's photo consent in one table, from its paper forms. */
export async function classConsentView() {
  const classes = (await schoolClasses()).sort((a, b) => a.name.localeCompare(b.name, "en-GB", { numeric: true }));
  if (!classes.length) return section("Consent for a class", h("p", { text: "There are no classes yet." }));
  const choose = h("select", { onchange: () => draw().catch(failed) }, classes.map((c) => h("option", { value: c.class_id, text: c.name })));
  const table = h("div");

  async function draw() {
    const klass = classes.find((c) => c.class_id === choose.value);
    const [pupils, media] = await Promise.all([
      api("GET", roster(`/classes/${encodeURIComponent(klass.class_id)}/pupils`)),
      api("GET", consent("/media")),
    ]);
    const byPupil = new Map(media.map((m) => [m.pupil_id, m]));
    pupils.sort((a, b) => `${a.surname} ${a.first_name}`.localeCompare(`${b.surname} ${b.first_name}`));
    const rows = pupils.map((p) => {
      const m = byPupil.get(p.pupil_id);
      const now = m?.changed_at ? (m.granted ? "yes" : "no") : "";
      const name = `${p.first_name} ${p.surname}`;
      // once recorded, a family's answer is changed, never unrecorded
      const answer = h("select", { "aria-label": `Photos of ${name}`, dataset: { pupil: p.pupil_id, was: now } },
        CHOICES.filter(([v]) => v || !now).map(([v, text]) => h("option", { value: v, text, selected: v === now })));
      const shown = m?.may_appear ? "Yes" : m?.in_care && m?.granted ? "No: in care" : "No";
      return h("tr", null, h("th", { scope: "row", text: name }), h("td", null, answer), h("td", { text: shown }));
    });
    const save = h("button", { type: "submit", text: "Save the class's answers" });
    const form = h("form", { class: "stack" },
      h("div", { class: "table-wrap" },
        h("table", null,
          h("caption", { text: `Photo consent in ${klass.name}: ${countOf(pupils.length, "pupil")}` }),
          h("thead", null, h("tr", null, ["Pupil", "Family's answer", "May appear in photos"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", null, rows))),
      save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const changed = [...form.querySelectorAll("select")].filter((s) => s.value && s.value !== s.dataset.was);
      working(save, "Saving…", async () => {
        for (const s of changed) {
          await api("PUT", consent(`/pupils/${encodeURIComponent(s.dataset.pupil)}/media-consent`), { granted: s.value === "yes" });
        }
        await caughtUp();
        await draw();
        say(changed.length ? `Saved ${countOf(changed.length, "answer")} for ${klass.name}.` : "Nothing had changed.");
      });
    });
    fill(table, form);
  }

  await draw();
  return section(
    "Consent for a class",
    h("p", { text: "Record a whole class's paper forms at once. A child in local-authority care is not shown in photos, whatever the answer, unless a leader records an exception on Photo consent." }),
    field("Class", { control: choose }),
    table,
  );
}
