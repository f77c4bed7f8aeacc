import { api, pointsApi, readUntil } from "../core/api.js";
import { fill, h, section } from "../core/dom.js";
import { failed } from "../core/messages.js";
import { points } from "../core/words.js";
import { pupilSelect } from "../ui/pickers.js";
import { targetForm, WHO_SET } from "../ui/points.js";

export async function targetsView() {
  const details = h("div");
  const picker = await pupilSelect("Pupil", () => load().catch(failed));

  async function load(expect) {
    const pupilId = picker.select.value;
    if (!pupilId) {
      details.replaceChildren();
      return;
    }
    const name = picker.pupilName(pupilId);
    const path = pointsApi(`/pupils/${encodeURIComponent(pupilId)}`);
    const summary = await readUntil(
      () => api("GET", `${path}/summary`),
      expect === undefined ? undefined : (s) => (s.target?.points_per_day ?? null) === expect,
    );
    const target = summary.target || {};
    fill(details,
      h(
        "p",
        { text: target.points_per_day
          ? `${name}'s target is ${target.points_per_day} ${points(target.points_per_day)} a day, set by ${WHO_SET[target.set_by_role] || "the school"}.`
          : `${name} has no daily target.` },
      ),
      targetForm({
        path: `${path}/target`,
        name,
        current: target.points_per_day ?? null,
        saved: async (value) => {
          await load(value);
          details.querySelector("input")?.focus();
        },
      }),
    );
  }

  return section(
    "Daily targets",
    h("p", { text: "A daily target is a child's own aim, such as 5 points a day. The child and their family see how close they are. A parent or carer can set it too." }),
    picker.control,
    details,
  );
}
