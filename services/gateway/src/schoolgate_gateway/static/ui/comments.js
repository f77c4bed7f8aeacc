// Comments under a story, where the school turned them on.
import { api, commentsOn, listIn, storiesApi } from "../core/api.js";
import { field, fill, h, uid } from "../core/dom.js";
import { newId } from "../core/ids.js";
import { quietly, say, working } from "../core/messages.js";
import { when } from "../core/words.js";

/**
 * A post's comments, where the school turned them on: families and staff who can see the post
 * read them and add their own.
 */
export function commentsArea(postId, schoolId) {
  const box = h("div", { class: "comments-area" });
  const path = storiesApi(`/posts/${encodeURIComponent(postId)}/comments`, schoolId);
  const line = (c) => h("li", null, c.text, c.added_at ? h("span", { class: "muted comment-when", text: ` (${when(c.added_at)})` }) : null);
  (async () => {
    if (!(await commentsOn(schoolId).catch(() => false))) return;
    const shown = listIn(await api("GET", path).catch(() => []), "comments");
    const titleId = uid("comments");
    const list = h("ul", { class: "comments", "aria-labelledby": titleId }, ...shown.map(line));
    const text = h("textarea", { rows: 2, maxlength: 2000, required: true });
    const send = h("button", { type: "submit", class: "secondary", text: "Send comment" });
    const form = h("form", { class: "stack comment-form" }, field("Add a comment", { control: text, hint: "Everyone who can see this story can read it. Please be kind." }), send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const words = text.value.trim();
      if (!words) {
        text.focus();
        return;
      }
      working(send, "Sending…", async () => {
        const added = await api("POST", path, { comment_id: newId(), text: words });
        list.append(line(added || { text: words }));
        text.value = "";
        say("Your comment is added.");
      });
    });
    fill(box, h("h3", { id: titleId, text: shown.length ? `Comments (${shown.length})` : "Comments" }), list, form);
  })().catch(quietly);
  return box;
}
