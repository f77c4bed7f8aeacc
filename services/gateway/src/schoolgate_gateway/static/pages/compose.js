import { api, messagingApi, schoolClasses, storiesApi, yearGroupsList } from "../core/api.js";
import { field, fill, h, section } from "../core/dom.js";
import { newId } from "../core/ids.js";
import { say, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { listOf, when } from "../core/words.js";
import { audienceChooser, audienceLabel, audiencePupils, publishLater, refusal } from "../ui/audience.js";
import { attachmentsEditor } from "../ui/media.js";

/** Full names of pupils in a story's text, as the school's roster knows them; none if the check is unavailable. */
async function fullNames(text) {
  try {
    const found = await api("POST", messagingApi("/messaging/check"), { text, to: "story" });
    return (found?.full_names || []).map((n) => n.name);
  } catch {
    return []; // the check helps the writer; it never stops a story being posted
  }
}

function namedWarning(named, publishAnyway) {
  const anyway = h("button", { type: "button", class: "secondary", text: "Publish anyway" });
  anyway.addEventListener("click", publishAnyway);
  return h(
    "div",
    { class: "notice" },
    h("h2", { tabindex: "-1", text: `You named ${listOf(named)}.` }),
    h("p", { text: "We use first names only: please change it before publishing." }),
    h("p", { class: "hint", text: "Change the story above and press Post again, or publish it as it is." }),
    anyway,
  );
}

export async function composeView() {
  const isLeader = state.me.role === "leader";
  const [classes, years] = await Promise.all([schoolClasses(), yearGroupsList().catch(() => [])]);
  const mine = isLeader ? classes : classes.filter((c) => c.class_id in (state.me.classes || {}));
  if (!mine.length) {
    return section("Post a story", h("p", { text: "You do not have a class yet. Ask a school leader to add you to one." }));
  }
  mine.sort((a, b) => a.name.localeCompare(b.name));
  // A year-group story is for the teachers of its classes and leaders; the whole school, leaders.
  const myYears = isLeader
    ? years
    : state.me.role === "teacher"
      ? years.filter((y) => mine.some((c) => c.year_group_id === y.year_group_id))
      : [];
  const names = { classes, years };
  let postId = newId();
  let pupilsSeq = 0;
  const editor = attachmentsEditor();
  const chooser = audienceChooser({
    classes: mine,
    years: myYears,
    wholeSchool: isLeader,
    onChange: async (audience) => {
      const seq = ++pupilsSeq;
      const pupils = await audiencePupils(audience).catch(() => []);
      if (seq === pupilsSeq) editor.setPupils(pupils);
    },
  });
  const text = h("textarea", { rows: 5, maxlength: 10000 });
  const later = publishLater(null);
  const post = h("button", { type: "submit", text: "Post" });
  const problem = h("div");
  const done = h("div");
  // A story is for families, who know the children by first name: full names are flagged
  // before publishing, and the writer decides (the text the writer chose to keep is remembered).
  let keptAnyway = null;
  const form = h(
    "form",
    { class: "stack composer" },
    chooser.node,
    field("Your story", { control: text, hint: "What happened? Families read this on their phones, so keep it short and friendly." }),
    editor.node,
    later.node,
    problem,
    post,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    problem.replaceChildren();
    done.replaceChildren();
    const audience = chooser.value();
    if (audience.kind === "classes" && !audience.class_ids.length) {
      warn("Choose at least one class to see the story.");
      chooser.focus();
      return;
    }
    if (editor.busy()) {
      warn("Please wait until the files have finished sending.");
      return;
    }
    if (editor.unsaid()) return;
    const attachments = editor.values();
    const story = text.value.trim();
    if (!story && !attachments.length) {
      warn("Write your story or add a photo first.");
      text.focus();
      return;
    }
    let visibleFrom;
    try {
      visibleFrom = later.value();
    } catch (error) {
      warn(error.message);
      later.focus();
      return;
    }
    const label = audienceLabel(audience, names);
    working(post, "Posting…", async () => {
      if (story && story !== keptAnyway) {
        const named = await fullNames(story);
        if (named.length) {
          fill(problem, namedWarning(named, () => {
            keptAnyway = story;
            form.requestSubmit();
          }));
          problem.querySelector("h2")?.focus();
          return;
        }
      }
      try {
        await api("POST", storiesApi("/posts"), {
          post_id: postId,
          audience,
          text: story,
          attachments,
          ...(visibleFrom ? { visible_from: visibleFrom } : {}),
        });
      } catch (error) {
        if (error.status === 422 || error.status === 403) {
          refusal(problem, "Your story was not posted", error);
          problem.querySelector("h2")?.focus();
          return;
        }
        throw error;
      }
      postId = newId();
      keptAnyway = null;
      text.value = "";
      editor.clear();
      later.reset();
      const words = visibleFrom ? `Your story for ${label} will show from ${when(visibleFrom)}.` : `Your story is posted to ${label}.`;
      fill(done, h("p", { class: "ok" }, `${words} `, h("a", { href: "#stories", text: "See it in Our stories" })));
      say(words);
    });
  });
  return section(
    "Post a story",
    h("p", { text: "Share what the children have been doing. One story can go to several classes, a year group or the whole school." }),
    done,
    form,
  );
}
