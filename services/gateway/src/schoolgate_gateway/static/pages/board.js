// The class board: the classroom screen shows every child of one class at once, big, with the
// class's total, and celebrates each point as it lands. The teacher awards from their own
// phone or laptop; the board follows live. It reads only: nobody gives points from the board.
import { api, URLS } from "../core/api.js";
import { $, add, checkbox, field, fill, h, section } from "../core/dom.js";
import { freshest, listen } from "../core/live.js";
import { failed, quietly, say, working } from "../core/messages.js";
import { go } from "../core/router.js";
import { state } from "../core/state.js";
import { points } from "../core/words.js";
import { monster } from "../ui/monsters.js";
import { classSelect, codeInput } from "../ui/pickers.js";
import { cheer, setSound, soundOn, unlockSound } from "../ui/sound.js";

const LANDED_MS = 2400;
const GAP = 12;
const isStaff = () => Boolean(state.me && state.me.role !== "parent" && state.me.role !== "pupil");

/**
 * How many columns let `count` tiles fill a `width` × `height` area with the biggest tiles,
 * each a little taller than wide (a monster over a name): every child on screen, no scrolling.
 */
export function boardColumns(count, width, height) {
  let best = { columns: 1, size: 0 };
  for (let columns = 1; columns <= Math.max(count, 1); columns++) {
    const rows = Math.ceil(count / columns);
    const wide = (width - GAP * (columns - 1)) / columns;
    const high = (height - GAP * (rows - 1)) / rows;
    const size = Math.min(wide, high / 1.25);
    if (size > best.size) best = { columns, size, rowHeight: Math.floor(high) };
  }
  return best;
}

/** The board itself, for one class, once this screen may show it. */
function classBoard(classId, { paired }) {
  const title = h("h1", { class: "board-title", tabindex: "-1", text: "Class board" });
  const totalNumber = h("span", { class: "board-total-number", text: "…" });
  const totalWords = h("span", { class: "board-total-words", text: " points this week" });
  const news = h("p", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
  const grid = h("ul", { class: "board-grid" });
  const full = h("button", { type: "button", class: "secondary small", text: "Full screen" });
  const leave = paired
    ? h("button", { type: "button", class: "secondary small", text: "Stop showing the board" })
    : h("a", { class: "button-link secondary small", href: "#award", text: "Back to awarding" });
  const sound = checkbox("Sound", {
    checked: soundOn(),
    onchange: (event) => {
      setSound(event.currentTarget.checked);
      if (event.currentTarget.checked) cheer();
    },
  });
  const tools = h("div", { class: "board-tools" }, sound, full, leave);
  const head = h(
    "div",
    { class: "board-head" },
    title,
    h("p", { class: "board-total", "aria-live": "polite", "aria-atomic": "true" }, totalNumber, totalWords),
    tools,
  );
  const node = h("section", { class: "board", "aria-labelledby": "board-title" }, head, grid, news);
  title.id = "board-title";
  const names = new Map();
  const cheered = new Set();

  function fit() {
    if (!grid.isConnected) {
      window.removeEventListener("resize", fit);
      return;
    }
    const tiles = grid.children.length;
    const top = grid.getBoundingClientRect().top + window.scrollY;
    const width = grid.clientWidth;
    const height = window.innerHeight - top - GAP;
    const { columns, rowHeight } = boardColumns(tiles, width, Math.max(height, 120));
    grid.style.setProperty("--board-columns", String(columns));
    grid.style.setProperty("--board-row", `${Math.max(rowHeight, 60)}px`);
  }

  async function loadPupils() {
    const board = await api("GET", URLS.board(classId));
    title.textContent = `Class ${board.class_name}`;
    grid.setAttribute("aria-label", `Class ${board.class_name}`);
    names.clear();
    fill(grid,
      ...board.pupils.map((pupil) => {
        names.set(pupil.pupil_id, pupil.name);
        return h(
          "li",
          { class: "board-pupil", dataset: { pupil: pupil.pupil_id } },
          monster(pupil.avatar || pupil.pupil_id),
          h("span", { class: "board-name", text: pupil.name }),
        );
      }),
    );
    if (!board.pupils.length) fill(grid, h("li", { class: "muted", text: "There are no pupils in this class yet." }));
    requestAnimationFrame(fit);
  }

  function showTotal(total) {
    totalNumber.textContent = String(total.total);
    totalWords.textContent = ` ${points(total.total)} this week`;
  }

  function landed(pupilId) {
    const tile = grid.querySelector(`[data-pupil="${CSS.escape(pupilId)}"]`);
    if (!tile) return;
    tile.classList.remove("landed");
    void tile.offsetWidth; // start the celebration again for a second point in a row
    tile.classList.add("landed");
    clearTimeout(Number(tile.dataset.timer));
    tile.dataset.timer = String(setTimeout(() => tile.classList.remove("landed"), LANDED_MS));
  }

  // A paired board whose day is over (or that the teacher stopped) goes back to its code form.
  const lost = (error) => (paired && error?.status === 401 ? go("board") : quietly(error));
  const refreshTotal = freshest((after) => api("GET", URLS.boardTotal(classId, after)), showTotal);
  listen(URLS.boardLive(classId), (message) => {
    if (message.ended) {
      go("board");
      return;
    }
    refreshTotal(message.position).catch(lost);
    if (message.refetch) {
      loadPupils().catch(lost);
      return;
    }
    if (message.undone) return;
    landed(message.pupil_id);
    if (!cheered.has(message.award_id)) {
      cheered.add(message.award_id); // a group's point is news for each child: one cheer
      cheer();
      const name = names.get(message.pupil_id);
      news.textContent = name ? `${name} got a point!` : "A point for the class!";
    } else {
      news.textContent = "Points for the class!";
    }
  });

  full.addEventListener("click", () => {
    unlockSound();
    document.documentElement.requestFullscreen?.().catch(() => {});
  });
  leave.addEventListener("click", async (event) => {
    if (!paired) return;
    event.preventDefault();
    await working(leave, "Stopping…", async () => {
      await api("DELETE", URLS.boardSession);
      go("board");
    });
  });
  // Browsers let a page make sound only once someone has touched it.
  document.addEventListener("pointerdown", unlockSound, { once: true });
  document.addEventListener("keydown", unlockSound, { once: true });
  window.addEventListener("resize", fit);

  const ready = loadPupils().then(() => refreshTotal());
  return { node, ready };
}

/** Pair this screen with a class's board: the code the teacher shows, typed once. */
function pairingForm(shown) {
  const code = codeInput();
  const next = h("button", { type: "submit", text: "Show the board" });
  const form = h(
    "form",
    { class: "stack" },
    field("Board code", { control: code, hint: "The teacher shows it on their own screen: “Class board”, then “Show a board code”." }),
    next,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    unlockSound(); // typing the code is the touch that lets the board make its sound
    working(next, "Looking…", async () => {
      const board = await api("POST", URLS.boardSession, { code: code.value.trim().toUpperCase() });
      document.documentElement.requestFullscreen?.().catch(() => {});
      await shown(board.class_id);
    });
  });
  return section("Class board", h("p", { text: "Show a class's board on this screen: the children's monsters and the class's points, live." }), form);
}

/** `#board`: the board this screen is paired with, or the form to pair it; staff open `#board=<class>`. */
export async function boardView(route) {
  const wrap = h("div", { class: "board-wrap" });
  const show = async (classId, paired) => {
    const board = classBoard(classId, { paired });
    document.body.dataset.mode = "board";
    fill(wrap, board.node);
    await board.ready.catch(failed);
  };
  const staffClass = isStaff() ? route.classId || Object.keys(state.me.classes || {})[0] : null;
  if (staffClass) {
    await show(staffClass, false);
    return wrap;
  }
  try {
    const paired = await api("GET", URLS.boardSession);
    await show(paired.class_id, true);
  } catch (error) {
    if (error.status !== 401) failed(error);
    fill(wrap, pairingForm(async (classId) => {
      await show(classId, true);
      $("board-title")?.focus();
    }));
  }
  return wrap;
}

/** The teacher's page: open a class's board here, or show a code for the classroom screen. */
export function boardCodeView() {
  const { control, select } = classSelect(() => shown.replaceChildren());
  if (!select.options.length) {
    return section("Class board", h("p", { text: "You do not have a class yet." }));
  }
  const here = h("button", { type: "button", class: "secondary", text: "Show the board on this screen" });
  const make = h("button", { type: "button", text: "Show a board code" });
  const stop = h("button", { type: "button", class: "secondary", text: "Stop every board of this class" });
  const shown = h("div");
  here.addEventListener("click", () => go(`board=${select.value}`));
  make.addEventListener("click", () =>
    working(make, "Making a code…", async () => {
      const answer = await api("POST", URLS.boardCode(select.value));
      const minutes = Math.max(1, Math.round((Date.parse(answer.expires_at) - Date.now()) / 60000));
      fill(shown,
        h(
          "div",
          { class: "code-panel" },
          h("p", { text: `Class ${state.me.classes[select.value] || ""}: type this code on the classroom screen` }),
          h("p", { class: "big-code", id: "board-code", text: answer.code }),
          h("p", null, "On the classroom screen, open ", h("strong", { text: `${location.origin}/#board` }), " and type the code."),
          h("p", { class: "muted", text: `It works once, for the next ${minutes} minutes. The board then shows the class until the end of the day.` }),
        ),
      );
      say(`The board code is ${answer.code.split("").join(" ")}.`);
    }),
  );
  stop.addEventListener("click", () =>
    working(stop, "Stopping…", async () => {
      const answer = await api("DELETE", URLS.classBoards(select.value));
      shown.replaceChildren();
      say(answer.ended === 1 ? "1 board stopped." : `${answer.ended} boards stopped.`);
    }),
  );
  return section(
    "Class board",
    h("p", { text: "The class board shows every child's monster and the class's points on the classroom screen. It follows the points you give, live." }),
    control,
    add(h("div", { class: "row" }), [here, make, stop]),
    shown,
  );
}
