import { api, cached, listIn, readUntil, roster, storiesApi } from "../core/api.js";
import { field, fill, h, paragraphs, radioGroup, section, uid } from "../core/dom.js";
import { newId } from "../core/ids.js";
import { say, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { sameId, shortDay } from "../core/words.js";
import { attachmentsEditor, gallery } from "../ui/media.js";
import { emptyState } from "../ui/monsters.js";

const WORK_STATUS = {
  waiting: ["waiting", "Waiting for your teacher to look at it"],
  submitted: ["waiting", "Waiting for your teacher to look at it"],
  pending: ["waiting", "Waiting for your teacher to look at it"],
  approved: ["shown", "On show to your family"],
  sent_back: ["back", "Sent back by your teacher"],
};

async function pupilClass() {
  const self = state.me.children[0];
  const pupil = await cached(`pupil-${self.pupil_id}`, () => api("GET", roster(`/pupils/${encodeURIComponent(self.pupil_id)}`)));
  return pupil.class_id;
}

const INKS = [["#1a1a1a", "Black"], ["#0b5394", "Blue"], ["#a4001d", "Red"], ["#1d6b31", "Green"], ["#b07a00", "Yellow"]];

/** A simple drawing board (finger, pen or mouse); the drawing is sent like a photo. */
function drawingBoard(use) {
  const canvas = h("canvas", { class: "drawing", width: 800, height: 560, role: "img", "aria-label": "Drawing board" });
  const ctx = canvas.getContext("2d");
  const blank = () => {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  blank();
  let drawn = false;
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  };
  const inks = radioGroup("Colour", uid("ink"), INKS, "ways inks");
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    ctx.strokeStyle = inks.querySelector("input:checked")?.value || "#1a1a1a";
    ctx.lineWidth = 8;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
    drawn = true;
  });
  for (const end of ["pointerup", "pointercancel", "pointerleave"]) canvas.addEventListener(end, () => (last = null));
  const clear = h("button", { type: "button", class: "secondary", text: "Start again", onclick: () => { blank(); drawn = false; } });
  const done = h("button", {
    type: "button",
    text: "Add my drawing",
    onclick: () => {
      if (!drawn) {
        warn("Draw something first.");
        return;
      }
      canvas.toBlob((blob) => {
        if (!blob) return;
        use(new File([blob], "drawing.png", { type: "image/png" }));
        blank();
        drawn = false;
      }, "image/png");
    },
  });
  return h(
    "details",
    { class: "drawing-details" },
    h("summary", { text: "Draw a picture instead" }),
    inks,
    canvas,
    h("div", { class: "row" }, done, clear),
  );
}

/** A pupil's own page of work: send a photo, a drawing or words, and see what happened to it. */
export async function workView() {
  const self = state.me.children[0];
  const classId = await pupilClass().catch(() => null);
  const tasks = classId ? listIn(await api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/home-learning`)).catch(() => []), "tasks") : [];
  let itemId = newId();
  const editor = attachmentsEditor({
    tagging: false,
    label: "Add a photo of your work",
    hint: "A photo of your drawing, writing or model.",
    accept: "image/*",
    multiple: false,
  });
  const text = h("textarea", { rows: 4, maxlength: 5000 });
  const task = h("select");
  task.append(h("option", { value: "", text: "No, it is work I am proud of" }));
  for (const t of tasks) task.append(h("option", { value: t.task_id, text: t.title }));
  const send = h("button", { type: "submit", text: "Send to my teacher" });
  const form = h(
    "form",
    { class: "stack" },
    editor.node,
    drawingBoard((file) => editor.addFile(file)),
    field("Tell us about it", { control: text, hint: "What did you make? What are you proud of?" }),
    tasks.length ? field("Is it home learning?", { control: task }) : null,
    send,
  );
  const mine = h("ul", { class: "cards work-list" });
  const homeLearning = h("div");

  async function load(done) {
    const items = listIn(
      await readUntil(() => api("GET", storiesApi(`/pupils/${encodeURIComponent(self.pupil_id)}/portfolio`)), done),
      "items",
    );
    const taskNames = Object.fromEntries(tasks.map((t) => [t.task_id, t.title]));
    fill(mine,
      ...items.map((item) => {
        const [cls, words] = WORK_STATUS[item.status] || ["waiting", String(item.status || "Sent")];
        const titleId = uid("work");
        return h(
          "li",
          null,
          h(
            "article",
            { class: "card work", "aria-labelledby": titleId },
            h("h3", { id: titleId, text: item.task_id ? `Home learning: ${taskNames[item.task_id] || item.task_title || "a task"}` : "My work" }),
            gallery(item.attachments),
            paragraphs(item.text),
            h("p", { class: `work-status ${cls}`, text: words }),
            item.status === "sent_back" && item.note ? h("p", { class: "teacher-note" }, h("strong", { text: "Your teacher says: " }), item.note) : null,
            item.status === "sent_back"
              ? h("button", { type: "button", class: "secondary", text: "Change it and send it again", onclick: () => again(item) })
              : null,
          ),
        );
      }),
    );
    if (!items.length) mine.append(emptyState("Nothing yet. Send your first piece of work!"));
    const handedIn = new Set(items.filter((i) => i.task_id && i.status !== "sent_back").map((i) => i.task_id));
    fill(homeLearning,
      tasks.length
        ? h(
            "ul",
            { class: "cards" },
            ...tasks.map((t) => {
              const titleId = uid("task");
              return h(
                "li",
                null,
                h(
                  "article",
                  { class: "card", "aria-labelledby": titleId },
                  h("h3", { id: titleId, text: t.title }),
                  t.due_on ? h("p", { class: "muted", text: `Hand it in by ${shortDay(t.due_on)}` }) : null,
                  paragraphs(t.instructions, "instructions"),
                  handedIn.has(t.task_id)
                    ? h("p", { class: "ok", text: "You handed this in." })
                    : h("button", {
                        type: "button",
                        class: "secondary",
                        text: "Hand this in",
                        "aria-describedby": titleId,
                        onclick: () => {
                          task.value = t.task_id;
                          editor.input.focus();
                          say(`Send your work for ${t.title} with the form above.`);
                        },
                      }),
                ),
              );
            }),
          )
        : h("p", { class: "muted", text: "No home learning right now." }),
    );
  }

  /** Work that was sent back goes again under its own id, changed as the teacher asked. */
  function again(item) {
    itemId = item.item_id;
    text.value = item.text || "";
    task.value = item.task_id || "";
    editor.reset(item.attachments);
    send.textContent = "Send it again";
    text.focus();
    say("Change your work, then press “Send it again”.");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (editor.busy()) {
      warn("Please wait until your photo has finished sending.");
      return;
    }
    const attachments = editor.values().map((a) => ({ ...a, alt_text: a.alt_text || text.value.trim().slice(0, 500) || "My work" }));
    const words = text.value.trim();
    if (!words && !attachments.length) {
      warn("Add a photo or write about your work first.");
      text.focus();
      return;
    }
    const sentId = itemId;
    working(send, "Sending…", async () => {
      await api("POST", storiesApi("/portfolio"), {
        item_id: sentId,
        text: words,
        attachments,
        ...(task.value ? { task_id: task.value } : {}),
      });
      itemId = newId();
      text.value = "";
      task.value = "";
      editor.clear();
      send.textContent = "Send to my teacher";
      await load((answer) => listIn(answer, "items").some((i) => sameId(i.item_id, sentId) && i.status === "submitted"));
      say("Sent! Your teacher will look at it soon.");
    });
  });

  await load();
  return section(
    "My work",
    h("p", { text: "Show your family work you are proud of. Your teacher looks at it first." }),
    form,
    h("h2", { text: "Home learning" }),
    homeLearning,
    h("h2", { text: "My work so far" }),
    mine,
  );
}
