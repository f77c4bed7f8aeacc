import { api, pointsApi } from "../core/api.js";
import { field, fill, h, heading, section } from "../core/dom.js";
import { failed, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { addDays, mondayThisWeek, points, shortDay, wayName } from "../core/words.js";
import { classSelect } from "../ui/pickers.js";

export async function reportView() {
  const { control, select } = classSelect(() => setWeek().then(show).catch(failed));
  if (!select.options.length) {
    return section("Points report", h("p", { text: "You do not have a class yet." }));
  }
  const from = h("input", { type: "date", required: true });
  const to = h("input", { type: "date", required: true });
  const button = h("button", { type: "submit", text: "Show points" });
  const result = h("div", { class: "report" });
  const form = h(
    "form",
    { class: "stack" },
    control,
    h("div", { class: "row dates" }, field("From", { control: from }), field("To", { control: to })),
    button,
  );

  async function setWeek() {
    let start = null;
    try {
      start = (await api("GET", pointsApi(`/classes/${encodeURIComponent(select.value)}/total`))).week_start;
    } catch {
      start = null;
    }
    start ||= mondayThisWeek();
    from.value = start;
    to.value = addDays(start, 6);
  }

  async function show() {
    const classId = select.value;
    const name = state.me.classes[classId] || classId;
    const query = `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
    const path = pointsApi(`/classes/${encodeURIComponent(classId)}/report?${query}`);
    const report = await api("GET", path);
    const names = { ...(state.me.school_ways || {}), ...(report.school_ways || {}) };
    const wayIds = [...new Set([...Object.keys(names), ...Object.keys(report.by_way || {}), ...report.pupils.flatMap((p) => Object.keys(p.by_way || {}))])];
    const needsWork = report.pupils.some((p) => p.needs_work) || report.needs_work;
    const period = `${shortDay(report.from || from.value)} to ${shortDay(report.to || to.value)}`;
    const head = h("tr", null, h("th", { scope: "col", text: "Pupil" }), ...wayIds.map((id) => h("th", { scope: "col", text: wayName(id, names) })), needsWork ? h("th", { scope: "col", text: "Needs work" }) : null, h("th", { scope: "col", text: "Total" }));
    const body = h("tbody");
    for (const pupil of [...report.pupils].sort((a, b) => a.name.localeCompare(b.name))) {
      body.append(
        h(
          "tr",
          null,
          h("th", { scope: "row", text: pupil.name }),
          ...wayIds.map((id) => h("td", { text: String(pupil.by_way?.[id] ?? 0) })),
          needsWork ? h("td", { text: String(pupil.needs_work || 0) }) : null,
          h("td", { class: "sum", text: String(pupil.total) }),
        ),
      );
    }
    const classNeeds = report.needs_work ?? report.pupils.reduce((n, p) => n + (p.needs_work || 0), 0);
    const foot = h(
      "tr",
      null,
      h("th", { scope: "row", text: "Whole class" }),
      ...wayIds.map((id) => h("td", { text: String(report.by_way?.[id] ?? 0) })),
      needsWork ? h("td", { text: String(classNeeds) }) : null,
      h("td", { class: "sum", text: String(report.total) }),
    );
    const csv = `${path}&format=csv`;
    fill(result,
      heading(2, `Class ${name}: ${period}`),
      h("p", { text: `${report.total} ${points(report.total)} in all.` }),
      report.pupils.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "report-table" }, h("caption", { text: `Points by pupil and value, class ${name}` }), h("thead", null, head), body, h("tfoot", null, foot)))
        : h("p", { text: "There are no pupils in this class." }),
      h("p", null, h("a", { class: "button-link", href: csv, download: `points-${classId}-${from.value}-to-${to.value}.csv`, text: "Download CSV" })),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (from.value > to.value) {
      warn("The “From” date must be on or before the “To” date.");
      from.focus();
      return;
    }
    working(button, "Loading…", async () => {
      await show();
      result.querySelector("h2")?.focus();
    });
  });
  await setWeek();
  await show().catch((error) => {
    fill(result, h("p", { text: "The report could not be shown." }));
    setTimeout(() => failed(error));
  });
  return section(
    "Points report",
    h("p", { text: "A class's points by pupil and by value over a period you choose. It starts with this school week." }),
    form,
    result,
  );
}
