import { api, roster } from "../core/api.js";
import { checkbox, field, h, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { WEEKDAYS } from "../core/words.js";
import { refreshMe, schoolBody } from "../ui/school.js";

/** Leaders: the school's name, timezone, school days and hours, and the first day of its week. */
export async function schoolDayView() {
  const school = await api("GET", roster(""));
  const name = h("input", { type: "text", required: true, maxlength: 200, value: school.name });
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const timezone = h("select", { required: true },
    [...new Set([school.timezone, "Europe/London", ...zones])].map((zone) => h("option", { value: zone, text: zone.replaceAll("_", " "), selected: zone === school.timezone })));
  const days = WEEKDAYS.map((day, index) => checkbox(day, { value: String(index), checked: school.working_days.includes(index) }));
  const starts = h("input", { type: "time", required: true, value: school.day_starts.slice(0, 5) });
  const ends = h("input", { type: "time", required: true, value: school.day_ends.slice(0, 5) });
  const weekStart = h("select", { required: true }, WEEKDAYS.map((day, index) => h("option", { value: String(index), text: day, selected: index === school.week_start })));
  const save = h("button", { type: "submit", text: "Save" });
  const form = h("form", { class: "stack" },
    field("School name", { control: name }),
    field("Timezone", { control: timezone, hint: "Days, weeks and quiet hours are counted in it." }),
    h("fieldset", null, h("legend", { text: "School days" }), ...days),
    field("The school day starts at", { control: starts }),
    field("and ends at", { control: ends, hint: "Messages to staff wait outside these hours." }),
    field("The school's week starts on", { control: weekStart, hint: "Weekly points and targets count from this day." }),
    save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const workingDays = days.map((d) => d.querySelector("input")).filter((i) => i.checked).map((i) => Number(i.value));
    if (!workingDays.length) return warn("Please tick at least one school day.");
    if (starts.value >= ends.value) return warn("The school day must start before it ends.");
    return working(save, "Saving…", async () => {
      await api("PUT", roster(""), schoolBody(school, {
        name: name.value.trim(),
        timezone: timezone.value,
        working_days: workingDays,
        day_starts: starts.value,
        day_ends: ends.value,
        week_start: Number(weekStart.value),
      }));
      await refreshMe();
      say("Saved. The school's days and hours are updated.");
    });
  });
  return section(
    "School day",
    h("p", { text: "When the school is open: the days, the hours, and the day a school week starts." }),
    form,
  );
}
