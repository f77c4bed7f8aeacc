// Schoolgate in the browser: one page, hash routes, plain DOM. Names are people's data, so
// every piece of text goes in through textContent (never innerHTML).

const $ = (id) => document.getElementById(id);
const state = { me: null, cache: {}, join: null };
const ROLE_NAMES = {
  teacher: "Teacher",
  teaching_assistant: "Teaching assistant",
  leader: "School leader",
  office: "School office",
  school_admin: "School administrator",
  parent: "Parent or carer",
  pupil: "Pupil",
};
const CLASSROOM = ["teacher", "teaching_assistant", "leader"];
const STAFF = ["teacher", "teaching_assistant", "leader", "office", "school_admin"];

// -- talking to the gateway ----------------------------------------------------------------

class ApiError extends Error {
  constructor(problem, status) {
    let detail = typeof problem.detail === "string" ? problem.detail : "";
    if (!detail) {
      detail =
        status >= 500 || status === 0
          ? "Something went wrong on our side. Please try again in a minute."
          : problem.title || "That did not work. Please try again.";
    }
    super(detail);
    this.status = status;
    this.slug = String(problem.type || "").split("/").pop();
    this.problem = problem;
  }
}

async function api(method, path, body, { contentType } = {}) {
  const headers = { accept: "application/json" };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers["content-type"] = contentType || body.type || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError(
      { detail: "We could not reach Schoolgate. Check your internet connection and try again." },
      0,
    );
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(data || {}, response.status);
  return data;
}

const school = () => encodeURIComponent(state.me.school_id);
const roster = (path) => `/api/roster/schools/${school()}${path}`;
const consent = (path) => `/api/consent/schools/${school()}${path}`;
// Leaders need to know who a parent or carer is; the id alone means nothing to them.
const parentName = (parentId) =>
  api("GET", `/api/schools/${school()}/parents/${encodeURIComponent(parentId)}`)
    .then((p) => `${p.display_name} (${p.email})`)
    .catch(() => `account ${parentId}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function cached(key, load) {
  if (!(key in state.cache)) state.cache[key] = load();
  try {
    return await state.cache[key];
  } catch (error) {
    delete state.cache[key];
    throw error;
  }
}

const schoolClasses = () => cached("classes", () => api("GET", roster("/classes")));

async function schoolPupils() {
  const all = await cached("pupils", () => api("GET", roster("/pupils")));
  if (state.me.role === "teacher" || state.me.role === "teaching_assistant") {
    return all.filter((p) => p.class_id in state.me.classes);
  }
  return all;
}

// -- building the page ---------------------------------------------------------------------

const PROPS = new Set(["value", "checked", "disabled", "hidden", "required", "selected", "readOnly"]);

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  add(el, children);
  return el;
}

/** Replace an element's children (skipping the empty ones, as `h` does). */
function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let ids = 0;
const uid = (prefix) => `${prefix}-${++ids}`;

/** A labelled input (or select/textarea given as `control`), with an optional hint. */
function field(label, { hint, control, ...attrs } = {}) {
  const id = attrs.id || uid("field");
  const hintId = hint ? `${id}-hint` : undefined;
  const input = control || h("input", { type: "text", ...attrs });
  input.id = id;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    input,
  );
}

function checkbox(label, attrs = {}) {
  const id = attrs.id || uid("check");
  return h(
    "div",
    { class: "check" },
    h("input", { type: "checkbox", ...attrs, id }),
    h("label", { for: id, text: label }),
  );
}

function heading(level, text, attrs = {}) {
  return h(`h${level}`, { tabindex: "-1", ...attrs, text });
}

function section(title, ...children) {
  const id = uid("title");
  return h("section", { "aria-labelledby": id }, heading(1, title, { id }), ...children);
}

function busy(button, on, label) {
  if (on) {
    button.dataset.label = button.textContent;
    button.textContent = label || "Please wait…";
    button.disabled = true;
  } else {
    button.textContent = button.dataset.label || button.textContent;
    button.disabled = false;
  }
}

/** Run `work` for a form's submit button: shows it is busy, and says what went wrong. */
async function working(button, label, work) {
  busy(button, true, label);
  try {
    return await work();
  } catch (error) {
    failed(error);
    return undefined;
  } finally {
    if (button.isConnected) busy(button, false);
  }
}

function svgImage(svgText, alt) {
  return h("img", {
    class: "qr",
    alt,
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`,
  });
}

function longDate(iso) {
  return new Date(iso).toLocaleDateString("en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

const points = (n) => (n === 1 ? "point" : "points");

// -- messages: one polite status and one alert for the whole page -------------------------

let messageSeq = 0;

function say(text) {
  const seq = ++messageSeq;
  $("alert").textContent = "";
  $("status").textContent = "";
  // Cleared first so the same words said twice are announced twice.
  setTimeout(() => {
    if (seq === messageSeq) $("status").textContent = text;
  }, 30);
}

function warn(text) {
  ++messageSeq;
  $("status").textContent = "";
  $("alert").textContent = text;
}

function clearMessages() {
  ++messageSeq;
  $("status").textContent = "";
  $("alert").textContent = "";
}

function failed(error) {
  if (error.status === 401 && state.me) {
    state.me = null;
    state.cache = {};
    go("");
    warn("You have been signed out. Please sign in again.");
    return;
  }
  warn(error.message || "That did not work. Please try again.");
}

// -- points: addresses, ids, dates ----------------------------------------------------------

/** The points service behind the gateway; a parent's children may be at other schools. */
const pointsApi = (path, schoolId = state.me.school_id) =>
  `/api/points/schools/${encodeURIComponent(schoolId)}${path}`;
const afterQuery = (position) => (position == null ? "" : `?after=${encodeURIComponent(position)}`);

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** An id of our own for an award, so that sending it again cannot award twice. */
function newId() {
  // crypto.randomUUID exists only on https and localhost; a school's own network may be neither.
  const hex = randomHex(16).split("");
  hex[12] = "4";
  hex[16] = "89ab"[parseInt(hex[16], 16) % 4];
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const isoDay = (d) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** A YYYY-MM-DD school date as a local date (never shifted a day by the browser's timezone). */
function dayOf(iso) {
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  return new Date(y, m - 1, d);
}

function addDays(iso, n) {
  const d = dayOf(iso);
  d.setDate(d.getDate() + n);
  return isoDay(d);
}

const shortDay = (iso) => dayOf(iso).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "long" });

function wayName(id, names = state.me?.school_ways || {}) {
  if (names[id]) return names[id];
  const plain = String(id).replace(/[-_]+/g, " ");
  return plain.charAt(0).toUpperCase() + plain.slice(1);
}

function listOf(names) {
  try {
    return new Intl.ListFormat("en-GB", { style: "long", type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

/** Errors of background refreshes: say nothing unless the person was signed out. */
function quietly(error) {
  if (error?.status === 401) failed(error);
}

/**
 * Load something again whenever news comes, waiting for the newest position heard of, and show
 * only answers newer than the one shown: replies can come back in any order.
 */
function freshest(load, show) {
  let position = null;
  let issued = 0;
  let shown = 0;
  return async (at) => {
    const n = Number(at);
    if (at != null && Number.isFinite(n) && (position === null || n > position)) position = n;
    const seq = ++issued;
    const value = await load(position);
    if (seq > shown) {
      shown = seq;
      show(value);
    }
    return value;
  };
}

// -- live news: server-sent events from the gateway ----------------------------------------

const streams = new Set();

/**
 * Listen to a live stream. `onNews(message)` gets each point's news, or `{ refetch: true }` when
 * the page should fetch again (connected, reconnected, or fell behind). The browser reconnects by
 * itself; if the server refused outright, try again quietly a little later.
 */
function listen(url, onNews) {
  let source = null;
  let timer = null;
  let closed = false;
  const data = (event) => {
    try {
      return JSON.parse(event.data) || {};
    } catch {
      return {};
    }
  };
  const connect = () => {
    if (closed || typeof EventSource === "undefined") return;
    source = new EventSource(url);
    source.addEventListener("points", (event) => onNews(data(event)));
    // Connected (or back again): fetch what there is now. Fell behind: fetch up to that news.
    source.addEventListener("ready", () => onNews({ refetch: true }));
    source.addEventListener("refetch", (event) => onNews({ refetch: true, position: data(event).position }));
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && !closed) {
        clearTimeout(timer);
        timer = setTimeout(connect, 5000);
      }
    });
  };
  connect();
  const handle = {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
      streams.delete(handle);
    },
  };
  streams.add(handle);
  return handle;
}

/** Leaving a page closes its streams. */
function stopListening() {
  for (const handle of [...streams]) handle.close();
}

// -- a happy sound, made in code (no audio files) --------------------------------------------

const SOUND_KEY = "schoolgate-sound";
let audio = null;

const soundOn = () => {
  try {
    return localStorage.getItem(SOUND_KEY) !== "off";
  } catch {
    return true;
  }
};

function setSound(on) {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // private browsing: the choice lasts until the page is closed
  }
}

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  audio ??= new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

/** Browsers only let a page play sound after someone touched it: wake the sound up then. */
function unlockSound() {
  if (!soundOn()) return;
  try {
    audioContext();
  } catch {
    // no sound on this device
  }
}

/** A short rising chime. Never fails: a device without sound still gives the point. */
function cheer() {
  if (!soundOn()) return;
  try {
    const ctx = audioContext();
    if (!ctx) return;
    const start = ctx.currentTime + 0.02;
    [523.25, 659.25, 783.99, 1046.5].forEach((frequency, i) => {
      const tone = ctx.createOscillator();
      const volume = ctx.createGain();
      const at = start + i * 0.08;
      tone.type = "triangle";
      tone.frequency.setValueAtTime(frequency, at);
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      tone.connect(volume);
      volume.connect(ctx.destination);
      tone.start(at);
      tone.stop(at + 0.4);
    });
  } catch {
    // no sound on this device: the point counts all the same
  }
}

// -- friendly monsters: a picture for each pupil, drawn from their avatar id --------------

function hashText(text) {
  let hash = 2166136261;
  for (const ch of text) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

function randomFrom(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SVG_NS = "http://www.w3.org/2000/svg";

function s(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

function monster(seedText) {
  const rnd = randomFrom(hashText(seedText || "pupil"));
  const pick = (n) => Math.floor(rnd() * n);
  const hue = pick(360);
  const body = `hsl(${hue} 70% 60%)`;
  const dark = `hsl(${hue} 55% 25%)`;
  const light = `hsl(${hue} 85% 82%)`;
  const svg = s("svg", { viewBox: "0 0 100 100", class: "monster", "aria-hidden": "true" });
  svg.setAttribute("focusable", "false");
  svg.append(s("circle", { cx: 50, cy: 50, r: 50, fill: `hsl(${(hue + 180) % 360} 70% 93%)` }));
  const line = { stroke: dark, "stroke-width": 3, "stroke-linecap": "round" };
  switch (pick(4)) {
    case 0: // horns
      svg.append(s("path", { d: "M30 34 L24 10 L42 28 Z", fill: light, ...line }));
      svg.append(s("path", { d: "M70 34 L76 10 L58 28 Z", fill: light, ...line }));
      break;
    case 1: // antennae
      svg.append(s("path", { d: "M42 30 L34 10", fill: "none", ...line }));
      svg.append(s("path", { d: "M58 30 L66 10", fill: "none", ...line }));
      svg.append(s("circle", { cx: 34, cy: 10, r: 5, fill: light, ...line }));
      svg.append(s("circle", { cx: 66, cy: 10, r: 5, fill: light, ...line }));
      break;
    case 2: // round ears
      svg.append(s("circle", { cx: 24, cy: 36, r: 11, fill: body, ...line }));
      svg.append(s("circle", { cx: 76, cy: 36, r: 11, fill: body, ...line }));
      break;
    default:
      break;
  }
  const skin = { fill: body, ...line };
  switch (pick(4)) {
    case 0:
      svg.append(s("circle", { cx: 50, cy: 58, r: 32, ...skin }));
      break;
    case 1:
      svg.append(s("rect", { x: 20, y: 26, width: 60, height: 64, rx: 24, ...skin }));
      break;
    case 2:
      svg.append(
        s("path", {
          d: "M20 88 V52 A30 30 0 0 1 80 52 V88 L70 80 L60 88 L50 80 L40 88 L30 80 Z",
          ...skin,
          "stroke-linejoin": "round",
        }),
      );
      break;
    default:
      svg.append(s("ellipse", { cx: 50, cy: 60, rx: 34, ry: 30, ...skin }));
  }
  svg.append(s("ellipse", { cx: 50, cy: 76, rx: 14, ry: 8, fill: light, opacity: 0.7 }));
  for (let i = pick(4); i > 0; i--) {
    const side = i % 2 ? 1 : -1;
    svg.append(
      s("circle", { cx: 50 + side * (18 + pick(8)), cy: 58 + pick(20), r: 2 + pick(3), fill: light }),
    );
  }
  const eyes = [[[50, 46, 11]], [[38, 46, 8], [62, 46, 8]], [[34, 48, 6.5], [50, 40, 6.5], [66, 48, 6.5]]][
    [0, 1, 1, 2][pick(4)]
  ];
  const look = (rnd() - 0.5) * 0.6;
  for (const [cx, cy, r] of eyes) {
    svg.append(s("circle", { cx, cy, r, fill: "#fff", stroke: dark, "stroke-width": 2 }));
    svg.append(s("circle", { cx: cx + look * r, cy: cy + r * 0.15, r: r * 0.45, fill: "#222" }));
    svg.append(s("circle", { cx: cx + look * r - r * 0.15, cy: cy - r * 0.1, r: r * 0.14, fill: "#fff" }));
  }
  switch (pick(3)) {
    case 0:
      svg.append(s("path", { d: "M38 64 Q50 76 62 64", fill: "none", ...line }));
      break;
    case 1:
      svg.append(s("ellipse", { cx: 50, cy: 67, rx: 8, ry: 6, fill: dark }));
      svg.append(s("ellipse", { cx: 50, cy: 70, rx: 5, ry: 2.5, fill: "#f28ba8" }));
      break;
    default:
      svg.append(s("path", { d: "M36 63 Q50 78 64 63 Z", fill: dark, "stroke-linejoin": "round" }));
      svg.append(s("path", { d: "M42 63.5 L46 63.5 L44 68 Z", fill: "#fff" }));
      svg.append(s("path", { d: "M54 63.5 L58 63.5 L56 68 Z", fill: "#fff" }));
  }
  return svg;
}

function pictureButton(pupilId, avatar, name, onClick) {
  return h(
    "li",
    null,
    h(
      "button",
      { type: "button", class: "picture", dataset: { pupil: pupilId }, onclick: onClick },
      monster(avatar || pupilId),
      h("span", { class: "picture-name", text: name }),
    ),
  );
}

// -- pickers -------------------------------------------------------------------------------

async function classNames() {
  if (Object.keys(state.me.classes || {}).length && state.me.role !== "office") {
    return state.me.classes;
  }
  const classes = await schoolClasses();
  return Object.fromEntries(classes.map((c) => [c.class_id, c.name]));
}

/** A select of the pupils this person may work with, grouped by class. */
async function pupilSelect(label, onChange) {
  const [pupils, names] = await Promise.all([schoolPupils(), classNames()]);
  const select = h("select", { required: true, onchange: onChange });
  select.append(h("option", { value: "", text: "Choose a child" }));
  const byClass = new Map();
  for (const pupil of pupils) {
    const name = names[pupil.class_id] || pupil.class_id;
    if (!byClass.has(name)) byClass.set(name, []);
    byClass.get(name).push(pupil);
  }
  for (const name of [...byClass.keys()].sort()) {
    const group = h("optgroup", { label: `Class ${name}` });
    const members = byClass.get(name).sort((a, b) => a.first_name.localeCompare(b.first_name));
    for (const pupil of members) {
      group.append(
        h("option", { value: pupil.pupil_id, text: `${pupil.first_name} ${pupil.surname}` }),
      );
    }
    select.append(group);
  }
  const pupilName = (id) => {
    const pupil = pupils.find((p) => p.pupil_id === id);
    return pupil ? `${pupil.first_name} ${pupil.surname}` : id;
  };
  return { control: field(label, { control: select }), select, pupilName, pupils };
}

function classSelect(onChange) {
  const entries = Object.entries(state.me.classes || {});
  const select = h("select", { onchange: onChange });
  for (const [id, name] of entries) select.append(h("option", { value: id, text: name }));
  return { control: entries.length > 1 ? field("Class", { control: select }) : null, select };
}

// -- signed out: sign in, set a password, pupils ------------------------------------------

function signInView() {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  const button = h("button", { type: "submit", text: "Sign in" });
  const form = h(
    "form",
    { class: "stack", novalidate: false },
    field("Email", { control: email }),
    field("Password", { control: password }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(button, "Signing in…", async () => {
      const me = await api("POST", "/api/session", { email: email.value, password: password.value });
      signedIn(me);
      go("");
    });
  });
  if (location.hash === "#card-not-valid") {
    setTimeout(() => warn("That sign-in card does not work any more. Ask your teacher for a new one."));
  }
  return section(
    "Sign in",
    h("p", { text: "For parents, carers and school staff." }),
    form,
    h("h2", { text: "Other ways in" }),
    h(
      "ul",
      { class: "links" },
      h("li", null, h("a", { href: "/join", text: "Got a letter from school? Join with your code" })),
      h("li", null, h("a", { href: "#pupil", text: "Pupils: sign in with your class code" })),
    ),
  );
}

function setupView(token) {
  const password = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const again = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const button = h("button", { type: "submit", text: "Save password and sign in" });
  const form = h(
    "form",
    { class: "stack" },
    field("New password", { control: password, hint: "At least 10 characters. A few words together are easy to remember." }),
    field("Type the password again", { control: again }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (password.value !== again.value) {
      warn("The two passwords are not the same. Please type them again.");
      again.focus();
      return;
    }
    await working(button, "Saving…", async () => {
      const me = await api("POST", "/api/setup", { token, password: password.value });
      signedIn(me);
      history.replaceState(null, "", "/");
      await render();
      say(`Your password is saved. Welcome, ${me.display_name}.`);
    });
  });
  return section(
    "Choose your password",
    h("p", { text: "Choose a password for your Schoolgate account. This link works once." }),
    form,
  );
}

const CLASS_CODE_KEY = "schoolgate-class-code";

function pupilSignInView() {
  const wrap = h("div");
  const code = h("input", {
    type: "text",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    class: "code-input",
    required: true,
    minlength: 4,
    maxlength: 16,
  });
  const next = h("button", { type: "submit", text: "Next" });
  const form = h(
    "form",
    { class: "stack" },
    field("Class code", { control: code, hint: "Your teacher shows it on the board." }),
    next,
  );
  const pictures = h("div");

  async function showPictures(value, button) {
    const found = await api("POST", "/api/pupil/class", { code: value });
    sessionStorage.setItem(CLASS_CODE_KEY, value);
    form.hidden = true;
    const grid = h("ul", { class: "pictures big" });
    for (const pupil of found.pupils) {
      grid.append(
        pictureButton(pupil.pupil_id, pupil.avatar, pupil.name, async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            const me = await api("POST", "/api/pupil/session", { code: value, pupil_id: pupil.pupil_id });
            signedIn(me);
            go("");
          } catch (error) {
            failed(error);
          } finally {
            button.disabled = false;
          }
        }),
      );
    }
    const title = heading(2, "Tap your picture");
    fill(pictures,
      title,
      grid,
      h("button", {
        type: "button",
        class: "secondary",
        text: "Use a different class code",
        onclick: () => {
          sessionStorage.removeItem(CLASS_CODE_KEY);
          pictures.replaceChildren();
          form.hidden = false;
          code.value = "";
          code.focus();
        },
      }),
    );
    if (button) title.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(next, "Looking…", () => showPictures(code.value.trim().toUpperCase(), next));
  });
  const remembered = sessionStorage.getItem(CLASS_CODE_KEY);
  if (remembered) {
    code.value = remembered;
    showPictures(remembered).catch(() => sessionStorage.removeItem(CLASS_CODE_KEY));
  }
  add(wrap, [form, pictures]);
  return section("Pupil sign in", wrap);
}

// -- joining with a letter's code ---------------------------------------------------------

function readableCode(code) {
  const plain = code.replace(/[^A-Za-z0-9]/g, "").toUpperCase();
  return plain.length === 10 ? `${plain.slice(0, 5)}-${plain.slice(5)}` : code.trim().toUpperCase();
}

function joinView() {
  const fromLink = new URLSearchParams(location.search).get("code");
  state.join ??= { code: "", mode: "create", email: "", step: "start", redeemed: null };
  const join = state.join;
  if (fromLink && !join.code) join.code = readableCode(fromLink);
  const body = h("div");

  function show(step, focus = true) {
    join.step = step;
    const build = { start, conduct, pending }[step];
    fill(body, build());
    if (focus) body.querySelector("h2")?.focus();
  }

  async function redeem() {
    const answer = await api("POST", "/api/join/redeem", { code: join.code });
    join.redeemed = answer;
    if (answer.code_of_conduct && !answer.code_of_conduct_accepted) show("conduct");
    else await finish();
  }

  async function finish() {
    const answer = join.redeemed;
    if (answer.status === "pending") {
      show("pending");
      return;
    }
    let me = state.me;
    for (let tries = 0; tries < 40; tries++) {
      me = await api("GET", "/api/me");
      if (me.children.some((c) => c.pupil_id === answer.pupil_id)) break;
      await sleep(250); // the link is being recorded
    }
    signedIn(me);
    const child = me.children.find((c) => c.pupil_id === answer.pupil_id);
    state.join = null;
    history.replaceState(null, "", "/");
    await render();
    say(child ? `You are now connected to ${child.name}.` : "You are now connected.");
  }

  function start() {
    const codeInput = h("input", {
      type: "text",
      name: "code",
      value: join.code,
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      class: "code-input",
      required: true,
      minlength: 4,
      maxlength: 32,
    });
    codeInput.addEventListener("input", () => {
      join.code = codeInput.value.trim();
    });
    const codeField = field("Code from the letter", {
      control: codeInput,
      hint: "It looks like ABCDE-12345. If you scanned the QR code, it is already filled in.",
    });
    const me = state.me;
    if (me && me.role !== "parent") {
      return h(
        "div",
        null,
        heading(2, "This is for parents and carers"),
        h("p", { text: `You are signed in as ${me.display_name}. To join as a parent or carer, sign out first.` }),
      );
    }
    if (me) {
      const button = h("button", { type: "submit", text: "Connect to my child" });
      const form = h("form", { class: "stack" }, codeField, button);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        join.code = codeInput.value.trim();
        await working(button, "Connecting…", redeem);
      });
      return h(
        "div",
        null,
        heading(2, "Connect to your child"),
        h(
          "p",
          null,
          `You are signed in as ${me.display_name}. `,
          h("button", { type: "button", class: "link-button", text: "Not you? Sign out", onclick: signOut }),
        ),
        form,
      );
    }
    const creating = join.mode === "create";
    const name = h("input", { type: "text", autocomplete: "name", required: true, maxlength: 120 });
    const email = h("input", {
      type: "email",
      autocomplete: creating ? "email" : "username",
      required: true,
      value: join.email,
    });
    const password = h("input", {
      type: "password",
      autocomplete: creating ? "new-password" : "current-password",
      required: true,
      minlength: creating ? 10 : 1,
    });
    const button = h("button", {
      type: "submit",
      text: creating ? "Create account and join" : "Sign in and join",
    });
    const form = h(
      "form",
      { class: "stack" },
      codeField,
      creating ? field("Your name", { control: name, hint: "The name the school knows you by, for example Sam Smith." }) : null,
      field("Email", { control: email }),
      field("Password", {
        control: password,
        hint: creating ? "At least 10 characters. A few words together are easy to remember." : undefined,
      }),
      button,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      join.code = codeInput.value.trim();
      join.email = email.value;
      await working(button, creating ? "Creating your account…" : "Signing in…", async () => {
        let me;
        try {
          me = creating
            ? await api("POST", "/api/join/account", {
                display_name: name.value.trim(),
                email: email.value.trim(),
                password: password.value,
              })
            : await api("POST", "/api/session", { email: email.value, password: password.value });
        } catch (error) {
          if (error.slug === "email-taken") {
            join.mode = "sign-in";
            show("start");
            warn(`${error.message}`);
            return;
          }
          throw error;
        }
        signedIn(me);
        if (me.role !== "parent") {
          show("start");
          return;
        }
        try {
          await redeem();
        } catch (error) {
          show("start");
          throw error;
        }
      });
    });
    const other = h("button", {
      type: "button",
      class: "link-button",
      text: creating ? "I already have an account: sign in instead" : "I am new: create an account instead",
      onclick: () => {
        join.mode = creating ? "sign-in" : "create";
        join.email = email.value;
        show("start");
      },
    });
    return h(
      "div",
      null,
      heading(2, creating ? "Create your account" : "Sign in to join"),
      h("p", {
        text: creating
          ? "You need an account to see your child's points and news. It takes a minute."
          : "Sign in with the account you already have, and we will add this child to it.",
      }),
      form,
      h("p", null, other),
    );
  }

  function conduct() {
    const rules = join.redeemed.code_of_conduct;
    const agree = checkbox("I have read the code of conduct and I agree to it", { required: true });
    const button = h("button", { type: "submit", text: "Agree and continue" });
    const form = h("form", { class: "stack" }, agree, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await working(button, "Saving…", async () => {
        await api(
          "POST",
          `/api/consent/schools/${encodeURIComponent(join.redeemed.school_id)}/code-of-conduct/acceptances`,
          { version: rules.version },
        );
        await finish();
      });
    });
    const text = h("div", { class: "conduct" });
    for (const paragraph of rules.text.split(/\n\s*\n/)) text.append(h("p", { text: paragraph }));
    return h(
      "div",
      null,
      heading(2, "The school's code of conduct"),
      h("p", { text: "The school asks every parent and carer to agree to this before joining." }),
      text,
      form,
    );
  }

  function pending() {
    return h(
      "div",
      null,
      heading(2, "Thank you. The school will check this"),
      h("p", {
        text:
          "This child already has two parents or carers on Schoolgate, so someone at the school " +
          "needs to approve you first. This keeps children safe.",
      }),
      h("p", { text: "You do not need to do anything else. Once the school approves, you will see your child here." }),
      h("button", {
        type: "button",
        text: "Go to my page",
        onclick: () => {
          state.join = null;
          history.replaceState(null, "", "/");
          render();
        },
      }),
    );
  }

  show(join.step === "start" || !join.redeemed ? "start" : join.step, false);
  return section(
    "Join your child's school",
    h("p", { text: "Your child's school sent you a letter with a code. With it you can see your child's points and news here." }),
    body,
  );
}

// -- parents and pupils ---------------------------------------------------------------------

const WHO_SET = { parent: "a parent or carer", teacher: "the teacher", teaching_assistant: "the teacher", leader: "the school" };

/** A table of points for each value, today and this week: one child's only. */
function byWayTable(today, week, names, caption) {
  const ids = [...new Set([...Object.keys(names), ...Object.keys(today.by_way || {}), ...Object.keys(week.by_way || {})])];
  const rows = h("tbody");
  for (const id of ids) {
    rows.append(
      h(
        "tr",
        null,
        h("th", { scope: "row", text: wayName(id, names) }),
        h("td", { text: String(today.by_way?.[id] ?? 0) }),
        h("td", { text: String(week.by_way?.[id] ?? 0) }),
      ),
    );
  }
  if (today.needs_work || week.needs_work) {
    rows.append(
      h(
        "tr",
        { class: "needs-work-row" },
        h("th", { scope: "row", text: "Needs work" }),
        h("td", { text: String(today.needs_work || 0) }),
        h("td", { text: String(week.needs_work || 0) }),
      ),
    );
  }
  return h(
    "table",
    { class: "by-way-table" },
    h("caption", { text: caption }),
    h("thead", null, h("tr", null, h("th", { scope: "col", text: "Value" }), h("th", { scope: "col", text: "Today" }), h("th", { scope: "col", text: "This week" }))),
    rows,
  );
}

/** Set, change or take away a child's daily target (their parent or their teacher). */
function targetForm({ path, name, current, saved }) {
  const input = h("input", { type: "number", min: 1, max: 50, step: 1, inputmode: "numeric", required: true, value: current ?? "" });
  const save = h("button", { type: "submit", text: current ? "Change target" : "Save target" });
  const remove = current
    ? h("button", { type: "button", class: "secondary", text: "Remove target" })
    : null;
  const form = h(
    "form",
    { class: "stack target-form" },
    field(`Daily target for ${name}`, {
      control: input,
      hint: "How many points to aim for each day, from 1 to 50.",
    }),
    h("div", { class: "row" }, save, remove),
  );
  async function store(value, button) {
    await working(button, "Saving…", async () => {
      await api("PUT", path, { points_per_day: value });
      await saved(value);
      say(value ? `Daily target saved: ${value} ${points(value)} a day for ${name}.` : `The daily target for ${name} is removed.`);
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number(input.value);
    if (!Number.isInteger(value) || value < 1 || value > 50) {
      warn("Choose a daily target from 1 to 50 points.");
      input.focus();
      return;
    }
    store(value, save);
  });
  remove?.addEventListener("click", () => store(null, remove));
  return form;
}

/**
 * One child's points: today and this week by value, progress towards their own daily target,
 * and their weeks so far with their best week. Live: it refreshes when news of the child comes.
 * Never shows another child's points.
 */
function pointsPanel(child, { self = false, targets = false } = {}) {
  const schoolId = child.school_id || state.me.school_id;
  const base = pointsApi(`/pupils/${encodeURIComponent(child.pupil_id)}`, schoolId);
  const names = schoolId === state.me.school_id ? state.me.school_ways || {} : {};
  const counts = h("div", { class: "counts" });
  const table = h("div", { class: "table-wrap" });
  const goal = h("div", { class: "goal" });
  const goalForm = h("div");
  const weeks = h("div", { class: "weeks-area" });
  const news = h("p", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
  const goalTitle = uid("goal");
  const weeksTitle = uid("weeks");
  const node = h(
    "div",
    { class: "points-panel" },
    counts,
    table,
    h("section", { class: "goal-area", "aria-labelledby": goalTitle }, h("h3", { id: goalTitle, text: self ? "My target" : "Daily target" }), goal, goalForm),
    h("section", { "aria-labelledby": weeksTitle }, h("h3", { id: weeksTitle, text: self ? "My weeks" : "Weeks" }), weeks),
    news,
  );
  let last = null;
  let shownTarget;

  function show(summary) {
    const today = summary.today || { total: 0, by_way: {} };
    const week = summary.week || { total: 0, by_way: {} };
    const target = summary.target || {};
    const stat = (label, cls, n) =>
      h("p", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: cls, dataset: { pupil: child.pupil_id }, text: String(n) }), h("span", { class: "stat-unit", text: points(n) }));
    fill(counts, stat("Today", "today-total", today.total), stat("This week", "total", week.total));
    if (self && week.total) counts.append(h("p", { class: "stars", "aria-hidden": "true", text: "★".repeat(Math.min(week.total, 30)) }));
    fill(table, byWayTable(today, week, names, self ? "My points for each value" : `${child.name}'s points for each value`));

    const aim = target.points_per_day;
    if (aim) {
      const id = uid("progress");
      const reached = target.reached || today.total >= aim;
      fill(goal,
        h("label", { for: id, class: "goal-label", text: `${today.total} of ${aim} ${points(aim)} today` }),
        h("progress", { id, max: aim, value: Math.min(today.total, aim) }),
        reached
          ? h("p", { class: "ok", text: self ? "You reached your target today. Well done!" : `${child.name} reached today's target. Well done!` })
          : h("p", { text: self ? `${aim - today.total} more to reach your target today.` : `${aim - today.total} more to reach today's target.` }),
        target.set_by_role ? h("p", { class: "muted", text: `Target set by ${WHO_SET[target.set_by_role] || "the school"}.` }) : null,
      );
    } else {
      fill(goal, h("p", { class: "muted", text: self ? "You do not have a daily target yet." : "No daily target yet." }));
    }
    if (targets && shownTarget !== (aim ?? null)) {
      shownTarget = aim ?? null;
      fill(goalForm,
        targetForm({
          path: `${base}/target`,
          name: child.name,
          current: shownTarget,
          saved: async (value) => {
            await readUntil(() => refresh(), (s) => (s.target?.points_per_day ?? null) === value);
            goalForm.querySelector("input")?.focus();
          },
        }),
      );
    }

    const history = summary.history || [];
    const best = summary.best_week;
    if (!history.length) {
      fill(weeks, h("p", { class: "muted", text: "No weeks yet." }));
    } else {
      const list = h("ol", { class: "weeks" });
      for (const w of history.slice(0, 12)) {
        const isBest = best && best.total > 0 && w.week_start === best.week_start;
        list.append(
          h(
            "li",
            { class: isBest ? "best" : null },
            h("span", { text: w.week_start === week.week_start ? "This week" : `Week of ${shortDay(w.week_start)}` }),
            h("strong", { text: `${w.total} ${points(w.total)}` }),
            isBest ? h("span", { class: "badge", text: "★ Best week" }) : null,
          ),
        );
      }
      fill(weeks,
        best && best.total > 0
          ? h("p", { class: "best-line", text: `${self ? "My best week" : "Best week"}: ${best.total} ${points(best.total)}, ${best.week_start === week.week_start ? "this week" : `the week of ${shortDay(best.week_start)}`}.` })
          : null,
        list,
      );
    }

    if (last && today.total !== last.today?.total) {
      const more = today.total > (last.today?.total ?? 0);
      const who = self ? "You" : child.name;
      news.textContent = more
        ? `${who} got a point! ${today.total} ${points(today.total)} today.`
        : `${self ? "Your" : `${child.name}'s`} points changed: ${today.total} today.`;
      for (const number of counts.querySelectorAll(".total, .today-total")) number.classList.add("bump");
    }
    last = summary;
  }

  const refresh = freshest((after) => api("GET", `${base}/summary${afterQuery(after)}`), show);
  const ready = refresh();
  const stream = listen(`/api/live/pupils/${encodeURIComponent(child.pupil_id)}`, (message) =>
    refresh(message.position).catch(quietly),
  );
  return { node, ready, refresh, close: () => stream.close() };
}

async function childCard(child) {
  const titleId = uid("child");
  const panel = pointsPanel(child, { targets: true });
  let body = panel.node;
  try {
    await panel.ready;
  } catch (error) {
    panel.close();
    body = h("p", { text: `Points are not available right now. ${error.message}` });
  }
  const picture = h("span", { class: "child-monster" }, monster(child.avatar || child.pupil_id));
  const node = h(
    "li",
    null,
    h(
      "article",
      { class: "card child-card", "aria-labelledby": titleId },
      h("div", { class: "child-head" }, picture, h("div", null, h("h2", { id: titleId, text: child.name }), h("p", { class: "muted", text: [child.class_name && `Class ${child.class_name}`, child.school_name].filter(Boolean).join(", ") }))),
      body,
    ),
  );
  return { node, close: panel.close };
}

/** A few friendly monsters to choose from (with the current one first), saved as the avatar. */
function monsterChooser(pupilId, current, saved) {
  let mine = current;
  const options = h("div", { class: "monster-options" });
  const save = h("button", { type: "submit", text: "Save my monster" });
  const deal = () => {
    const seeds = [mine, ...Array.from({ length: 5 }, () => `m-${randomHex(5)}`)];
    fill(options,
      ...seeds.map((seed, i) => {
        const id = uid("monster");
        return h(
          "div",
          { class: "monster-option" },
          h("input", { type: "radio", name: "monster", id, value: seed, checked: i === 0 }),
          h("label", { for: id }, monster(seed), h("span", { text: i === 0 ? "My monster now" : `Monster ${i}` })),
        );
      }),
    );
  };
  deal();
  const other = h("button", { type: "button", class: "secondary", text: "Show me other monsters", onclick: deal });
  const form = h(
    "form",
    { class: "monster-form" },
    h("fieldset", null, h("legend", { text: "Choose your monster" }), options),
    h("div", { class: "row" }, save, other),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const seed = form.querySelector("input[name=monster]:checked")?.value;
    if (!seed || seed === mine) {
      say("That is your monster already.");
      return;
    }
    working(save, "Saving…", async () => {
      await api("PUT", roster(`/pupils/${encodeURIComponent(pupilId)}/avatar`), { avatar: seed });
      mine = seed;
      saved(seed);
      deal();
      say("Your new monster is saved!");
    });
  });
  return h("details", { class: "monster-details" }, h("summary", { text: "Change my monster" }), form);
}

// A school changed its code of conduct: ask again, as when the family joined.
function conductDue(item, done) {
  const agree = checkbox("I have read the new code of conduct and I agree to it", { required: true });
  const button = h("button", { type: "submit", text: "Agree" });
  const form = h("form", { class: "stack" }, agree, button);
  const text = h("div", { class: "conduct" });
  for (const paragraph of item.text.split(/\n\s*\n/)) text.append(h("p", { text: paragraph }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Saving…", async () => {
      await api("POST", `/api/consent/schools/${encodeURIComponent(item.school_id)}/code-of-conduct/acceptances`, {
        version: item.version,
      });
      await done();
    });
  });
  const titleId = uid("conduct");
  return h(
    "article",
    { class: "card", "aria-labelledby": titleId },
    h("h2", { id: titleId, text: "The school's code of conduct has changed" }),
    h("p", { text: "Please read the new version and agree to it." }),
    text,
    form,
  );
}

function familyView() {
  const list = h("ul", { class: "cards" });
  const waiting = h("div");
  const conduct = h("div");
  const refresh = h("button", { type: "button", text: "Check again" });
  let cards = [];

  async function load() {
    const me = await api("GET", "/api/me");
    state.me = me;
    const fresh = await Promise.all(me.children.map(childCard));
    for (const card of cards) card.close();
    cards = fresh;
    fill(list, ...cards.map((c) => c.node));
    const accepted = (item) => async () => {
      // the school records the agreement a moment later: wait for it, then show the page
      await readUntil(
        () => api("GET", "/api/me"),
        (m) => !(m.code_of_conduct_due || []).some((d) => d.school_id === item.school_id && d.version === item.version),
      ).catch(() => null);
      await load();
    };
    conduct.replaceChildren(...(me.code_of_conduct_due || []).map((item) => conductDue(item, accepted(item))));
    let links = [];
    try {
      links = await api("GET", "/api/consent/parents/me/children");
    } catch {
      links = [];
    }
    const pendingCount = links.filter((l) => l.status === "pending").length;
    waiting.replaceChildren();
    if (pendingCount) {
      waiting.append(
        h("div", { class: "notice" },
          h("h2", { text: "Waiting for the school" }),
          h("p", {
            text:
              pendingCount === 1
                ? "You asked to join as a parent or carer of a child. The school needs to approve this first. You will see the child here once they do."
                : `You asked to join as a parent or carer of ${pendingCount} children. The school needs to approve this first.`,
          }),
        ),
      );
    }
    if (!me.children.length && !pendingCount) {
      waiting.append(
        h("p", { text: "You are not connected to a child yet. " }, h("a", { href: "/join", text: "Join with the code from the school's letter" })),
      );
    }
  }

  refresh.addEventListener("click", () =>
    working(refresh, "Checking…", async () => {
      await load();
      say("Updated just now.");
    }),
  );
  const view = section(
    state.me.children.length === 1 ? "Your child" : "Your children",
    state.me.children.length
      ? h("p", { class: "muted", text: "Points appear here as soon as the school gives them. Each child is only compared with their own target and their own weeks." })
      : null,
    conduct,
    waiting,
    list,
    refresh,
    h("p", null, h("a", { href: "/join", text: "Add another child with a code from a letter" })),
  );
  return load().then(() => view);
}

async function pupilHomeView() {
  const me = state.me;
  const self = me.children[0];
  let avatar = self.avatar;
  if (!avatar) {
    try {
      avatar = (await api("GET", roster(`/pupils/${encodeURIComponent(self.pupil_id)}`))).avatar;
    } catch {
      // the picture made from their id will do
    }
  }
  avatar ||= self.pupil_id;
  const picture = h("span", { class: "hello-monster" }, monster(avatar));
  const panel = pointsPanel(self, { self: true });
  let body = panel.node;
  try {
    await panel.ready;
  } catch (error) {
    body = h("p", { text: `Your points are not available right now. ${error.message}` });
  }
  const refresh = h("button", { type: "button", text: "Check again" });
  refresh.addEventListener("click", () => working(refresh, "Checking…", () => panel.refresh()));
  return section(
    `Hello, ${self.name}!`,
    h("div", { class: "pupil-hello" }, picture, h("p", { text: "Here are your points." })),
    body,
    refresh,
    monsterChooser(self.pupil_id, avatar, (seed) => fill(picture, monster(seed))),
  );
}

// -- classroom staff -------------------------------------------------------------------------

const UNDO_SHOWN = 4;

/** A school-value radio group; the first is chosen. */
function radioGroup(legend, name, options, cls = "ways") {
  const set = h("fieldset", { class: cls }, h("legend", { text: legend }));
  options.forEach(([value, label], i) => {
    const id = uid(name);
    set.append(h("div", { class: "way" }, h("input", { type: "radio", name, id, value, checked: i === 0 }), h("label", { for: id, text: label })));
  });
  return set;
}

/**
 * The classroom screen: tap a child to give a point at once, or choose several, or the whole
 * class. The class's total this week is the only number shown: never a child's beside another's.
 * Every open screen of the class updates live; each new point plays a short sound.
 */
async function awardView() {
  const ways = Object.entries(state.me.school_ways || {});
  const { control, select } = classSelect(() => switchClass());
  if (!select.options.length) {
    return section("Award points", h("p", { text: "You do not have a class yet. Ask a school leader to add you to one." }));
  }
  const settings = await api("GET", pointsApi("/settings")).catch(() => ({ needs_work_enabled: false, undo_window_seconds: 60 }));
  const className = () => state.me.classes[select.value] || select.value;

  const wayField = radioGroup("School value", "way", ways);
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
    stream = listen(`/api/live/classes/${encodeURIComponent(classId)}`, (news) => {
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
      undone: `The ${many ? "points" : "point"} for ${who} (${way}) ${many ? "are" : "is"} undone.`,
      item: `${all ? "Whole class" : who}: ${way}`,
      undo: `Undo the ${many ? "points" : "point"} for ${who} (${way})`,
    };
  }

  async function award({ chosenPupils = [], all = false, button }) {
    if (button.dataset.busy) return;
    const way = wayField.querySelector("input:checked");
    if (!way) {
      warn("Choose a school value first.");
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
      say(words.said);
      offerUndo(answer, words);
      if (!all && chosenPupils.length > 1) {
        chosen.clear();
        updateChoosing();
      }
      setTimeout(() => refreshTotal().catch(quietly), 1500); // in case live news is slow
    } catch (error) {
      failed(error);
    } finally {
      delete button.dataset.busy;
      button.removeAttribute("aria-disabled");
      if (button === giveChosen) updateChoosing();
    }
  }

  // Undo: the newest few awards, each for its own window, in a bar above the page's messages.
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
    if (!undos.length) undoList.remove();
  }

  function offerUndo(answer, words) {
    const windowMs =
      answer.undo_until && answer.awarded_at
        ? Date.parse(answer.undo_until) - Date.parse(answer.awarded_at)
        : settings.undo_window_seconds * 1000;
    if (!(windowMs > 0)) return;
    const left = h("span", { class: "undo-left" });
    const button = h("button", { type: "button", class: "small", text: "Undo", "aria-label": words.undo });
    const item = h("li", null, h("span", { class: "undo-what", text: words.item }), left, button);
    const entry = { item, left, deadline: Date.now() + windowMs };
    button.addEventListener("click", () =>
      working(button, "Undoing…", async () => {
        try {
          await api("POST", pointsApi(`/awards/${encodeURIComponent(answer.award_id)}/undo`));
        } catch (error) {
          if (error.status !== 409) throw error;
          drop(entry);
          warn("It is too late to undo that now. It stays in the history.");
          return;
        }
        drop(entry);
        say(words.undone);
        setTimeout(() => refreshTotal().catch(quietly), 1500);
      }),
    );
    undos.unshift(entry);
    undoList.prepend(item);
    while (undos.length > UNDO_SHOWN) drop(undos[undos.length - 1]);
    if (!undoList.isConnected) $("actions").append(undoList);
    tick();
    ticking ??= setInterval(tick, 1000);
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
      warn("Tap the children to choose them first.");
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
  return section(
    "Award points",
    control,
    totalBox,
    ways.length ? wayField : h("p", { text: "The school has not set up its values yet." }),
    kindField,
    h("div", { class: "row award-tools" }, several, whole, giveChosen, clearChosen),
    hint,
    grid,
    sound,
  );
}

function classCodeView() {
  const { control, select } = classSelect(() => shown.replaceChildren());
  const button = h("button", { type: "button", text: "Show a class code" });
  const shown = h("div");
  button.addEventListener("click", () =>
    working(button, "Making a code…", async () => {
      const answer = await api("POST", `/api/classes/${encodeURIComponent(select.value)}/code`);
      const where = `${location.origin}/#pupil`;
      fill(shown,
        h(
          "div",
          { class: "code-panel" },
          h("p", { text: `Class ${state.me.classes[select.value] || ""}: pupils type this code` }),
          h("p", { class: "big-code", id: "class-code", text: answer.code }),
          h("p", null, "On a classroom device, open ", h("strong", { text: where }), ", type the code, then tap your picture."),
          h("p", { class: "muted", text: "Showing a new code stops the old one working." }),
        ),
      );
      say(`The class code is ${answer.code.split("").join(" ")}.`);
    }),
  );
  if (!select.options.length) {
    return section("Class code", h("p", { text: "You do not have a class yet." }));
  }
  return section(
    "Class code",
    h("p", { text: "Pupils sign in on classroom devices with a code you show, then their own picture." }),
    control,
    button,
    shown,
  );
}

async function cardsView() {
  const picker = await pupilSelect("Pupil", () => card.replaceChildren());
  const button = h("button", { type: "submit", text: "Make a sign-in card" });
  const card = h("div");
  const form = h("form", { class: "stack" }, picker.control, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const pupilId = picker.select.value;
    const pupil = picker.pupils.find((p) => p.pupil_id === pupilId);
    working(button, "Making the card…", async () => {
      const answer = await api("POST", `/api/pupils/${encodeURIComponent(pupilId)}/card`);
      fill(card,
        h(
          "figure",
          { class: "printable sign-in-card" },
          monster(pupil.avatar || pupil.pupil_id),
          h("p", { class: "card-name", text: pupil.display_name }),
          svgImage(answer.qr_svg, `QR code that signs ${pupil.display_name} in`),
          h("figcaption", { text: "Hold this card up to the camera to sign in to Schoolgate." }),
        ),
        h("button", { type: "button", text: "Print the card", onclick: () => window.print() }),
      );
      say(`The card for ${pupil.display_name} is ready to print.`);
    });
  });
  return section(
    "Sign-in cards",
    h("p", { text: "A card with a QR code lets a pupil sign in without typing. Making a new card stops their old card working." }),
    form,
    card,
  );
}

// -- leaders and office ----------------------------------------------------------------------

async function invitesView() {
  const result = h("div");
  const picker = await pupilSelect("Pupil", () => result.replaceChildren());
  const button = h("button", { type: "submit", text: "Make an invite letter" });
  const form = h("form", { class: "stack" }, picker.control, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const pupilId = picker.select.value;
    const name = picker.pupilName(pupilId);
    working(button, "Making the letter…", async () => {
      const invite = await api("POST", consent(`/pupils/${encodeURIComponent(pupilId)}/invites`), {});
      fill(result,
        h(
          "div",
          { class: "card invite" },
          heading(2, `Invite for a parent or carer of ${name}`),
          h("p", null, "Code: ", h("strong", { class: "invite-code", text: invite.code })),
          svgImage(invite.qr_svg, "QR code that opens the join page with this code"),
          h("p", { text: `The code works once, until ${longDate(invite.expires_at)}.` }),
          h("p", null, h("a", {
            href: `/api/consent${invite.letter_url}`,
            target: "_blank",
            rel: "noopener",
            class: "button-link",
            text: "Open the letter to print (opens in a new tab)",
          })),
        ),
      );
      result.querySelector("h2").focus();
      say(`The invite letter for ${name} is ready.`);
    });
  });
  return section(
    "Invite letters",
    h("p", { text: "Make a letter with a private code for one parent or carer of a pupil. Make one letter for each parent or carer." }),
    form,
    result,
  );
}

async function importView() {
  const file = h("input", { type: "file", accept: ".csv,.zip,text/csv,application/zip", required: true });
  const full = checkbox("This file lists everyone at the school: anyone missing from it has left");
  const button = h("button", { type: "submit", text: "Upload and import" });
  const form = h(
    "form",
    { class: "stack" },
    field("Roster file", {
      control: file,
      hint: "A OneRoster 1.2 zip from your school's information system, or a CSV file with one pupil a row and these columns: pupil_id, first_name, surname, year_group, class.",
    }),
    full,
    button,
  );
  const progressArea = h("div", { class: "progress-area" });
  const result = h("div");

  function showProgress(job) {
    const id = "import-progress";
    const bar = h("progress", { id, max: Math.max(job.total, 1) });
    if (job.total > 0) bar.value = job.processed;
    const words = job.status === "validating" ? "Checking the file" : "Importing";
    fill(progressArea,
      h("label", { for: id, text: `${words}: ${job.processed} of ${job.total} rows` }),
      bar,
    );
  }

  async function showReport(job) {
    progressArea.replaceChildren();
    if (job.status === "failed") {
      const problem = job.problem || {};
      const table = h(
        "table",
        null,
        h("caption", { text: "Problems in the file" }),
        h("thead", null, h("tr", null, h("th", { scope: "col", text: "File" }), h("th", { scope: "col", text: "Line" }), h("th", { scope: "col", text: "Problem" }))),
      );
      const rows = h("tbody");
      for (const error of problem.errors || []) {
        rows.append(h("tr", null, h("td", { text: error.file || "" }), h("td", { text: String(error.line ?? "") }), h("td", { text: error.reason || error.message || "" })));
      }
      table.append(rows);
      fill(result,
        heading(2, "Nothing was imported"),
        h("p", { text: problem.detail || problem.title || "The file could not be imported." }),
        rows.children.length ? table : null,
        h("p", { text: "Fix these lines in the file and upload it again." }),
      );
      result.querySelector("h2").focus();
      warn("The roster file has problems, so nothing was imported.");
      return;
    }
    const report = job.report || {};
    delete state.cache.pupils;
    delete state.cache.classes;
    const table = h("table", null, h("caption", { text: "Pupils" }));
    const rows = h("tbody");
    for (const [key, label] of [["added", "Added"], ["moved", "Moved class"], ["renamed", "Name changed"], ["left", "Left"], ["unchanged", "Unchanged"]]) {
      rows.append(h("tr", null, h("th", { scope: "row", text: label }), h("td", { text: String(report[key] ?? 0) })));
    }
    table.append(rows);
    const staff = report.staff || {};
    const staffLine = [
      staff.added?.length ? `${staff.added.length} added` : "",
      staff.changed?.length ? `${staff.changed.length} changed` : "",
      staff.left?.length ? `${staff.left.length} left` : "",
    ].filter(Boolean).join(", ");
    fill(result,
      heading(2, "Import finished"),
      report.already_applied ? h("p", { text: "This file had already been imported, so nothing changed." }) : null,
      table,
      staffLine ? h("p", { text: `Staff: ${staffLine}.` }) : null,
      report.added ? h("p", null, h("a", { href: "#invites", text: "Make invite letters for the new pupils' families" })) : null,
    );
    result.querySelector("h2").focus();
    say(`Import finished: ${report.added ?? 0} added, ${report.moved ?? 0} moved, ${report.left ?? 0} left.`);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    const isZip = /\.zip$/i.test(chosen.name) || chosen.type.includes("zip");
    const wholeSchool = full.querySelector("input").checked;
    result.replaceChildren();
    working(button, "Importing…", async () => {
      let job = await api(
        "POST",
        roster(`/imports?full=${wholeSchool ? "true" : "false"}`),
        chosen,
        { contentType: isZip ? "application/zip" : "text/csv" },
      );
      say("Uploaded. Importing now.");
      showProgress(job);
      while (job.status !== "done" && job.status !== "failed") {
        await sleep(400);
        job = await api("GET", roster(`/imports/${encodeURIComponent(job.import_id)}`));
        showProgress(job);
      }
      await showReport(job);
    }).finally(() => {
      if (!result.children.length) progressArea.replaceChildren();
    });
  });
  return section(
    "Import pupils",
    h("p", { text: "Bring your pupils, classes and staff in from a file. Nothing changes unless the whole file is right." }),
    form,
    progressArea,
    result,
  );
}

async function requestsView() {
  const [requests, pupils] = await Promise.all([api("GET", consent("/guardian-requests")), schoolPupils()]);
  const names = Object.fromEntries(pupils.map((p) => [p.pupil_id, `${p.first_name} ${p.surname}`]));
  const list = h("ul", { class: "cards" });
  const empty = () => h("li", { text: "No requests are waiting." });
  for (const request of requests) {
    const name = names[request.pupil_id] || request.pupil_id;
    const titleId = uid("request");
    const reason = h("textarea", { rows: 3, required: true, maxlength: 2000 });
    const approve = h("button", { type: "submit", value: "approve", text: "Approve" });
    const reject = h("button", { type: "submit", value: "reject", class: "secondary", text: "Reject" });
    const form = h(
      "form",
      { class: "stack" },
      field("Reason", { control: reason, hint: "Say why. It is kept with the decision." }),
      h("div", { class: "row" }, approve, reject),
    );
    const item = h(
      "li",
      null,
      h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h2", { id: titleId, text: `Request to join for ${name}` }),
        h("p", {
          text: `A parent or carer asked to join on ${longDate(request.since)}. ${name} already has two parents or carers on Schoolgate, so a leader decides.`,
        }),
        h("p", { text: `Who is asking: ${await parentName(request.parent_id)}` }),
        form,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const decision = event.submitter?.value === "reject" ? "reject" : "approve";
      const button = decision === "approve" ? approve : reject;
      working(button, "Saving…", async () => {
        await api(
          "POST",
          consent(`/pupils/${encodeURIComponent(request.pupil_id)}/guardian-requests/${encodeURIComponent(request.request_id)}/decision`),
          { decision, reason: reason.value.trim() },
        );
        item.remove();
        if (!list.children.length) list.append(empty());
        list.closest("section")?.querySelector("h1")?.focus();
        say(decision === "approve" ? `Approved. They can now see ${name}.` : `Rejected. They will not see ${name}.`);
      });
    });
    list.append(item);
  }
  if (!requests.length) list.append(empty());
  return section(
    "Join requests",
    h("p", { text: "When a child already has two parents or carers on Schoolgate, a leader decides about anyone else." }),
    list,
  );
}

/** Read again until what was just written shows: read models catch up a moment after a write. */
async function readUntil(read, done) {
  let value = await read();
  for (let tries = 0; done && !done(value) && tries < 25; tries++) {
    await sleep(200);
    value = await read();
  }
  return value;
}

/** After a change re-draws part of a page, put focus back on the control that was used. */
function refocus(container, key) {
  if (key) container.querySelector(`[data-focus="${key}"]`)?.focus();
}

async function mediaView() {
  const details = h("div");
  const picker = await pupilSelect("Pupil", () => load().catch(failed));
  const isLeader = state.me.role === "leader";

  async function load(done, focusKey) {
    const pupilId = picker.select.value;
    if (!pupilId) {
      details.replaceChildren();
      return;
    }
    const name = picker.pupilName(pupilId);
    const path = consent(`/pupils/${encodeURIComponent(pupilId)}`);
    const info = await readUntil(() => api("GET", `${path}/consent`), done);
    const media = info.media;
    const yes = uid("media");
    const no = uid("media");
    const save = h("button", { type: "submit", text: "Save", dataset: { focus: "media" } });
    const choice = h(
      "form",
      { class: "stack" },
      h(
        "fieldset",
        null,
        h("legend", { text: `Has the family agreed to photos and videos of ${name}?` }),
        h("div", { class: "way" }, h("input", { type: "radio", name: "granted", id: yes, value: "yes", checked: media.granted }), h("label", { for: yes, text: "Yes, they agreed" })),
        h("div", { class: "way" }, h("input", { type: "radio", name: "granted", id: no, value: "no", checked: !media.granted }), h("label", { for: no, text: "No" })),
      ),
      save,
    );
    choice.addEventListener("submit", (event) => {
      event.preventDefault();
      const granted = choice.querySelector("input:checked").value === "yes";
      working(save, "Saving…", async () => {
        await api("PUT", `${path}/media-consent`, { granted });
        await load((i) => i.media.granted === granted, "media");
        say(granted ? `Saved: photos of ${name} are allowed.` : `Saved: no photos of ${name}.`);
      });
    });
    const summary = media.may_appear
      ? `${name} may appear in photos, stories and portfolios.`
      : `${name} must not appear in photos, stories or portfolios.`;
    const parts = [
      h("p", { class: media.may_appear ? "ok" : "notice-text", text: summary }),
      media.in_care && !media.exception
        ? h("p", { text: `${name} is in local-authority care, so photos are not shown unless a leader records an exception.` })
        : null,
      choice,
    ];
    if (isLeader) {
      const inCare = checkbox("In local-authority care", { checked: media.in_care });
      const saveCare = h("button", { type: "submit", class: "secondary", text: "Save care status", dataset: { focus: "care" } });
      const care = h("form", { class: "stack" }, h("h2", { text: "Care status" }), inCare, saveCare);
      care.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = inCare.querySelector("input").checked;
        working(saveCare, "Saving…", async () => {
          await api("PUT", `${path}/care-status`, { in_care: value });
          await load((i) => i.media.in_care === value, "care");
          say("Care status saved.");
        });
      });
      parts.push(care);
      if (media.in_care && !media.exception) {
        const reason = h("textarea", { rows: 3, required: true, maxlength: 2000 });
        const allow = h("button", { type: "submit", class: "secondary", text: "Allow photos as an exception" });
        const exception = h("form", { class: "stack" }, h("h2", { text: "Exception" }), field("Reason for the exception", { control: reason }), allow);
        exception.addEventListener("submit", (event) => {
          event.preventDefault();
          working(allow, "Saving…", async () => {
            await api("POST", `${path}/media-exception`, { reason: reason.value.trim() });
            await load((i) => i.media.exception, "care");
            say("Exception recorded.");
          });
        });
        parts.push(exception);
      }
    }
    fill(details, ...parts);
    refocus(details, focusKey);
  }

  return section(
    "Photo consent",
    h("p", { text: "Record what a family said on the paper form about photos and videos of their child." }),
    picker.control,
    details,
  );
}

async function parentsView() {
  const details = h("div");
  const picker = await pupilSelect("Pupil", () => load().catch(failed));

  async function load(expect) {
    const pupilId = picker.select.value;
    if (!pupilId) {
      details.replaceChildren();
      return;
    }
    const name = picker.pupilName(pupilId);
    const info = await api("GET", consent(`/pupils/${encodeURIComponent(pupilId)}/consent`));
    if (!info.guardians.length) {
      fill(details, h("p", { text: `No parent or carer of ${name} has joined yet.` }));
      return;
    }
    const list = h("ul", { class: "cards" });
    for (const guardian of info.guardians) {
      const path = consent(`/parents/${encodeURIComponent(guardian.parent_id)}/suspension`);
      const focusKey = `parent-${guardian.parent_id}`;
      const suspension = await readUntil(
        () => api("GET", path),
        expect?.parentId === guardian.parent_id ? (s) => s.suspended === expect.suspended : undefined,
      ).catch(() => null);
      const titleId = uid("parent");
      const card = h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h2", { id: titleId, text: await parentName(guardian.parent_id) }),
        h("p", { class: "muted", text: `Connected to ${name} since ${longDate(guardian.since)}.` }),
      );
      if (suspension?.suspended) {
        const lift = h("button", { type: "button", text: "Lift the suspension", dataset: { focus: focusKey } });
        lift.addEventListener("click", () =>
          working(lift, "Saving…", async () => {
            await api("DELETE", path);
            await load({ parentId: guardian.parent_id, suspended: false });
            refocus(details, focusKey);
            say("The suspension is lifted. They can sign in again.");
          }),
        );
        const since = suspension.since ? ` since ${longDate(suspension.since)}` : "";
        card.append(
          h("p", { class: "notice-text", text: `Suspended${since}. Reason: ${suspension.reason || "none given"}` }),
          lift,
        );
      } else {
        const reason = h("textarea", { rows: 3, required: true, maxlength: 2000 });
        const suspend = h("button", { type: "submit", class: "danger", text: "Suspend this account", dataset: { focus: focusKey } });
        const form = h(
          "form",
          { class: "stack" },
          field("Reason for suspending", { control: reason, hint: "They cannot sign in while suspended." }),
          suspend,
        );
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          working(suspend, "Saving…", async () => {
            await api("POST", path, { reason: reason.value.trim() });
            await load({ parentId: guardian.parent_id, suspended: true });
            refocus(details, focusKey);
            say("The account is suspended.");
          });
        });
        card.append(h("p", { text: suspension ? "Active." : "We could not check this account just now." }), form);
      }
      list.append(h("li", null, card));
    }
    fill(details, list);
  }

  return section(
    "Parent accounts",
    h("p", { text: "Find a parent or carer by their child. You can suspend an account, giving the reason, and lift it again." }),
    picker.control,
    details,
  );
}

async function staffLinksView() {
  const staff = await api("GET", roster("/staff"));
  const shown = h("div");
  const table = h(
    "table",
    null,
    h("caption", { text: "Staff" }),
    h("thead", null, h("tr", null, h("th", { scope: "col", text: "Name" }), h("th", { scope: "col", text: "Role" }), h("th", { scope: "col", text: "Set-up link" }))),
  );
  const rows = h("tbody");
  for (const member of staff.filter((m) => m.status === "active")) {
    const make = h("button", { type: "button", class: "small", text: "Make a link", "aria-label": `Make a link for ${member.display_name}` });
    make.addEventListener("click", () =>
      working(make, "Making…", async () => {
        const answer = await api("POST", `/api/staff/${encodeURIComponent(member.staff_id)}/setup-link`);
        const input = h("input", { type: "text", readOnly: true, value: answer.link, class: "link-box" });
        const copy = h("button", {
          type: "button",
          class: "secondary",
          text: "Copy the link",
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(answer.link);
              say("Link copied.");
            } catch {
              input.select();
              say("Select the link and copy it.");
            }
          },
        });
        fill(shown,
          h(
            "div",
            { class: "card" },
            heading(2, `Set-up link for ${member.display_name}`),
            h("p", { text: `Send this to ${member.email || member.display_name}. It works once, for ${answer.expires_in_days} days. Whoever opens it chooses the password.` }),
            field("Link", { control: input }),
            copy,
          ),
        );
        shown.querySelector("h2").focus();
      }),
    );
    rows.append(
      h("tr", null, h("td", { text: member.display_name }), h("td", { text: ROLE_NAMES[member.role] || member.role }), h("td", null, make)),
    );
  }
  table.append(rows);
  return section(
    "Staff set-up links",
    h("p", { text: "A set-up link lets a member of staff choose their own password. Making a new link stops the old one working." }),
    shown,
    h("div", { class: "table-wrap" }, table),
  );
}

async function staffHomeView() {
  const me = state.me;
  const list = h("ul", { class: "tasks" });
  let waiting = 0;
  if (me.role === "leader") {
    waiting = (await api("GET", consent("/guardian-requests")).catch(() => [])).length;
  }
  for (const page of pagesFor(me)) {
    if (page.id === "home") continue;
    const extra = page.id === "requests" && waiting ? ` (${waiting} waiting)` : "";
    list.append(h("li", null, h("a", { href: `#${page.id}`, text: `${page.title}${extra}` }), h("p", { class: "muted", text: page.about })));
  }
  return section(`Hello, ${me.display_name}`, h("p", { text: me.school_name }), list);
}

// -- points: reports, targets, settings ----------------------------------------------------

/** Monday of this week, when the school's own week start cannot be asked. */
function mondayThisWeek() {
  const d = new Date();
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return isoDay(d);
}

async function reportView() {
  const { control, select } = classSelect(() => setWeek().then(show).catch(failed));
  if (!select.options.length) {
    return section("Points report", h("p", { text: "You do not have a class yet." }));
  }
  const from = h("input", { type: "date", required: true });
  const to = h("input", { type: "date", required: true });
  const button = h("button", { type: "submit", text: "Show points" });
  const result = h("div", { class: "report" });
  const form = h(
    "form",
    { class: "stack" },
    control,
    h("div", { class: "row dates" }, field("From", { control: from }), field("To", { control: to })),
    button,
  );

  async function setWeek() {
    let start = null;
    try {
      start = (await api("GET", pointsApi(`/classes/${encodeURIComponent(select.value)}/total`))).week_start;
    } catch {
      start = null;
    }
    start ||= mondayThisWeek();
    from.value = start;
    to.value = addDays(start, 6);
  }

  async function show() {
    const classId = select.value;
    const name = state.me.classes[classId] || classId;
    const query = `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
    const path = pointsApi(`/classes/${encodeURIComponent(classId)}/report?${query}`);
    const report = await api("GET", path);
    const names = { ...(state.me.school_ways || {}), ...(report.school_ways || {}) };
    const wayIds = [...new Set([...Object.keys(names), ...Object.keys(report.by_way || {}), ...report.pupils.flatMap((p) => Object.keys(p.by_way || {}))])];
    const needsWork = report.pupils.some((p) => p.needs_work) || report.needs_work;
    const period = `${shortDay(report.from || from.value)} to ${shortDay(report.to || to.value)}`;
    const head = h("tr", null, h("th", { scope: "col", text: "Pupil" }), ...wayIds.map((id) => h("th", { scope: "col", text: wayName(id, names) })), needsWork ? h("th", { scope: "col", text: "Needs work" }) : null, h("th", { scope: "col", text: "Total" }));
    const body = h("tbody");
    for (const pupil of [...report.pupils].sort((a, b) => a.name.localeCompare(b.name))) {
      body.append(
        h(
          "tr",
          null,
          h("th", { scope: "row", text: pupil.name }),
          ...wayIds.map((id) => h("td", { text: String(pupil.by_way?.[id] ?? 0) })),
          needsWork ? h("td", { text: String(pupil.needs_work || 0) }) : null,
          h("td", { class: "sum", text: String(pupil.total) }),
        ),
      );
    }
    const classNeeds = report.needs_work ?? report.pupils.reduce((n, p) => n + (p.needs_work || 0), 0);
    const foot = h(
      "tr",
      null,
      h("th", { scope: "row", text: "Whole class" }),
      ...wayIds.map((id) => h("td", { text: String(report.by_way?.[id] ?? 0) })),
      needsWork ? h("td", { text: String(classNeeds) }) : null,
      h("td", { class: "sum", text: String(report.total) }),
    );
    const csv = `${path}&format=csv`;
    fill(result,
      heading(2, `Class ${name}: ${period}`),
      h("p", { text: `${report.total} ${points(report.total)} in all.` }),
      report.pupils.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "report-table" }, h("caption", { text: `Points by pupil and value, class ${name}` }), h("thead", null, head), body, h("tfoot", null, foot)))
        : h("p", { text: "There are no pupils in this class." }),
      h("p", null, h("a", { class: "button-link", href: csv, download: `points-${classId}-${from.value}-to-${to.value}.csv`, text: "Download CSV" })),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (from.value > to.value) {
      warn("The “From” date must be on or before the “To” date.");
      from.focus();
      return;
    }
    working(button, "Loading…", async () => {
      await show();
      result.querySelector("h2")?.focus();
    });
  });
  await setWeek();
  await show().catch((error) => {
    fill(result, h("p", { text: "The report could not be shown." }));
    setTimeout(() => failed(error));
  });
  return section(
    "Points report",
    h("p", { text: "A class's points by pupil and by value over a period you choose. It starts with this school week." }),
    form,
    result,
  );
}

async function targetsView() {
  const details = h("div");
  const picker = await pupilSelect("Pupil", () => load().catch(failed));

  async function load(expect) {
    const pupilId = picker.select.value;
    if (!pupilId) {
      details.replaceChildren();
      return;
    }
    const name = picker.pupilName(pupilId);
    const path = pointsApi(`/pupils/${encodeURIComponent(pupilId)}`);
    const summary = await readUntil(
      () => api("GET", `${path}/summary`),
      expect === undefined ? undefined : (s) => (s.target?.points_per_day ?? null) === expect,
    );
    const target = summary.target || {};
    fill(details,
      h(
        "p",
        { text: target.points_per_day
          ? `${name}'s target is ${target.points_per_day} ${points(target.points_per_day)} a day, set by ${WHO_SET[target.set_by_role] || "the school"}.`
          : `${name} has no daily target.` },
      ),
      targetForm({
        path: `${path}/target`,
        name,
        current: target.points_per_day ?? null,
        saved: async (value) => {
          await load(value);
          details.querySelector("input")?.focus();
        },
      }),
    );
  }

  return section(
    "Daily targets",
    h("p", { text: "A daily target is a child's own aim, such as 5 points a day. The child and their family see how close they are. A parent or carer can set it too." }),
    picker.control,
    details,
  );
}

async function pointsSettingsView() {
  const current = await api("GET", pointsApi("/settings"));
  const needsWork = h("input", { type: "checkbox", id: uid("check"), checked: current.needs_work_enabled, "aria-describedby": "needs-work-hint" });
  const undo = h("input", { type: "number", min: 10, max: 600, step: 1, inputmode: "numeric", required: true, value: current.undo_window_seconds });
  const save = h("button", { type: "submit", text: "Save settings" });
  const form = h(
    "form",
    { class: "stack" },
    h(
      "fieldset",
      null,
      h("legend", { text: "“Needs work” points" }),
      h("p", { class: "hint", id: "needs-work-hint", text: "This is off unless you turn it on. When it is on, staff can also note that a child needs to work on one of the school's values. Points a child has earned are never taken away." }),
      h("div", { class: "check" }, needsWork, h("label", { for: needsWork.id, text: "Allow “needs work” points" })),
    ),
    field("Time to undo a point (seconds)", {
      control: undo,
      hint: "Staff can take back a point given by mistake for this long. Normally 60 seconds; from 10 to 600.",
    }),
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number(undo.value);
    if (!Number.isInteger(seconds) || seconds < 10 || seconds > 600) {
      warn("Choose an undo time from 10 to 600 seconds.");
      undo.focus();
      return;
    }
    working(save, "Saving…", async () => {
      const saved = await api("PUT", pointsApi("/settings"), { needs_work_enabled: needsWork.checked, undo_window_seconds: seconds });
      needsWork.checked = saved.needs_work_enabled;
      undo.value = saved.undo_window_seconds;
      say(`Saved. “Needs work” points are ${saved.needs_work_enabled ? "on" : "off"}; staff can undo a point for ${saved.undo_window_seconds} seconds.`);
    });
  });
  return section(
    "Points settings",
    h("p", { text: "How your school gives points." }),
    form,
  );
}

// -- pages and routes -------------------------------------------------------------------------

const STAFF_PAGES = [
  { id: "home", title: "Home", roles: ["leader", "office", "school_admin"], build: staffHomeView },
  { id: "award", title: "Award points", roles: CLASSROOM, build: awardView, about: "Give points for the school's values to a child, a group or the whole class." },
  { id: "report", title: "Points report", roles: ["teacher", "leader"], build: reportView, about: "A class's points by pupil and by value over a period, to read or download." },
  { id: "targets", title: "Daily targets", roles: ["teacher"], build: targetsView, about: "Set a child's own daily points target." },
  { id: "class-code", title: "Class code", roles: CLASSROOM, build: classCodeView, about: "Show a code so pupils can sign in on classroom devices." },
  { id: "cards", title: "Sign-in cards", roles: CLASSROOM, build: cardsView, about: "Print a QR card a pupil can sign in with." },
  { id: "invites", title: "Invite letters", roles: ["teacher", "leader", "office", "school_admin"], build: invitesView, about: "Print a letter with a code for a parent or carer to join." },
  { id: "import", title: "Import pupils", roles: ["leader", "school_admin"], build: importView, about: "Bring in pupils, classes and staff from your school's information system." },
  { id: "requests", title: "Join requests", roles: ["leader"], build: requestsView, about: "Decide about a third parent or carer of a child." },
  { id: "media", title: "Photo consent", roles: ["leader", "office", "school_admin"], build: mediaView, about: "Record whether photos of a child are allowed." },
  { id: "parents", title: "Parent accounts", roles: ["leader"], build: parentsView, about: "Suspend a parent or carer account, or lift a suspension." },
  { id: "points-settings", title: "Points settings", roles: ["leader"], build: pointsSettingsView, about: "Turn “needs work” points on or off, and set how long a point can be undone." },
  { id: "staff", title: "Staff set-up links", roles: ["leader", "school_admin"], build: staffLinksView, about: "Give staff a link to choose their password." },
];

function pagesFor(me) {
  if (!me) {
    return [
      { id: "home", title: "Sign in", build: signInView },
      { id: "card-not-valid", title: "Sign in", build: signInView },
      { id: "pupil", title: "Pupil sign in", build: pupilSignInView },
    ];
  }
  if (me.role === "parent") return [{ id: "home", title: "Your children", build: familyView }];
  if (me.role === "pupil") return [{ id: "home", title: "My points", build: pupilHomeView }];
  return STAFF_PAGES.filter((p) => p.roles.includes(me.role));
}

function currentRoute() {
  if (location.pathname.replace(/\/+$/, "") === "/join") return { id: "join" };
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash.startsWith("setup=")) return { id: "setup", token: hash.slice("setup=".length) };
  return { id: hash || "home" };
}

function go(hash) {
  const target = hash ? `/#${hash}` : "/";
  if (`${location.pathname}${location.hash}` !== target) history.pushState(null, "", target);
  render();
}

function signedIn(me) {
  state.me = me;
  state.cache = {};
  updateChrome();
}

function updateChrome() {
  const me = state.me;
  $("sign-out").hidden = !me;
  $("who").hidden = !me;
  $("who").textContent = me ? `${me.display_name}${me.role in ROLE_NAMES && me.role !== "parent" ? `, ${ROLE_NAMES[me.role]}` : ""}` : "";
  $("school-name").textContent = me?.school_name ? ` · ${me.school_name}` : "";
  const pages = me && STAFF.includes(me.role) ? pagesFor(me) : [];
  $("nav").hidden = pages.length < 2;
  fill($("nav-list"),
    ...pages.map((page) => h("li", null, h("a", { href: `#${page.id}`, text: page.title, dataset: { page: page.id } }))),
  );
}

let renderSeq = 0;

async function render({ focus = true } = {}) {
  const seq = ++renderSeq;
  stopListening();
  $("actions").replaceChildren();
  clearMessages();
  updateChrome();
  const route = currentRoute();
  const pages = pagesFor(state.me);
  let page;
  if (route.id === "join") page = { title: "Join", build: joinView };
  else if (route.id === "setup") page = { title: "Choose your password", build: () => setupView(route.token) };
  else page = pages.find((p) => p.id === route.id) || pages[0];
  const view = $("view");
  view.setAttribute("aria-busy", "true");
  fill(view, h("p", { class: "loading", text: "Loading…" }));
  let node;
  try {
    node = await page.build(route);
  } catch (error) {
    if (seq !== renderSeq) return;
    node = section(page.title, h("p", { text: "This page could not be shown." }));
    setTimeout(() => failed(error));
  }
  if (seq !== renderSeq) return;
  fill(view, node);
  view.removeAttribute("aria-busy");
  document.title = `${page.title} · Schoolgate`;
  for (const link of $("nav-list").querySelectorAll("a")) {
    if (link.dataset.page === (pages.includes(page) ? page.id : "")) {
      link.setAttribute("aria-current", "page");
      $("nav-list").scrollLeft = link.parentElement.offsetLeft - 16; // a phone's menu scrolls sideways
    } else link.removeAttribute("aria-current");
  }
  if (focus) node.querySelector("h1")?.focus({ preventScroll: false });
}

async function start() {
  try {
    state.me = await api("GET", "/api/me");
  } catch (error) {
    state.me = null;
    if (error.status !== 401) setTimeout(() => warn(error.message));
  }
  await render({ focus: false });
}

async function signOut() {
  const wasPupil = state.me?.role === "pupil";
  const joining = currentRoute().id === "join";
  try {
    await api("DELETE", "/api/session");
  } catch {
    // Signed out already, or the server is away: either way, forget who was here.
  }
  state.me = null;
  state.cache = {};
  if (joining) {
    state.join.step = "start";
    await render();
  } else {
    state.join = null;
    go(wasPupil ? "pupil" : "");
  }
  say("You are signed out.");
}

$("sign-out").addEventListener("click", signOut);

document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  $("main").focus();
});

// Following a #link and going back both fire popstate (and hashchange after it): render once.
window.addEventListener("popstate", () => render());
start();
