import { api, roster } from "../core/api.js";
import { field, h, radioGroup, section } from "../core/dom.js";
import { say, working } from "../core/messages.js";

/** Leaders: how long the school keeps a leaver's record, and points (messages: not yet). */
export async function retentionView() {
  const current = await api("GET", roster("/retention"));
  const choices = radioGroup("A pupil's record after they leave", "leavers", [
    ["term", "Until the end of the next term (recommended)"],
    ["days", "A number of days I choose"],
  ], "choices");
  const days = h("input", { type: "number", min: "0", max: "3650", value: String(current.leavers_kept_days ?? 30), inputmode: "numeric" });
  choices.querySelector(`input[value="${current.leavers_kept_days == null ? "term" : "days"}"]`).checked = true;
  const months = h("input", { type: "number", min: "1", max: "120", value: String(current.points_kept_months), inputmode: "numeric", required: true });
  const save = h("button", { type: "submit", text: "Save" });
  const form = h(
    "form",
    { class: "stack" },
    choices,
    field("Days after leaving, if you chose a number", { control: days, hint: "0 erases a pupil's record as soon as they are marked as left." }),
    field("Months of points to keep", { control: months, hint: "Points older than this are erased a week at a time: families and staff stop seeing them, and nobody can tell any more which child they went to. 12 is usual." }),
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(save, "Saving…", async () => {
      const byTerm = choices.querySelector('input[value="term"]').checked;
      await api("PUT", roster("/retention"), {
        leavers_kept_days: byTerm ? null : Number(days.value),
        points_kept_months: Number(months.value),
        messages_kept_months: current.messages_kept_months,
      });
      say("Saved. Leavers' records and old points are erased by these rules every hour.");
    });
  });
  return section(
    "Keeping data",
    h("p", { text: "How long Schoolgate keeps a pupil's record once they have left, and how long it keeps points. When the time is up, their record is erased as a leader would erase it: names, work and photos of them, for good. You can still erase a leaver sooner on Pupils who have left." }),
    form,
  );
}
