// `#school-notifications` (leaders): when the school's daily round-up goes, and an emergency
// notice to every family, at once, on every channel, whatever each family chose.
import { api, caughtUp, notificationsApi } from "../core/api.js";
import { checkbox, field, h, section, uid } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";

function roundUp(current) {
  const at = h("input", { type: "time", value: current.digest_at, required: true });
  const save = h("button", { type: "submit", text: "Save the time" });
  const form = h(
    "form",
    { class: "stack" },
    field("The daily round-up goes at", { control: at, hint: "In the school's own time. Families who chose the round-up get one email and one notification a day, with all their children's news." }),
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(save, "Saving…", async () => {
      const saved = await api("PUT", notificationsApi("/settings"), { digest_at: at.value });
      await caughtUp();
      say(`The round-up now goes at ${saved.digest_at}.`, { fade: 4000 });
    });
  });
  return form;
}

function emergency() {
  const titleId = uid("emergency");
  const text = h("textarea", { rows: 3, required: true, maxlength: 500 });
  const sureBox = checkbox("I understand this reaches every family now", { required: true });
  const sure = sureBox.querySelector("input");
  const send = h("button", { type: "submit", class: "danger", text: "Send to every family now" });
  const form = h(
    "form",
    { class: "stack" },
    field("What families need to know", { control: text, hint: "For a closure or an emergency only. It reaches every family at once, on their phone and by email, even at night." }),
    sureBox,
    send,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      warn("Write the notice first.");
      text.focus();
      return;
    }
    working(send, "Sending…", async () => {
      await api("POST", notificationsApi("/emergency"), { text: text.value.trim() });
      text.value = "";
      sure.checked = false;
      say("Sent. Every family is being told now.");
    });
  });
  return h("section", { class: "card", "aria-labelledby": titleId }, h("h2", { id: titleId, text: "Emergency notice" }), form);
}

export async function schoolNotificationsView() {
  const current = await api("GET", notificationsApi("/settings"));
  return section("School notifications", roundUp(current), emergency());
}
