import { api, storiesApi } from "../core/api.js";
import { h, section, uid } from "../core/dom.js";
import { say, working } from "../core/messages.js";

export async function storySettingsView() {
  const current = await api("GET", storiesApi("/settings"));
  const comments = h("input", { type: "checkbox", id: uid("check"), checked: Boolean(current?.comments_enabled), "aria-describedby": "comments-hint" });
  const save = h("button", { type: "submit", text: "Save settings" });
  const form = h(
    "form",
    { class: "stack" },
    h(
      "fieldset",
      null,
      h("legend", { text: "Comments on stories" }),
      h("p", { class: "hint", id: "comments-hint", text: "Off unless you turn it on. When it is on, parents and carers can write comments under stories, and everyone who can see the story can read them." }),
      h("div", { class: "check" }, comments, h("label", { for: comments.id, text: "Let families comment on stories" })),
    ),
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(save, "Saving…", async () => {
      const saved = await api("PUT", storiesApi("/settings"), { comments_enabled: comments.checked });
      comments.checked = Boolean(saved?.comments_enabled ?? comments.checked);
      say(`Saved. Comments on stories are ${comments.checked ? "on" : "off"}.`);
    });
  });
  return section("Story settings", h("p", { text: "How families can respond to your school's stories." }), form);
}
