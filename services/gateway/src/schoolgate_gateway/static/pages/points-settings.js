import { api, pointsApi } from "../core/api.js";
import { field, h, section, uid } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";

export async function pointsSettingsView() {
  const current = await api("GET", pointsApi("/settings"));
  const needsWork = h("input", { type: "checkbox", id: uid("check"), checked: current.needs_work_enabled, "aria-describedby": "needs-work-hint" });
  const undo = h("input", { type: "number", min: 10, max: 600, step: 1, inputmode: "numeric", required: true, value: current.undo_window_seconds });
  const save = h("button", { type: "submit", text: "Save settings" });
  const form = h(
    "form",
    { class: "stack" },
    h(
      "fieldset",
      null,
      h("legend", { text: "“Needs work” points" }),
      h("p", { class: "hint", id: "needs-work-hint", text: "This is off unless you turn it on. When it is on, staff can also note that a child needs to work on one of the school's values. Points a child has earned are never taken away." }),
      h("div", { class: "check" }, needsWork, h("label", { for: needsWork.id, text: "Allow “needs work” points" })),
    ),
    field("Time to undo a point (seconds)", {
      control: undo,
      hint: "Staff can take back a point given by mistake for this long. Normally 60 seconds; from 10 to 600.",
    }),
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number(undo.value);
    if (!Number.isInteger(seconds) || seconds < 10 || seconds > 600) {
      warn("Choose an undo time from 10 to 600 seconds.");
      undo.focus();
      return;
    }
    working(save, "Saving…", async () => {
      const saved = await api("PUT", pointsApi("/settings"), { needs_work_enabled: needsWork.checked, undo_window_seconds: seconds });
      needsWork.checked = saved.needs_work_enabled;
      undo.value = saved.undo_window_seconds;
      say(`Saved. “Needs work” points are ${saved.needs_work_enabled ? "on" : "off"}; staff can undo a point for ${saved.undo_window_seconds} seconds.`);
    });
  });
  return section(
    "Points settings",
    h("p", { text: "How your school gives points." }),
    form,
  );
}
