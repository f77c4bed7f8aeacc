import { api, classPupilNames, listIn, readUntil, storiesApi } from "../core/api.js";
import { field, fill, h, heading, paragraphs, section, uid } from "../core/dom.js";
import { newId } from "../core/ids.js";
import { failed, say, warn, working } from "../core/messages.js";
import { sameId, shortDay } from "../core/words.js";
import { classSelect } from "../ui/pickers.js";

const SUBMISSION_WORDS = {
  waiting: "Handed in: waiting for you",
  submitted: "Handed in: waiting for you",
  pending: "Handed in: waiting for you",
  approved: "Handed in and approved",
  sent_back: "Sent back to change",
  not_yet: "Not yet",
  missing: "Not yet",
  not_submitted: "Not yet",
  none: "Not yet",
};

export async function homeLearningView() {
  const { control, select } = classSelect(() => load().catch(failed));
  if (!select.options.length) return section("Home learning", h("p", { text: "You do not have a class yet." }));
  const title = h("input", { type: "text", required: true, maxlength: 200 });
  const instructions = h("textarea", { rows: 4, maxlength: 5000 });
  const due = h("input", { type: "date" });
  const set = h("button", { type: "submit", text: "Set home learning" });
  const form = h(
    "form",
    { class: "stack" },
    heading(2, "Set a task"),
    field("Title", { control: title, hint: "For example “Draw your favourite animal”." }),
    field("What to do", { control: instructions }),
    field("Hand in by", { control: due }),
    set,
  );
  const list = h("ul", { class: "cards tasks-list" });
  let taskId = newId();

  async function load(done) {
    const classId = select.value;
    const tasks = listIn(await readUntil(() => api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/home-learning`)), done), "tasks");
    fill(list, ...tasks.map((t) => taskCard(t, classId)));
    if (!tasks.length) list.append(h("li", { class: "muted", text: "No home learning set yet." }));
  }

  function taskCard(task, classId) {
    const titleId = uid("task");
    const who = h("div");
    const check = h("button", { type: "button", class: "secondary", text: "Who has handed it in?", "aria-describedby": titleId });
    check.addEventListener("click", () =>
      working(check, "Checking…", async () => {
        const [answer, names] = await Promise.all([
          api("GET", storiesApi(`/home-learning/${encodeURIComponent(task.task_id)}/submissions`)),
          classPupilNames(classId).catch(() => ({})),
        ]);
        const rows = listIn(answer, "pupils", "submissions");
        const status = (r) => r.status || (r.submitted || r.item_id ? "submitted" : "missing");
        const handed = rows.filter((r) => !["not_yet", "missing", "not_submitted", "none"].includes(status(r))).length;
        fill(who,
          h("p", { text: `${handed} of ${rows.length} handed in.` }),
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              null,
              h("caption", { text: `Who has handed in “${task.title}”` }),
              h("thead", null, h("tr", null, h("th", { scope: "col", text: "Pupil" }), h("th", { scope: "col", text: "Handed in?" }))),
              h("tbody", null, ...rows.map((r) => h("tr", null, h("th", { scope: "row", text: r.name || r.display_name || names[r.pupil_id] || r.pupil_id }), h("td", { text: SUBMISSION_WORDS[status(r)] || status(r) })))),
            ),
          ),
        );
        say(`${handed} of ${rows.length} handed in.`);
      }),
    );
    return h(
      "li",
      null,
      h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h3", { id: titleId, text: task.title }),
        task.due_on ? h("p", { class: "muted", text: `Hand in by ${shortDay(task.due_on)}` }) : null,
        paragraphs(task.instructions, "instructions"),
        check,
        who,
      ),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sent = taskId;
    const name = title.value.trim();
    if (!name) {
      warn("Give the task a title.");
      title.focus();
      return;
    }
    working(set, "Saving…", async () => {
      await api("POST", storiesApi("/home-learning"), {
        task_id: sent,
        class_id: select.value,
        title: name,
        instructions: instructions.value.trim(),
        ...(due.value ? { due_on: due.value } : {}),
      });
      taskId = newId();
      title.value = "";
      instructions.value = "";
      due.value = "";
      await load((answer) => listIn(answer, "tasks").some((t) => sameId(t.task_id, sent)));
      say(`Home learning set: ${name}. Your pupils see it on their “My work” page.`);
    });
  });
  await load();
  return section(
    "Home learning",
    h("p", { text: "Set a task for a class. Pupils hand in their work from their “My work” page, and you can see who has." }),
    control,
    form,
    h("h2", { text: "Tasks set" }),
    list,
  );
}
