import { api, classPupilNames, listIn, storiesApi } from "../core/api.js";
import { field, fill, h, paragraphs, section, uid } from "../core/dom.js";
import { checkAgain, failed, say, warn, working } from "../core/messages.js";
import { gallery } from "../ui/media.js";
import { emptyState } from "../ui/monsters.js";
import { classSelect } from "../ui/pickers.js";

export async function approveView() {
  const { control, select } = classSelect(() => load().catch(failed));
  if (!select.options.length) return section("Approve work", h("p", { text: "You do not have a class yet." }));
  const list = h("ul", { class: "cards queue" });

  async function load() {
    const classId = select.value;
    const [answer, names, tasks] = await Promise.all([
      api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/portfolio/queue`)),
      classPupilNames(classId).catch(() => ({})),
      api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/home-learning`)).catch(() => []),
    ]);
    const taskNames = Object.fromEntries(listIn(tasks, "tasks").map((t) => [t.task_id, t.title]));
    const items = listIn(answer, "items");
    const empty = () => emptyState("Nothing is waiting. Well done!");
    fill(list, ...items.map((item) => queueCard(item, names[item.pupil_id] || item.pupil_name || item.pupil_id, taskNames, () => list.children.length || list.append(empty()))));
    if (!items.length) list.append(empty());
  }

  function queueCard(item, name, taskNames, gone) {
    const titleId = uid("queue");
    const note = h("textarea", { rows: 2, maxlength: 1000 });
    const approve = h("button", { type: "submit", value: "approve", text: "Approve" });
    const back = h("button", { type: "submit", value: "back", class: "secondary", text: "Send back" });
    const form = h(
      "form",
      { class: "stack" },
      field(`Note for ${name}`, { control: note, hint: "Needed only when you send it back: say what to change." }),
      h("div", { class: "row" }, approve, back),
    );
    const node = h(
      "li",
      null,
      h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h2", { id: titleId, text: `${name}'s work` }),
        item.task_id ? h("p", { class: "about", text: `Home learning: ${taskNames[item.task_id] || item.task_title || "a task"}` }) : null,
        paragraphs(item.text),
        gallery(item.attachments),
        form,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const sendBack = event.submitter?.value === "back";
      const path = storiesApi(`/portfolio/${encodeURIComponent(item.item_id)}/${sendBack ? "send-back" : "approve"}`);
      if (sendBack && !note.value.trim()) {
        warn(`Write a note for ${name} first, so they know what to change.`);
        note.focus();
        return;
      }
      working(sendBack ? back : approve, "Saving…", async () => {
        await api("POST", path, sendBack ? { note: note.value.trim() } : {});
        node.remove();
        gone();
        list.closest("section")?.querySelector("h1")?.focus();
        say(sendBack ? `Sent back to ${name} with your note.` : `Approved. ${name}'s family can see it now.`);
      });
    });
    return node;
  }

  await load();
  return section(
    "Approve work",
    h("p", { text: "Work your pupils sent. Families see it only once you approve it." }),
    control,
    checkAgain(load),
    list,
  );
}
