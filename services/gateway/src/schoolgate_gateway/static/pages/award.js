import { afterQuery, api, pointsApi, roster, sleep, URLS } from "../core/api.js";
import { checkbox, fill, h, radioGroup, section } from "../core/dom.js";
import { newId } from "../core/ids.js";
import { freshest, listen } from "../core/live.js";
import { failed, quietly, say, warn, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { listOf, points, wayName } from "../core/words.js";
import { pictureButton } from "../ui/monsters.js";
import { classSelect } from "../ui/pickers.js";
import { withLooks } from "../ui/school.js";
import { cheer, setSound, soundOn, unlockSound } from "../ui/sound.js";

const UNDO_SHOWN = 4;
/** How long a message stays: long enough to read, then out of the way of the next tap. */
const SAID_MS = 5000;
const WARNED_MS = 10000;

/**
 * The classroom screen: tap a child to give a point at once, or choose several, or the whole
 * class. The class's total this week is the only number shown: never a child's beside another's.
 * Every open screen of the class updates live; each new point plays a short sound.
 * Nothing covers the children: what can be undone has a strip of its own above them, and
 * messages go by themselves.
 */
export async function awardView() {
  const ways = Object.entries(state.me.school_ways || {});
  const { control, select } = classSelect(() => switchClass());
  if (!select.options.length) {
    return section("Award points", h("p", { text: "You do not have a class yet. Ask a school leader to add you to one." }));
  }
  const settings = await api("GET", pointsApi("/settings")).catch(() => ({ needs_work_enabled: false, undo_window_seconds: 60 }));
  const className = () => state.me.classes[select.value] || select.value;

  const wayField = withLooks(radioGroup("School value", "way", ways));
  const kindField = settings.needs_work_enabled
    ? radioGroup("Kind of point", "kind", [["positive", "Well done"], ["needs_work", "Needs work"]])
    : null;

  const totalTitle = h("h2", { class: "class-total-title" });
  const totalNumber = h("span", { class: "class-total-number", text: "…" });
  const totalWords = h("span", { class: "class-total-words", text: " points this week" });
  const todayLine = h("p", { class: "class-today" });
  const totalBox = h(
    "div",
    { class: "class-total" },
    totalTitle,
    h("div", { "aria-live": "polite", "aria-atomic": "true" }, h("p", { class: "class-total-line" }, totalNumber, totalWords), todayLine),
  );

  const grid = h("ul", { class: "pictures class-grid" });
  const several = h("button", { type: "button", class: "secondary", "aria-pressed": "false", text: "Choose several" });
  const whole = h("button", { type: "button", class: "secondary", text: "Whole class" });
  const giveChosen = h("button", { type: "button", hidden: true });
  const clearChosen = h("button", { type: "button", class: "secondary", hidden: true, text: "Clear" });
  const hint = h("p", { class: "hint" });
  const sound = checkbox("Play a sound for each point", {
    checked: soundOn(),
    onchange: (event) => {
      setSound(event.currentTarget.checked);
      if (event.currentTarget.checked) cheer();
      say(event.currentTarget.checked ? "Sound on." : "Sound off.");
    },
  });

  let classId = select.value;
  let pupils = [];
  let choosing = false;
  const chosen = new Set();
  const mine = new Set(); // awards made on this screen: their news needs no second cheer
  const heard = new Set();
  let stream = null;
  let refreshTotal = () => Promise.resolve();

  function showTotal(total) {
    if (total.class_id && total.class_id !== classId) return;
    totalNumber.textContent = String(total.total);
    totalWords.textContent = ` ${points(total.total)} this week`;
    todayLine.textContent = `${total.today ?? 0} ${points(total.today ?? 0)} today`;
  }

  function updateChoosing() {
    several.setAttribute("aria-pressed", String(choosing));
    giveChosen.hidden = !choosing;
    clearChosen.hidden = !choosing;
    const n = chosen.size;
    giveChosen.textContent = n ? `Give to ${n} chosen` : "Give to the chosen children";
    giveChosen.setAttribute("aria-disabled", String(!n));
    hint.textContent = choosing
      ? "Tap the children to choose them, then press “Give to chosen”."
      : "Choose a value, then tap the child who showed it.";
    for (const button of grid.querySelectorAll("button.picture")) {
      if (choosing) button.setAttribute("aria-pressed", String(chosen.has(button.dataset.pupil)));
      else button.removeAttribute("aria-pressed");
    }
  }

  function celebrate(ids) {
    for (const id of ids) {
      const button = grid.querySelector(`button.picture[data-pupil="${CSS.escape(id)}"]`);
      if (!button) continue;
      button.classList.remove("awarded");
      void button.offsetWidth; // restart the little celebration
      button.classList.add("awarded");
    }
  }

  async function loadPupils() {
    fill(grid, h("li", { class: "muted", text: "Loading the class…" }));
    const loading = classId;
    try {
      const found = await api("GET", roster(`/classes/${encodeURIComponent(loading)}/pupils`));
      if (loading !== classId) return;
      pupils = found.sort((a, b) => a.display_name.localeCompare(b.display_name));
      fill(grid, ...pupils.map((p) => pictureButton(p.pupil_id, p.avatar, p.display_name, (event) => tap(event.currentTarget, p))));
      if (!pupils.length) fill(grid, h("li", { text: "There are no pupils in this class yet." }));
      updateChoosing();
    } catch (error) {
      grid.replaceChildren();
      failed(error);
    }
  }

  function switchClass() {
    classId = select.value;
    chosen.clear();
    stream?.close();
    totalNumber.dataset.class = classId;
    totalTitle.textContent = `Class ${className()}`;
    grid.setAttribute("aria-label", `Class ${className()}`);
    const loadingFor = classId;
    refreshTotal = freshest(
      (after) => api("GET", pointsApi(`/classes/${encodeURIComponent(loadingFor)}/total${afterQuery(after)}`)),
      showTotal,
    );
    refreshTotal().catch((error) => {
      totalNumber.textContent = "–";
      quietly(error);
    });
    stream = listen(URLS.classLive(classId), (news) => {
      if (news.class_id && news.class_id !== loadingFor) return;
      refreshTotal(news.position).catch(quietly);
      if (news.refetch || news.undone || news.kind !== "positive" || mine.has(news.award_id)) return;
      celebrate([news.pupil_id]);
      if (!heard.has(news.award_id)) {
        heard.add(news.award_id); // a group award is news for each child: one cheer is enough
        cheer();
      }
    });
    loadPupils();
  }

  function tap(button, pupil) {
    if (choosing) {
      if (chosen.has(pupil.pupil_id)) chosen.delete(pupil.pupil_id);
      else chosen.add(pupil.pupil_id);
      updateChoosing();
      return;
    }
    award({ chosenPupils: [pupil], button });
  }

  function describe({ kind, way, whole: all, names }) {
    const who = all ? "the whole class" : listOf(names);
    if (kind === "needs_work") {
      return {
        said: all ? `Noted: the whole class needs to work on ${way}.` : `Noted: ${who} ${names.length === 1 ? "needs" : "need"} to work on ${way}.`,
        undone: `The “needs work” note for ${who} (${way}) is undone.`,
        item: `${all ? "Whole class" : who}: needs work, ${way}`,
        undo: `Undo the “needs work” note for ${who} (${way})`,
      };
    }
    const many = all || names.length > 1;
    return {
      said: all ? `The whole class got a point for ${way}.` : `${who} got a point for ${way}.`,
      saidAgain: (n) => `${who} got ${n} points for ${way}.`,
      undoneOne: `A point for ${who} (${way}) is undone.`,
      undoOne: (n) => `Undo one of the ${n} points for ${who} (${way})`,
      undone: `The ${many ? "points" : "point"} for ${who} (${way}) ${many ? "are" : "is"} undone.`,
      item: `${all ? "Whole class" : who}: ${way}`,
      undo: `Undo the ${many ? "points" : "point"} for ${who} (${way})`,
    };
  }

  async function award({ chosenPupils = [], all = false, button }) {
    if (button.dataset.busy) return;
    const way = wayField.querySelector("input:checked");
    if (!way) {
      warn("Choose a school value first.", { fade: WARNED_MS });
      return;
    }
    const kind = kindField?.querySelector("input:checked")?.value || "positive";
    const body = { class_id: classId, school_way_id: way.value, kind, award_id: newId() };
    if (all) body.whole_class = true;
    else body.pupil_ids = chosenPupils.map((p) => p.pupil_id);
    const words = describe({ kind, way: wayName(way.value), whole: all, names: chosenPupils.map((p) => p.display_name) });
    // Not `disabled`: a keyboard user's focus stays on the button they pressed.
    button.dataset.busy = "yes";
    button.setAttribute("aria-disabled", "true");
    try {
      let answer;
      try {
        answer = await api("POST", pointsApi("/awards"), body);
      } catch (error) {
        if (error.status !== 0) throw error;
        await sleep(800); // the same award id again: the school cannot count it twice
        answer = await api("POST", pointsApi("/awards"), body);
      }
      mine.add(answer.award_id);
      if (kind === "positive") {
        cheer();
        celebrate(answer.pupil_ids || body.pupil_ids || []);
      }
      // the same child, the same value again: one item counts them (and undoes the newest)
      const again = kind === "positive" && chosenPupils.length === 1 ? `${chosenPupils[0].pupil_id} ${way.value}` : null;
      const given = offerUndo(answer, words, again);
      say(given > 1 ? words.saidAgain(given) : words.said, { fade: SAID_MS });
      if (!all && chosenPupils.length > 1) {
        chosen.clear();
        updateChoosing();
      }
      setTimeout(() => refreshTotal().catch(quietly), 1500); // in case live news is slow
    } catch (error) {
      if (error.status === 401) failed(error);
      else warn(error.message, { fade: WARNED_MS });
    } finally {
      delete button.dataset.busy;
      button.removeAttribute("aria-disabled");
      if (button === giveChosen) updateChoosing();
    }
  }

  // Undo: the newest few awards, each for its own window, in a strip of their own between the
  // tools and the children, its height kept when empty, so the children never move or hide.
  const undoList = h("ul", { class: "undo-list", "aria-label": "Points you can still undo" });
  const undos = [];
  let ticking = null;

  function tick() {
    const now = Date.now();
    for (const entry of [...undos]) {
      const left = Math.ceil((entry.deadline - now) / 1000);
      if (left <= 0 || !entry.item.isConnected) drop(entry);
      else entry.left.textContent = `${left} s`;
    }
    if (!undos.length || !undoList.isConnected) {
      clearInterval(ticking);
      ticking = null;
    }
  }

  function drop(entry) {
    entry.item.remove();
    undos.splice(undos.indexOf(entry), 1);
  }

  function label(entry) {
    const n = entry.awards.length;
    entry.what.textContent = n > 1 ? `${entry.words.item} ×${n}` : entry.words.item;
    entry.button.setAttribute("aria-label", n > 1 ? entry.words.undoOne(n) : entry.words.undo);
  }

  /** Offer to undo an award; one given again to the same child (`again`) joins its item. How many that item holds. */
  function offerUndo(answer, words, again) {
    const windowMs =
      answer.undo_until && answer.awarded_at
        ? Date.parse(answer.undo_until) - Date.parse(answer.awarded_at)
        : settings.undo_window_seconds * 1000;
    if (!(windowMs > 0)) return 1;
    let entry = again ? undos.find((e) => e.again === again) : null;
    if (entry) {
      entry.awards.push(answer.award_id);
      undos.splice(undos.indexOf(entry), 1);
    } else {
      const left = h("span", { class: "undo-left" });
      const what = h("span", { class: "undo-what" });
      const button = h("button", { type: "button", class: "small", text: "Undo" });
      const item = h("li", null, what, left, button);
      entry = { again, words, awards: [answer.award_id], item, what, left, button };
      const undoing = entry;
      button.addEventListener("click", () => undo(undoing));
    }
    entry.deadline = Date.now() + windowMs;
    label(entry);
    undos.unshift(entry);
    undoList.prepend(entry.item);
    while (undos.length > UNDO_SHOWN) drop(undos[undos.length - 1]);
    tick();
    ticking ??= setInterval(tick, 1000);
    return entry.awards.length;
  }

  async function undo(entry) {
    await working(entry.button, "Undoing…", async () => {
      try {
        await api("POST", pointsApi(`/awards/${encodeURIComponent(entry.awards.at(-1))}/undo`));
      } catch (error) {
        if (error.status !== 409) throw error;
        drop(entry); // the item's older points are past their window too
        warn("It is too late to undo that now. It stays in the history.", { fade: WARNED_MS });
        return;
      }
      entry.awards.pop();
      if (!entry.awards.length) drop(entry);
      say(entry.awards.length ? entry.words.undoneOne : entry.words.undone, { fade: SAID_MS });
      setTimeout(() => refreshTotal().catch(quietly), 1500);
    });
    if (entry.item.isConnected) label(entry); // `working` put back the button's old text only
  }

  several.addEventListener("click", () => {
    choosing = !choosing;
    if (!choosing) chosen.clear();
    updateChoosing();
  });
  clearChosen.addEventListener("click", () => {
    chosen.clear();
    updateChoosing();
  });
  giveChosen.addEventListener("click", () => {
    if (!chosen.size) {
      warn("Tap the children to choose them first.", { fade: WARNED_MS });
      return;
    }
    award({ chosenPupils: pupils.filter((p) => chosen.has(p.pupil_id)), button: giveChosen });
  });
  whole.addEventListener("click", () => award({ all: true, button: whole }));
  // Browsers let a page make sound only once someone has touched it (the class display too).
  document.addEventListener("pointerdown", unlockSound, { once: true });
  document.addEventListener("keydown", unlockSound, { once: true });

  switchClass();
  updateChoosing();
  document.body.dataset.mode = "award"; // the page's messages keep clear of the children
  return section(
    "Award points",
    control,
    totalBox,
    ways.length ? wayField : h("p", { text: "The school has not set up its values yet." }),
    kindField,
    h("div", { class: "row award-tools" }, several, whole, giveChosen, clearChosen),
    hint,
    h("div", { class: "award-strip" }, undoList),
    grid,
    sound,
  );
}
