import { api, readUntil, roster, schoolClasses } from "../core/api.js";
import { field, fill, h, section, uid } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { exportControl } from "../ui/exports.js";

const pupilPath = (pupilId, action) => roster(`/pupils/${encodeURIComponent(pupilId)}/${action}`);

/** Leaders: mark a pupil as left, download a leaver's record, and erase it when it is time. */
export async function leaversView() {
  const body = h("div", { class: "stack" });

  async function draw(expect) {
    const [pupils, classes] = await Promise.all([
      readUntil(() => api("GET", roster("/pupils?include_left=true")), expect),
      schoolClasses(),
    ]);
    const className = Object.fromEntries(classes.map((c) => [c.class_id, c.name]));
    const name = (p) => `${p.first_name} ${p.surname}`;
    const onRoll = pupils.filter((p) => p.status === "on_roll").sort((a, b) => name(a).localeCompare(name(b)));
    const left = pupils.filter((p) => p.status !== "on_roll" && !p.erased);
    const erased = pupils.filter((p) => p.erased);

    const choose = h("select", { required: true }, h("option", { value: "", text: "Choose a pupil" }),
      onRoll.map((p) => h("option", { value: p.pupil_id, text: `${name(p)} (${className[p.class_id] || "no class"})` })));
    const leave = h("button", { type: "submit", class: "secondary", text: "Mark as left" });
    const leaving = h("form", { class: "stack" }, field("Pupil", { control: choose }), leave);
    leaving.addEventListener("submit", (event) => {
      event.preventDefault();
      const pupilId = choose.value;
      working(leave, "Saving…", async () => {
        await api("POST", pupilPath(pupilId, "leave"));
        say("Marked as left. Their record stays until you erase it.");
        await draw((now) => now.some((p) => p.pupil_id === pupilId && p.status !== "on_roll"));
      });
    });

    const cards = left.map((p) => {
      const titleId = uid("leaver");
      const sure = h("input", { type: "checkbox", id: uid("sure"), required: true });
      const erase = h("button", { type: "submit", class: "danger", text: `Erase ${p.first_name}'s record` });
      const form = h("form", { class: "stack" },
        h("div", { class: "check" }, sure, h("label", { for: sure.id, text: "I have kept what the law asks the school to keep, in the school's own records. This cannot be undone." })),
        erase);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        working(erase, "Erasing…", async () => {
          await api("POST", pupilPath(p.pupil_id, "erase"));
          say(`${p.first_name}'s record is erased.`);
          await draw((now) => now.some((q) => q.pupil_id === p.pupil_id && q.erased));
        });
      });
      return h("article", { class: "card", "aria-labelledby": titleId },
        h("h3", { id: titleId, text: name(p) }),
        h("p", { class: "muted", text: `Was in ${className[p.class_id] || "a class"}.` }),
        exportControl("Download their record", { pupil_id: p.pupil_id }, { describe: `${p.first_name}'s record` }),
        form);
    });

    fill(body,
      h("h2", { text: "A pupil has left" }),
      h("p", { text: "A roster import marks leavers for you. If a pupil left between imports, choose them here." }),
      leaving,
      h("h2", { text: "Pupils who have left" }),
      h("p", { text: "Erasing a pupil deletes for good their name, their work and photos of them, and what staff wrote about them. Their points stay only as numbers, so class totals stay right. Download their record first if the school needs a copy." }),
      cards.length ? h("div", { class: "cards" }, cards) : h("p", { text: "Nobody is waiting to be erased." }),
      h("h2", { text: "Erased" }),
      h("p", { text: erased.length === 1 ? "1 pupil's record has been erased." : `${erased.length} pupils' records have been erased.` }),
    );
  }

  await draw();
  return section("Pupils who have left", body);
}
