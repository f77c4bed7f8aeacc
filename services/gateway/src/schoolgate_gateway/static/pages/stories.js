import { api, guardiansOf, listIn, schoolClasses, storiesApi, yearGroupsList } from "../core/api.js";
import { field, fill, h, heading, paragraphs, section, uid } from "../core/dom.js";
import { checkAgain, failed, say, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { countOf, listOf, when } from "../core/words.js";
import { audienceLabel, audiencePupils, publishLater, refusal } from "../ui/audience.js";
import { commentsArea } from "../ui/comments.js";
import { attachmentsEditor, gallery } from "../ui/media.js";
import { emptyState } from "../ui/monsters.js";

/** Staff know families by their children: "a parent or carer of Ada" for each parent id. */
async function likerNames(parentIds, audience) {
  if (!parentIds.length) return [];
  const children = new Map();
  const pupils = await audiencePupils(audience).catch(() => []);
  await Promise.all(
    pupils.map(async (pupil) => {
      for (const id of await guardiansOf(pupil.pupil_id).catch(() => [])) {
        if (!children.has(id)) children.set(id, []);
        children.get(id).push(pupil.name);
      }
    }),
  );
  return parentIds.map((id) => (children.has(id) ? `a parent or carer of ${listOf(children.get(id))}` : "a parent or carer"));
}

/** How many parents liked a story, and who. */
async function likesLine(post, line) {
  try {
    const answer = await api("GET", storiesApi(`/posts/${encodeURIComponent(post.post_id)}/likes`));
    const named = listIn(answer, "parents").map((p) => (typeof p === "string" ? p : p.display_name || p.name || "a parent or carer"));
    const who = named.length ? named : await likerNames(answer?.parent_ids || [], post.audience);
    const count = answer?.count ?? who.length;
    line.textContent = count ? `${countOf(count, "like")}: ${listOf(who)}.` : "No likes yet.";
  } catch {
    line.textContent = post.like_count != null ? `${countOf(post.like_count, "like")}.` : "Likes are not available right now.";
  }
}

function postWhen(post) {
  const from = post.visible_from ? new Date(post.visible_from) : null;
  if (post.scheduled || (from && from > new Date())) return `Scheduled: families will see it from ${when(post.visible_from)}.`;
  const at = post.published_at || post.posted_at || post.created_at || post.visible_from;
  const edited = post.edited_at ? " (edited)" : "";
  return at ? `Posted ${when(at)}${edited}.` : "";
}

function staffStoryCard(post, names, { removed }) {
  const titleId = uid("story");
  const article = h("article", { class: "card story", "aria-labelledby": titleId });
  const item = h("li", null, article);

  function show(focusEdit) {
    const likes = h("p", { class: "likes", text: "Counting likes…" });
    const edit = h("button", { type: "button", class: "secondary", text: "Edit", onclick: () => editing() });
    const remove = h("button", { type: "button", class: "secondary", text: "Delete", onclick: () => confirming() });
    fill(article,
      h("h2", { id: titleId, text: post.audience_label || audienceLabel(post.audience, names) }),
      h("p", { class: "muted", text: postWhen(post) }),
      paragraphs(post.text),
      gallery(post.attachments),
      likes,
      h("div", { class: "row" }, edit, remove),
      commentsArea(post.post_id),
    );
    likesLine(post, likes);
    if (focusEdit) edit.focus();
  }

  function confirming() {
    const yes = h("button", { type: "button", class: "danger", text: "Yes, delete it" });
    const no = h("button", { type: "button", class: "secondary", text: "No, keep it", onclick: () => show(true) });
    yes.addEventListener("click", () =>
      working(yes, "Deleting…", async () => {
        await api("DELETE", storiesApi(`/posts/${encodeURIComponent(post.post_id)}`));
        item.remove();
        removed();
        say("The story is deleted. Families no longer see it.");
      }),
    );
    const box = h("div", { class: "notice confirm" }, h("p", { text: "Delete this story? Families will not see it any more." }), h("div", { class: "row" }, yes, no));
    article.querySelector(".row")?.replaceWith(box);
    no.focus();
  }

  async function editing() {
    const text = h("textarea", { rows: 5, maxlength: 10000, value: post.text || "" });
    const editor = attachmentsEditor({ initial: post.attachments || [] });
    editor.setPupils(await audiencePupils(post.audience).catch(() => []));
    const scheduled = post.visible_from && new Date(post.visible_from) > new Date();
    const later = scheduled ? publishLater(post.visible_from) : null;
    const save = h("button", { type: "submit", text: "Save changes" });
    const cancel = h("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => show(true) });
    const problem = h("div");
    const form = h(
      "form",
      { class: "stack" },
      field("Your story", { control: text }),
      editor.node,
      later?.node,
      problem,
      h("div", { class: "row" }, save, cancel),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      problem.replaceChildren();
      if (editor.busy()) {
        warn("Please wait until the files have finished sending.");
        return;
      }
      if (editor.unsaid()) return;
      let visibleFrom = post.visible_from;
      try {
        if (later) visibleFrom = later.value() || new Date().toISOString();
      } catch (error) {
        warn(error.message);
        later.focus();
        return;
      }
      const changes = { text: text.value.trim(), attachments: editor.values(), ...(visibleFrom ? { visible_from: visibleFrom } : {}) };
      if (!changes.text && !changes.attachments.length) {
        warn("A story needs some words or a photo. To take it away, delete it.");
        text.focus();
        return;
      }
      working(save, "Saving…", async () => {
        let saved;
        try {
          saved = await api("PUT", storiesApi(`/posts/${encodeURIComponent(post.post_id)}`), changes);
        } catch (error) {
          if (error.status === 422 || error.status === 403) {
            refusal(problem, "Your changes were not saved", error);
            return;
          }
          throw error;
        }
        post = { ...post, ...changes, ...(saved && typeof saved === "object" ? saved : {}) };
        show(true);
        say("Saved. Families see the new version.");
      });
    });
    fill(article, heading(2, `Edit: ${post.audience_label || audienceLabel(post.audience, names)}`, { id: titleId }), form);
    text.focus();
  }

  show();
  return item;
}

export async function storiesView() {
  const [classes, years] = await Promise.all([schoolClasses(), yearGroupsList().catch(() => [])]);
  const names = { classes, years };
  const select = h("select");
  for (const [id, name] of Object.entries(state.me.classes || {})) select.append(h("option", { value: id, text: `Class ${name}` }));
  if (!select.options.length) {
    return section("Our stories", h("p", { text: "You do not have a class yet." }));
  }
  const list = h("ul", { class: "stories" });

  async function load() {
    // who is whose parent may have changed since the page was opened
    for (const key of Object.keys(state.cache)) if (key.startsWith("guardians-")) delete state.cache[key];
    const posts = listIn(await api("GET", storiesApi(`/posts?class_id=${encodeURIComponent(select.value)}`)), "posts");
    const time = (p) => new Date(p.visible_from || p.published_at || 0).getTime();
    posts.sort((a, b) => time(b) - time(a));
    const empty = () => emptyState("No stories yet. Post one from “Post a story”.");
    fill(list, ...posts.map((post) => staffStoryCard(post, names, { removed: () => list.children.length || list.append(empty()) })));
    if (!posts.length) list.append(empty());
  }

  select.addEventListener("change", () => load().catch(failed));
  await load();
  return section(
    "Our stories",
    h("p", { text: "Stories for a class, including those to its year group and the whole school, newest first, with who liked them." }),
    select.options.length > 1 ? field("Show stories for", { control: select }) : null,
    h("p", null, h("a", { href: "#post", class: "button-link", text: "Post a story" })),
    checkAgain(load),
    list,
  );
}
