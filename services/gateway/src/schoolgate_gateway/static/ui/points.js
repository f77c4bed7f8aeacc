// One child's points, by value and against their daily target (their family's and their own view).
import { afterQuery, api, pointsApi, readUntil, URLS } from "../core/api.js";
import { field, fill, h, uid } from "../core/dom.js";
import { freshest, listen } from "../core/live.js";
import { quietly, say, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { points, shortDay, wayName } from "../core/words.js";

export const WHO_SET = { parent: "a parent or carer", teacher: "the teacher", teaching_assistant: "the teacher", leader: "the school" };

/** A table of points for each value, today and this week: one child's only. */
function byWayTable(today, week, names, caption) {
  const ids = [...new Set([...Object.keys(names), ...Object.keys(today.by_way || {}), ...Object.keys(week.by_way || {})])];
  const rows = h("tbody");
  for (const id of ids) {
    rows.append(
      h(
        "tr",
        null,
        h("th", { scope: "row", text: wayName(id, names) }),
        h("td", { text: String(today.by_way?.[id] ?? 0) }),
        h("td", { text: String(week.by_way?.[id] ?? 0) }),
      ),
    );
  }
  if (today.needs_work || week.needs_work) {
    rows.append(
      h(
        "tr",
        { class: "needs-work-row" },
        h("th", { scope: "row", text: "Needs work" }),
        h("td", { text: String(today.needs_work || 0) }),
        h("td", { text: String(week.needs_work || 0) }),
      ),
    );
  }
  return h(
    "table",
    { class: "by-way-table" },
    h("caption", { text: caption }),
    h("thead", null, h("tr", null, h("th", { scope: "col", text: "Value" }), h("th", { scope: "col", text: "Today" }), h("th", { scope: "col", text: "This week" }))),
    rows,
  );
}

/** Set, change or take away a child's daily target (their parent or their teacher). */
export function targetForm({ path, name, current, saved }) {
  const input = h("input", { type: "number", min: 1, max: 50, step: 1, inputmode: "numeric", required: true, value: current ?? "" });
  const save = h("button", { type: "submit", text: current ? "Change target" : "Save target" });
  const remove = current
    ? h("button", { type: "button", class: "secondary", text: "Remove target" })
    : null;
  const form = h(
    "form",
    { class: "stack target-form" },
    field(`Daily target for ${name}`, {
      control: input,
      hint: "How many points to aim for each day, from 1 to 50.",
    }),
    h("div", { class: "row" }, save, remove),
  );
  async function store(value, button) {
    await working(button, "Saving…", async () => {
      await api("PUT", path, { points_per_day: value });
      await saved(value);
      say(value ? `Daily target saved: ${value} ${points(value)} a day for ${name}.` : `The daily target for ${name} is removed.`);
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number(input.value);
    if (!Number.isInteger(value) || value < 1 || value > 50) {
      warn("Choose a daily target from 1 to 50 points.");
      input.focus();
      return;
    }
    store(value, save);
  });
  remove?.addEventListener("click", () => store(null, remove));
  return form;
}

/**
 * One child's points: today and this week by value, progress towards their own daily target,
 * and their weeks so far with their best week. Live: it refreshes when news of the child comes.
 * Never shows another child's points.
 */
export function pointsPanel(child, { self = false, targets = false } = {}) {
  const schoolId = child.school_id || state.me.school_id;
  const base = pointsApi(`/pupils/${encodeURIComponent(child.pupil_id)}`, schoolId);
  const names = schoolId === state.me.school_id ? state.me.school_ways || {} : {};
  const counts = h("div", { class: "counts" });
  const table = h("div", { class: "table-wrap" });
  const goal = h("div", { class: "goal" });
  const goalForm = h("div");
  const weeks = h("div", { class: "weeks-area" });
  const news = h("p", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
  const goalTitle = uid("goal");
  const weeksTitle = uid("weeks");
  const node = h(
    "div",
    { class: "points-panel" },
    counts,
    table,
    h("section", { class: "goal-area", "aria-labelledby": goalTitle }, h("h3", { id: goalTitle, text: self ? "My target" : "Daily target" }), goal, goalForm),
    h("section", { "aria-labelledby": weeksTitle }, h("h3", { id: weeksTitle, text: self ? "My weeks" : "Weeks" }), weeks),
    news,
  );
  let last = null;
  let shownTarget;

  function show(summary) {
    const today = summary.today || { total: 0, by_way: {} };
    const week = summary.week || { total: 0, by_way: {} };
    const target = summary.target || {};
    const stat = (label, cls, n) =>
      h("p", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: cls, dataset: { pupil: child.pupil_id }, text: String(n) }), h("span", { class: "stat-unit", text: points(n) }));
    fill(counts, stat("Today", "today-total", today.total), stat("This week", "total", week.total));
    if (self && week.total) counts.append(h("p", { class: "stars", "aria-hidden": "true", text: "★".repeat(Math.min(week.total, 30)) }));
    fill(table, byWayTable(today, week, names, self ? "My points for each value" : `${child.name}'s points for each value`));

    const aim = target.points_per_day;
    if (aim) {
      const id = uid("progress");
      const reached = target.reached || today.total >= aim;
      fill(goal,
        h("label", { for: id, class: "goal-label", text: `${today.total} of ${aim} ${points(aim)} today` }),
        h("progress", { id, max: aim, value: Math.min(today.total, aim) }),
        reached
          ? h("p", { class: "ok", text: self ? "You reached your target today. Well done!" : `${child.name} reached today's target. Well done!` })
          : h("p", { text: self ? `${aim - today.total} more to reach your target today.` : `${aim - today.total} more to reach today's target.` }),
        target.set_by_role ? h("p", { class: "muted", text: `Target set by ${WHO_SET[target.set_by_role] || "the school"}.` }) : null,
      );
    } else {
      fill(goal, h("p", { class: "muted", text: self ? "You do not have a daily target yet." : "No daily target yet." }));
    }
    if (targets && shownTarget !== (aim ?? null)) {
      shownTarget = aim ?? null;
      fill(goalForm,
        targetForm({
          path: `${base}/target`,
          name: child.name,
          current: shownTarget,
          saved: async (value) => {
            await readUntil(() => refresh(), (s) => (s.target?.points_per_day ?? null) === value);
            goalForm.querySelector("input")?.focus();
          },
        }),
      );
    }

    const history = summary.history || [];
    const best = summary.best_week;
    if (!history.length) {
      fill(weeks, h("p", { class: "muted", text: "No weeks yet." }));
    } else {
      const list = h("ol", { class: "weeks" });
      for (const w of history.slice(0, 12)) {
        const isBest = best && best.total > 0 && w.week_start === best.week_start;
        list.append(
          h(
            "li",
            { class: isBest ? "best" : null },
            h("span", { text: w.week_start === week.week_start ? "This week" : `Week of ${shortDay(w.week_start)}` }),
            h("strong", { text: `${w.total} ${points(w.total)}` }),
            isBest ? h("span", { class: "badge", text: "★ Best week" }) : null,
          ),
        );
      }
      fill(weeks,
        best && best.total > 0
          ? h("p", { class: "best-line", text: `${self ? "My best week" : "Best week"}: ${best.total} ${points(best.total)}, ${best.week_start === week.week_start ? "this week" : `the week of ${shortDay(best.week_start)}`}.` })
          : null,
        list,
      );
    }

    if (last && today.total !== last.today?.total) {
      const more = today.total > (last.today?.total ?? 0);
      const who = self ? "You" : child.name;
      news.textContent = more
        ? `${who} got a point! ${today.total} ${points(today.total)} today.`
        : `${self ? "Your" : `${child.name}'s`} points changed: ${today.total} today.`;
      for (const number of counts.querySelectorAll(".total, .today-total")) number.classList.add("bump");
    }
    last = summary;
  }

  const refresh = freshest((after) => api("GET", `${base}/summary${afterQuery(after)}`), show);
  const ready = refresh();
  const stream = listen(URLS.pupilLive(child.pupil_id), (message) =>
    refresh(message.position).catch(quietly),
  );
  return { node, ready, refresh, close: () => stream.close() };
}
