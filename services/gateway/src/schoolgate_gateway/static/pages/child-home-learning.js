// Families: the home learning of each child's class, and what the child handed in.
import { api, storiesApi } from "../core/api.js";
import { fill, h, heading, paragraphs, section, uid } from "../core/dom.js";
import { checkAgain } from "../core/messages.js";
import { state } from "../core/state.js";
import { shortDay } from "../core/words.js";
import { gallery } from "../ui/media.js";

// Work waits for the teacher's approval before a family sees it, as in the portfolio.
const STATUS_WORDS = {
  not_yet: (name) => `${name} has not handed this in yet.`,
  submitted: (name) => `${name} handed this in. You will see it here once the teacher has looked at it.`,
  approved: (name) => `${name} handed this in and the teacher approved it.`,
};

function taskCard(row, child) {
  const { task, status, work } = row;
  const titleId = uid("task");
  const words = (STATUS_WORDS[status] || STATUS_WORDS.submitted)(child.name);
  return h(
    "li",
    null,
    h(
      "article",
      { class: "card", "aria-labelledby": titleId },
      h("h3", { id: titleId, text: task.title }),
      task.due_on ? h("p", { class: "muted", text: `Hand in by ${shortDay(task.due_on)}` }) : null,
      paragraphs(task.instructions, "instructions"),
      h("p", { class: status === "not_yet" ? "muted" : "ok", text: words }),
      ...work.map((item) =>
        h(
          "div",
          { class: "handed-in" },
          h("h4", { text: `What ${child.name} handed in` }),
          paragraphs(item.text),
          gallery(item.attachments, { schoolId: child.school_id, size: "full" }),
        ),
      ),
    ),
  );
}

async function childTasks(child) {
  const rows = await api("GET", storiesApi(`/pupils/${encodeURIComponent(child.pupil_id)}/home-learning`, child.school_id));
  const titleId = uid("child");
  return h(
    "section",
    { "aria-labelledby": titleId },
    heading(2, child.name, { id: titleId }),
    rows.length
      ? h("ul", { class: "cards tasks-list" }, ...rows.map((row) => taskCard(row, child)))
      : h("p", { class: "muted", text: `No home learning has been set for ${child.name}'s class yet.` }),
  );
}

export async function familyHomeLearningView() {
  const body = h("div");
  const load = async () => fill(body, ...(await Promise.all((state.me.children || []).map(childTasks))));
  await load();
  return section(
    "Home learning",
    h("p", { text: "What the teacher asked your child to do at home, and what they handed in." }),
    state.me.children?.length ? body : h("p", { text: "You are not connected to a child yet." }),
    checkAgain(load),
  );
}
