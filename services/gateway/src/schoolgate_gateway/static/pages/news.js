import { api, listIn, storiesApi, URLS } from "../core/api.js";
import { add, fill, h, paragraphs, section, uid } from "../core/dom.js";
import { failed, say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { countOf, listOf, wayName, when } from "../core/words.js";
import { audienceLabel } from "../ui/audience.js";
import { commentsArea } from "../ui/comments.js";
import { gallery } from "../ui/media.js";
import { emptyState } from "../ui/monsters.js";

// Feed items are the gateway's (feed.py): kind post, portfolio or points; `about` names the
// family's own children the item is for.
const feedKind = (item) => (["post", "portfolio", "points"].includes(item.kind) ? item.kind : "post");

const feedChildren = (item) => listIn(item.about).map((c) => c.name || c.pupil_id);

const feedSchool = (item) => item.school_id || state.me.children?.[0]?.school_id || state.me.school_id;

function likeControl(item, schoolId) {
  let liked = Boolean(item.liked);
  let count = Number(item.likes) || 0;
  const countText = h("span", { class: "like-count", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "like secondary", "aria-pressed": String(liked) }, h("span", { class: "heart", "aria-hidden": "true", text: "♥" }), " Like");
  const draw = () => {
    button.setAttribute("aria-pressed", String(liked));
    countText.textContent = count ? countOf(count, "like") : "";
  };
  let sending = false;
  button.addEventListener("click", async () => {
    if (sending) return;
    sending = true;
    const path = storiesApi(`/posts/${encodeURIComponent(item.post_id)}/like`, schoolId);
    const was = { liked, count };
    liked = !liked;
    count = Math.max(0, count + (liked ? 1 : -1));
    draw();
    try {
      await api(liked ? "POST" : "DELETE", path);
    } catch (error) {
      ({ liked, count } = was);
      draw();
      failed(error);
    } finally {
      sending = false;
    }
  });
  draw();
  return h("div", { class: "like-row" }, button, countText);
}

/** A child's points on one school day: the gateway words it ("Ada got 3 points today: …"). */
function pointsOfTheDay(item) {
  const day = item.points || {};
  const ways = listIn(day.ways);
  const total = Number(day.total ?? 0);
  const stars = Math.min(Math.max(total, 0), 10);
  return [
    item.text ? h("p", { class: "points-text", text: `${item.text}.` }) : null,
    !item.text && ways.length
      ? h("ul", { class: "by-way" }, ...ways.map((w) => h("li", null, h("span", { text: w.name || wayName(w.school_way_id) }), h("span", { text: String(w.points) }))))
      : null,
    stars ? h("p", { class: "stars small-stars", "aria-hidden": "true", text: "★".repeat(stars) }) : null,
  ];
}

function feedCard(item) {
  const kind = feedKind(item);
  const schoolId = feedSchool(item);
  const children = feedChildren(item);
  const about = children.length ? listOf(children) : "";
  const titleId = uid("news");
  let title;
  let body;
  if (kind === "post") {
    // The gateway names the audience as this family knows it: their class, year group or school.
    title = typeof item.audience === "string" && item.audience ? item.audience : audienceLabel(item.audience);
    const from = item.author ? `from ${item.author}` : "";
    body = [
      about || from ? h("p", { class: "about", text: [about && `For ${about}`, from].filter(Boolean).join(", ") }) : null,
      paragraphs(item.text),
      gallery(item.attachments, { schoolId, size: "full" }),
      item.post_id ? likeControl(item, schoolId) : null,
      item.post_id ? commentsArea(item.post_id, schoolId) : null,
    ];
  } else if (kind === "portfolio") {
    title = about ? `${about}'s work` : "Work from school";
    body = [
      item.task_id ? h("p", { class: "about", text: "Home learning" }) : null,
      paragraphs(item.text),
      gallery(item.attachments, { schoolId, size: "full" }),
      h("p", { class: "muted", text: "Approved by the teacher to share with you." }),
    ];
  } else {
    title = about ? `${about}'s points` : "Points";
    body = pointsOfTheDay(item);
  }
  const at = kind === "points" ? null : item.at || item.published_at || item.visible_from;
  return h(
    "li",
    null,
    h(
      "article",
      { class: `card news ${kind}`, "aria-labelledby": titleId, dataset: { kind } },
      h("h2", { id: titleId, tabindex: "-1", text: title }),
      at ? h("p", { class: "muted when", text: `${when(at)}${item.edited ? " (edited)" : ""}` }) : null,
      body,
    ),
  );
}

export async function newsView() {
  const list = h("ul", { class: "feed" });
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const refresh = h("button", { type: "button", class: "secondary", text: "Check for news" });
  let next = null;

  async function page(cursor) {
    const query = new URLSearchParams({ limit: "20" });
    if (cursor) query.set("before", cursor);
    const answer = await api("GET", URLS.feed(query));
    next = answer?.next || null;
    more.hidden = !next;
    return listIn(answer, "items").map(feedCard);
  }

  async function load() {
    const cards = await page(null);
    fill(list, ...cards);
    if (!cards.length) list.append(emptyState("No news yet. Stories from school and your child's work will appear here."));
  }

  more.addEventListener("click", () =>
    working(more, "Loading…", async () => {
      const cards = await page(next);
      add(list, cards);
      cards[0]?.querySelector("h2")?.focus();
      say(cards.length ? `${countOf(cards.length, "more item")} shown.` : "There is no older news.");
    }),
  );
  refresh.addEventListener("click", () =>
    working(refresh, "Checking…", async () => {
      await load();
      say("Updated just now.");
    }),
  );
  await load();
  return section("News", h("p", { class: "muted", text: "Stories from school and your children's work, newest first." }), refresh, list, more);
}
