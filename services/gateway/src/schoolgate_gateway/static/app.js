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
      const answer = await api("POST", "/api/session", { email: email.value, password: password.value });
      if (answer.second_factor_required) {
        form.replaceWith(secondFactorForm(answer.challenge));
        return;
      }
      welcome(answer);
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

/** Signed in: to the first page, with a word about two-step sign-in where the school asks. */
function welcome(me) {
  signedIn(me);
  go("");
  if (me.second_factor === "asked") {
    setTimeout(() => say("Please turn on two-step sign-in under Your account: it keeps children's details safe if your password is ever guessed."));
  }
}

/** The second step of signing in: a code from the authenticator app, or a recovery code. */
function secondFactorForm(challenge) {
  const code = h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", required: true, minlength: 6, maxlength: 32 });
  const button = h("button", { type: "submit", text: "Sign in" });
  const form = h(
    "form",
    { class: "stack" },
    field("Code from your authenticator app", { control: code, hint: "Six digits. Lost your phone? Type one of your recovery codes instead." }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(button, "Checking…", async () => {
      welcome(await api("POST", "/api/session/second-factor", { challenge, code: code.value.trim() }));
    });
  });
  setTimeout(() => code.focus());
  return form;
}

const ACTIVITY_WORDS = {
  issued: "made an invite letter",
  printed: "opened the invite letter to print",
  revoked: "cancelled the invite",
  "redeemed-linked": "joined with the code",
  "redeemed-pending": "used the code; a leader decides",
  "request-approved": "approved a request to join",
  "request-rejected": "turned down a request to join",
  "linked-after-approval": "joined after a leader approved",
};

/** Leaders see every invite made, printed, cancelled and used, and who joined as a guardian. */
async function inviteActivityView() {
  const [activity, notices, pupils, staff] = await Promise.all([
    api("GET", consent("/invite-activity?limit=100")),
    api("GET", consent("/notices?limit=50")),
    schoolPupils(),
    api("GET", roster("/staff?include_left=true")).catch(() => []),
  ]);
  const child = Object.fromEntries(pupils.map((p) => [p.pupil_id, `${p.first_name} ${p.surname}`]));
  const staffName = Object.fromEntries(staff.map((m) => [m.staff_id, m.display_name]));
  const who = async (id) => staffName[id] || (await parentName(id));
  const when = (iso) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
  const joined = notices.items.length
    ? h("ul", { class: "cards" }, await Promise.all(notices.items.map(async (n) =>
        h("li", { text: `${when(n.at)}: ${await parentName(n.parent_id)} joined as a parent or carer of ${child[n.pupil_id] || "a pupil who has left"}${n.approved_by ? ", approved by a leader" : ""}.` }))))
    : h("p", { text: "Nobody has joined yet." });
  const rows = await Promise.all(activity.items.map(async (a) =>
    h("tr", null,
      h("td", { text: when(a.at) }),
      h("td", { text: child[a.pupil_id] || "a pupil who has left" }),
      h("td", { text: await who(a.by) }),
      h("td", { text: ACTIVITY_WORDS[a.kind] || a.kind }),
    )));
  return section(
    "Invites and new guardians",
    h("p", { text: "Every invite letter made, printed, cancelled and used, and everyone who joined as a parent or carer. The school's other leaders and each child's other parents or carers are told when someone joins." }),
    h("h2", { text: "Who joined" }),
    joined,
    h("h2", { text: "Invite letters" }),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", null,
          h("thead", null, h("tr", null, ["When", "Child", "Who", "What"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", null, rows)))
      : h("p", { text: "No invite letters yet." }),
  );
}

/** On a parent's account page: who else joined as a parent or carer of their children. */
async function familyNotices() {
  const notices = await api("GET", "/api/consent/parents/me/notices?limit=20").catch(() => ({ items: [] }));
  const names = Object.fromEntries((state.me?.children || []).map((c) => [c.pupil_id, c.name]));
  return [
    h("h2", { text: "Who else can see your children's news" }),
    notices.items.length
      ? h("ul", null, notices.items.map((n) =>
          h("li", { text: `${new Date(n.at).toLocaleDateString("en-GB", { dateStyle: "long" })}: another parent or carer joined for ${names[n.pupil_id] || "your child"}. If you do not know who this is, please tell the school office.` })))
      : h("p", { text: "Nobody else has joined for your children since you did." }),
  ];
}

/** Your account: sign out everywhere, and (staff) two-step sign-in. */
async function accountView() {
  const me = await api("GET", "/api/me");
  const everywhere = h("button", { type: "button", class: "secondary", text: "Sign out everywhere" });
  everywhere.addEventListener("click", () =>
    working(everywhere, "Signing out…", async () => {
      await api("POST", "/api/session/everywhere");
      state.me = null;
      state.cache = {};
      go("");
      say("You are signed out on every phone and computer.");
    }),
  );
  const parts = [
    h("h2", { text: "Signed in elsewhere?" }),
    h("p", { text: "If you signed in on a phone or computer you no longer have, sign out everywhere. You will need your password again here too." }),
    everywhere,
  ];
  if (me.role !== "parent") parts.unshift(...secondFactorSection(me));
  else parts.unshift(...(await familyNotices()));
  return section("Your account", ...parts);
}

function secondFactorSection(me) {
  const box = h("div", { class: "stack" });
  const code = () => h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", required: true, minlength: 6, maxlength: 32 });
  const showOn = () => {
    const input = code();
    const off = h("button", { type: "submit", class: "secondary", text: "Turn off two-step sign-in" });
    const form = h("form", { class: "stack" }, field("A code from your app, to turn it off", { control: input }), off);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      working(off, "Turning off…", async () => {
        await api("POST", "/api/me/second-factor/off", { code: input.value.trim() });
        fill(box, ...showOff());
        say("Two-step sign-in is off.");
      });
    });
    return [h("p", { text: "Two-step sign-in is on: signing in asks for a code from your phone." }), form];
  };
  const showOff = () => {
    const start = h("button", { type: "button", text: "Turn on two-step sign-in" });
    start.addEventListener("click", () =>
      working(start, "Preparing…", async () => {
        const begun = await api("POST", "/api/me/second-factor");
        const input = code();
        const confirm = h("button", { type: "submit", text: "Turn it on" });
        const form = h("form", { class: "stack" }, field("The code your app shows now", { control: input }), confirm);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          working(confirm, "Checking…", async () => {
            const done = await api("POST", "/api/me/second-factor/confirm", { code: input.value.trim() });
            fill(
              box,
              ...showOn(),
              h("h3", { text: "Your recovery codes" }),
              h("p", { text: "Keep these somewhere safe, away from your phone. Each works once, if you lose your phone. They are shown only now." }),
              h("ul", { class: "codes" }, done.recovery_codes.map((c) => h("li", { text: c }))),
            );
            say("Two-step sign-in is on.");
          });
        });
        fill(
          box,
          h("p", { text: "Scan this with an authenticator app on your phone (or type the key), then type the code it shows." }),
          svgImage(begun.qr_svg, "QR code for your authenticator app"),
          h("p", { text: `Key: ${begun.secret}` }),
          form,
        );
      }),
    );
    return [
      h("p", {
        text:
          me.second_factor === "asked"
            ? "Your school asks staff who see many children's details to sign in in two steps: your password, then a code from your phone."
            : "Signing in in two steps (your password, then a code from your phone) keeps children's details safe if your password is ever guessed.",
      }),
      start,
    ];
  };
  fill(box, ...(me.second_factor === "on" ? showOn() : showOff()));
  return [h("h2", { text: "Two-step sign-in" }), box];
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

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** The head teacher opens a new school with the one-time link the server printed. */
function openSchoolView(token) {
  const name = h("input", { type: "text", autocomplete: "organization", required: true, maxlength: 200 });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/London";
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [here];
  const timezone = h(
    "select",
    { required: true },
    [...new Set(["Europe/London", here, ...zones])].map((zone) => h("option", { value: zone, text: zone.replaceAll("_", " "), selected: zone === "Europe/London" })),
  );
  const starts = h("input", { type: "time", value: "08:00", required: true });
  const ends = h("input", { type: "time", value: "17:00", required: true });
  const days = WEEKDAYS.map((day, index) => checkbox(day, { value: String(index), checked: index < 5 }));
  const you = h("input", { type: "text", autocomplete: "name", required: true, maxlength: 100 });
  const email = h("input", { type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const password = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const again = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const button = h("button", { type: "submit", text: "Open our school" });
  const form = h(
    "form",
    { class: "stack" },
    h("h2", { text: "Your school" }),
    field("School name", { control: name, hint: "As families know it, e.g. Elm Road Primary School." }),
    field("Timezone", { control: timezone, hint: "Days, weeks and quiet hours are counted in it." }),
    h("fieldset", null, h("legend", { text: "School days" }), ...days),
    field("The school day starts at", { control: starts }),
    field("and ends at", { control: ends, hint: "Messages to staff wait outside these hours." }),
    h("h2", { text: "You, the head teacher" }),
    field("Your name", { control: you, hint: "As families and staff will see it, e.g. Mrs Okafor." }),
    field("Your email", { control: email }),
    field("Password", { control: password, hint: "At least 10 characters. A few words together are easy to remember." }),
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
    const workingDays = days.map((d) => d.querySelector("input")).filter((input) => input.checked).map((input) => Number(input.value));
    if (!workingDays.length) {
      warn("Please tick at least one school day.");
      return;
    }
    await working(button, "Opening your school…", async () => {
      const me = await api("POST", "/api/opening", {
        token,
        school: { name: name.value.trim(), timezone: timezone.value, working_days: workingDays, day_starts: starts.value, day_ends: ends.value },
        leader: { display_name: you.value.trim(), email: email.value.trim(), password: password.value },
      });
      signedIn(me);
      history.replaceState(null, "", "/");
      await render();
      say(`${me.school_name} is open. Welcome, ${me.display_name}.`);
    });
  });
  return section(
    "Open your school",
    h("p", { text: "Welcome to Schoolgate. Tell us about your school and make your own account: you will be its first leader, and can then invite your staff. This link works once." }),
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
          if (creating) {
            // The answer is the same whether or not the email had an account (so nobody
            // can learn who has one): signing in next tells us whether it worked.
            await api("POST", "/api/join/account", {
              display_name: name.value.trim(),
              email: email.value.trim(),
              password: password.value,
            });
          }
          me = await api("POST", "/api/session", { email: email.value.trim(), password: password.value });
        } catch (error) {
          if (creating && error.status === 401) {
            join.mode = "sign-in";
            show("start");
            warn("There may already be an account with this email. Please sign in instead.");
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

// -- roster import: upload, check (a dry run), confirm --------------------------------------

const IMPORT_DONE = new Set(["previewed", "done", "failed", "expired"]);
const SKIPPED_WORDS = {
  other_schools: (n) => `${countOf(n, "row")} of other schools ignored`,
  guardians: (n) => `${countOf(n, "guardian row")}: families join with invite letters`,
  deleted: (n) => `${countOf(n, "row")} marked as deleted in the file`,
  inactive: (n) => `${countOf(n, "row")} marked as inactive in the file`,
  lessons: (n) => `${countOf(n, "lesson class", "lesson classes")} ignored: pupils are placed in their form class`,
  other_roles: (n) => `${countOf(n, "row")} of other roles, such as administrators, ignored`,
  no_role: (n) => `${countOf(n, "person", "people")} with no role in the file ignored`,
};
const KEPT_WORDS = {
  requested_import: "you are doing this import",
  added_by_hand: "added by hand in Schoolgate, not from a file",
};

/** A problem's detail as a sentence of its own: a capital first, a full stop last. */
const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;

/** The job's problem slug: the last part of its problem type. */
const slugOf = (problem) => String(problem?.type || "").split("/").pop();

/** "12 pupils would join, 3 would move class, 11 pupils and 7 staff would leave". */
function importSummary(report, { would }) {
  const verb = (plain, past) => (would ? `would ${plain}` : past);
  const staff = report.staff || {};
  const parts = [];
  const joining = report.added ?? 0;
  const staffJoining = staff.added?.length ?? 0;
  if (joining || staffJoining) {
    const who = [joining ? countOf(joining, "pupil") : "", staffJoining ? `${staffJoining} staff` : ""];
    parts.push(`${listOf(who.filter(Boolean))} ${verb("join", "joined")}`);
  }
  // "12 pupils would join, 3 would move class": the pupils are named once
  if (report.moved) parts.push(`${joining ? report.moved : countOf(report.moved, "pupil")} ${verb("move class", "moved class")}`);
  const leaving = report.left ?? 0;
  const staffLeaving = staff.left?.length ?? 0;
  if (leaving || staffLeaving) {
    const who = [leaving ? countOf(leaving, "pupil") : "", staffLeaving ? `${staffLeaving} staff` : ""];
    parts.push(`${listOf(who.filter(Boolean))} ${verb("leave", "left")}`);
  }
  if (!parts.length) return would ? "Nothing would change." : "Nothing changed.";
  return sentence(parts.join(", "));
}

/** Rows of a roster file, each by its file and line, in a table named by `caption`. */
function fileLinesTable(caption, items, what) {
  const body = h("tbody");
  for (const item of items) {
    body.append(h("tr", null, h("td", { text: item.file || "" }), h("td", { text: String(item.line ?? "") }), h("td", { text: item.reason || item.message || "" })));
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("caption", { text: caption }),
      h("thead", null, h("tr", null, h("th", { scope: "col", text: "File" }), h("th", { scope: "col", text: "Line" }), h("th", { scope: "col", text: what }))),
      body,
    ),
  );
}

function warningsTable(report) {
  const warnings = report.warnings || [];
  if (!warnings.length) return null;
  const count = report.warnings_count ?? warnings.length;
  return [
    heading(3, "Lines to check in the file"),
    h("p", { text: count > warnings.length ? `The first ${warnings.length} of ${count} lines are listed. The rest of the file imports.` : "These lines were passed over or read with a guess. The rest of the file imports." }),
    fileLinesTable("Warnings", warnings, "What we found"),
  ];
}

async function importView() {
  const file = h("input", { type: "file", accept: ".csv,.zip,text/csv,application/zip", required: true });
  const full = checkbox("This file lists everyone at the school: anyone missing from it has left");
  const terms = checkbox("Use this file's term dates for the school (only if it is your school's own file)");
  const grades = radioGroup("Names for new year groups", uid("grades"), [
    ["uk", "UK: Reception, Year 1, Year 2…"],
    ["us", "US: Kindergarten, Grade 1, Grade 2…"],
  ]);
  const button = h("button", { type: "submit", text: "Upload and check" });
  const form = h(
    "form",
    { class: "stack" },
    field("Roster file", {
      control: file,
      hint: "A OneRoster zip from your school's information system, or a CSV file with one pupil a row and these columns: pupil_id, first_name, surname, year_group, class.",
    }),
    full,
    terms,
    grades,
    h("p", { class: "hint", text: "Year groups you already have keep their names. Nothing changes until you have seen what the import would do and said yes." }),
    button,
  );
  const progressArea = h("div", { class: "progress-area" });
  const result = h("div");
  // What the leader chose, kept for uploading the same file again with their school picked.
  let upload = null;

  function showProgress(job) {
    const id = "import-progress";
    const bar = h("progress", { id, max: Math.max(job.total, 1) });
    if (job.total > 0) bar.value = job.processed;
    const words = job.status === "applying" ? "Importing" : "Checking the file";
    fill(progressArea,
      h("label", { for: id, text: `${words}: ${job.processed} of ${job.total} rows` }),
      bar,
    );
  }

  async function follow(job) {
    showProgress(job);
    const stop = job.status === "applying" ? new Set(["done", "failed", "expired"]) : IMPORT_DONE;
    while (!stop.has(job.status)) {
      await sleep(400);
      job = await api("GET", roster(`/imports/${encodeURIComponent(job.import_id)}`));
      showProgress(job);
    }
    progressArea.replaceChildren();
    return job;
  }

  async function check(org) {
    const params = new URLSearchParams({
      full: String(upload.wholeSchool),
      grade_names: upload.gradeNames,
      replace_terms: String(upload.replaceTerms),
    });
    if (org) params.set("org", org);
    const job = await api("POST", roster(`/imports?${params}`), upload.file, { contentType: upload.contentType });
    say("Uploaded. Checking the file now.");
    await show(await follow(job));
  }

  async function show(job) {
    if (job.status === "failed") return showProblem(job.problem || {});
    if (job.status === "previewed") return showPreview(job);
    if (job.status === "expired") {
      fill(result, heading(2, "Nothing was imported"), h("p", { text: "This check is more than a day old, so it was not imported. Upload the file again to check it as it is now." }));
      result.querySelector("h2").focus();
      warn("Nothing was imported: upload the file again.");
      return undefined;
    }
    return showDone(job);
  }

  function schoolChoice(problem, intro) {
    const schools = problem.schools || [];
    const name = uid("school");
    const choice = h("fieldset", { class: "stack" }, h("legend", { text: "Which of these is your school?" }));
    schools.forEach((s, i) => {
      const id = uid(name);
      choice.append(h("div", { class: "way" }, h("input", { type: "radio", name, id, value: s.source_id, checked: i === 0 }), h("label", { for: id, text: s.name || s.source_id })));
    });
    const pick = h("button", { type: "submit", text: "Check my school's rows" });
    const picker = h("form", { class: "stack" }, choice, pick);
    picker.addEventListener("submit", (event) => {
      event.preventDefault();
      const org = picker.querySelector("input:checked")?.value;
      if (!org) return;
      working(pick, "Checking…", () => check(org));
    });
    fill(result, heading(2, "Choose your school"), h("p", { text: intro }), schools.length ? picker : null);
    result.querySelector("h2").focus();
  }

  function showProblem(problem) {
    const slug = slugOf(problem);
    if (slug === "choose-school") {
      schoolChoice(problem, `This file lists ${countOf((problem.schools || []).length, "school")}. Nothing has changed yet: choose yours and only its rows are checked.`);
      say("This file lists several schools. Choose yours.");
      return;
    }
    if (slug === "wrong-school") {
      schoolChoice(problem, `${sentence(problem.detail || "This file is for another school")} Nothing was imported. If the file does list your school, choose it below.`);
      warn("This file does not look like your school's, so nothing was imported.");
      return;
    }
    const errors = problem.errors || [];
    fill(result,
      heading(2, "Nothing was imported"),
      h("p", { text: problem.detail || problem.title || "The file could not be imported." }),
      errors.length ? fileLinesTable("Problems in the file", errors, "Problem") : null,
      h("p", { text: "Fix these lines in the file and upload it again." }),
    );
    result.querySelector("h2").focus();
    warn("The roster file has problems, so nothing was imported.");
  }

  /** Names for the source ids a report lists, from the school's own records. */
  async function namesBySource() {
    const [pupils, staff] = await Promise.all([
      schoolPupils().catch(() => []),
      api("GET", roster("/staff")).catch(() => []),
    ]);
    const pupilNames = new Map(pupils.filter((p) => p.source_id).map((p) => [p.source_id, `${p.first_name} ${p.surname}`]));
    const staffNames = new Map(staff.filter((s) => s.source_id).map((s) => [s.source_id, s.display_name]));
    const staffById = new Map(staff.map((s) => [s.staff_id, s.display_name]));
    return { pupilNames, staffNames, staffById };
  }

  async function showPreview(job) {
    const report = job.report || {};
    const staff = report.staff || {};
    const leavers = report.pupils?.left || [];
    const staffLeavers = staff.left || [];
    const names = await namesBySource();
    const named = (ids, map) => ids.map((id) => h("li", { text: map.get(id) ? `${map.get(id)} (${id})` : id }));
    const summary = importSummary(report, { would: true });
    const fileSchool = report.school?.name;

    const leaving = leavers.length || staffLeavers.length
      ? h(
          "div",
          { class: "notice", role: "group", "aria-labelledby": "import-leavers" },
          h("h3", { id: "import-leavers", tabindex: "-1", text: `${listOf([leavers.length ? countOf(leavers.length, "pupil") : "", staffLeavers.length ? `${staffLeavers.length} staff` : ""].filter(Boolean))} would be marked as left` }),
          h("p", { class: "notice-text", text: "They are not in this file. Once marked as left they can no longer be given points, and staff can no longer sign in." }),
          leavers.length ? [h("p", { text: "Pupils:" }), h("ul", null, named(leavers, names.pupilNames))] : null,
          staffLeavers.length ? [h("p", { text: "Staff:" }), h("ul", null, named(staffLeavers, names.staffNames))] : null,
        )
      : null;

    const kept = report.kept || [];
    const keptList = kept.length
      ? [
          heading(3, "Staff this import leaves in place"),
          h("p", { text: "They are not in the file, but the import does not mark them as left:" }),
          h("ul", null, kept.map((k) => {
            const name = names.staffNames.get(k.source_id) || names.staffById.get(k.staff_id) || k.display_name || k.source_id || "A member of staff";
            return h("li", { text: `${name}: ${KEPT_WORDS[k.reason] || k.reason}` });
          })),
        ]
      : null;

    const skipped = Object.entries(report.skipped || {}).filter(([, n]) => n > 0);
    const skippedList = skipped.length
      ? [
          heading(3, "Rows passed over"),
          h("ul", null, skipped.map(([why, n]) => h("li", { text: (SKIPPED_WORDS[why] || ((m) => `${countOf(m, "row")} passed over: ${why.replace(/_/g, " ")}`))(n) }))),
        ]
      : null;

    const apply = h("button", { type: "button", text: "Import these changes" });
    const cancel = h("button", { type: "button", class: "secondary", text: "Cancel" });
    apply.addEventListener("click", () => {
      working(apply, "Importing…", async () => {
        cancel.disabled = true;
        const started = await api("POST", roster(`/imports/${encodeURIComponent(job.import_id)}/apply`));
        say("Importing the changes now.");
        await show(await follow(started));
      }).finally(() => {
        if (cancel.isConnected) cancel.disabled = false;
      });
    });
    cancel.addEventListener("click", () => {
      result.replaceChildren();
      file.focus();
      say("Cancelled. Nothing was imported.");
    });

    fill(result,
      heading(2, "Check before importing"),
      fileSchool ? h("p", { text: `The file's school: ${fileSchool}.` }) : null,
      h("p", { class: "import-summary", text: summary }),
      report.school?.details_changed ? h("p", { text: "The school's term dates would become the file's." }) : null,
      job.full ? h("p", { text: "You said this file lists everyone at the school." }) : h("p", { text: "Pupils and staff who are not in this file stay as they are." }),
      leaving,
      keptList,
      skippedList,
      warningsTable(report),
      h("p", { text: "Nothing has changed yet." }),
      h("div", { class: "row" }, apply, cancel),
    );
    result.querySelector("h2").focus();
    say(`Checked. ${summary} Nothing has changed yet.`);
  }

  function showDone(job) {
    const report = job.report || {};
    delete state.cache.pupils;
    delete state.cache.classes;
    delete state.cache["year-groups"];
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
      report.already_applied ? h("p", { text: "This file had already been imported, so nothing changed." }) : h("p", { text: importSummary(report, { would: false }) }),
      table,
      staffLine ? h("p", { text: `Staff: ${staffLine}.` }) : null,
      warningsTable(report),
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
    upload = {
      file: chosen,
      contentType: isZip ? "application/zip" : "text/csv",
      wholeSchool: full.querySelector("input").checked,
      replaceTerms: terms.querySelector("input").checked,
      gradeNames: grades.querySelector("input:checked")?.value || "uk",
    };
    result.replaceChildren();
    working(button, "Checking…", () => check(null)).finally(() => {
      if (!result.children.length) progressArea.replaceChildren();
    });
  });
  return section(
    "Import pupils",
    h("p", { text: "Bring your pupils, classes and staff in from a file. You see what it would change before anything changes." }),
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
          text:
            request.because === "staff_account"
              ? `Someone asked to join as a parent or carer of ${name} on ${longDate(request.since)}, with an account whose email belongs to a member of staff, so a leader decides. Please check with the family before you approve.`
              : `A parent or carer asked to join on ${longDate(request.since)}. ${name} already has two parents or carers on Schoolgate, so a leader decides.`,
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

// -- stories, portfolios and home learning -------------------------------------------------

/** The stories service behind the gateway; a parent's children may be at other schools. */
const storiesApi = (path, schoolId = state.me.school_id) =>
  `/api/stories/schools/${encodeURIComponent(schoolId)}${path}`;
const mediaUrl = (mediaId, size, schoolId) =>
  storiesApi(`/media/${encodeURIComponent(mediaId)}?size=${size}`, schoolId);

/** Where an attachment's bytes are: the service names its own paths, the browser asks the gateway. */
function mediaSrc(a, size, schoolId) {
  const given = size === "thumb" ? a.thumb_url || a.url : a.url;
  if (given && given.startsWith("/api/")) return given;
  if (a.media_id) return mediaUrl(a.media_id, size === "thumb" && a.kind === "image" ? "thumb" : "full", schoolId);
  if (given && given.startsWith("/schools/")) return `/api/stories${given}`;
  return given || "";
}
const yearGroupsList = () => cached("year-groups", () => api("GET", roster("/year-groups")));
/** Services answer with a uuid's 32 hex digits; we send it with dashes. */
const sameId = (a, b) => String(a).replace(/-/g, "") === String(b).replace(/-/g, "");
const countOf = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const MEDIA_WORD = { image: "photo", video: "video", document: "PDF" };

/** A list from an answer that is either a list or an object holding one under one of `keys`. */
function listIn(answer, ...keys) {
  if (Array.isArray(answer)) return answer;
  for (const key of [...keys, "items"]) if (Array.isArray(answer?.[key])) return answer[key];
  return [];
}

function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString("en-GB", { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

/** An ISO time as the value a datetime-local input shows (the browser's own time). */
function localInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${isoDay(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function paragraphs(text, cls = "story-text") {
  if (!text) return null;
  const box = h("div", { class: cls });
  for (const part of String(text).split(/\n\s*\n/)) box.append(h("p", { text: part }));
  return box;
}

function mediaKindOf(file) {
  if (file.type.startsWith("video/")) return "video";
  if (file.type === "application/pdf" || /\.pdf$/i.test(file.name)) return "document";
  return "image";
}

/** Send one file to the stories service, telling `onProgress` how much has gone (0 to 1). */
function uploadMedia(file, onProgress, schoolId) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", storiesApi("/media", schoolId));
    xhr.setRequestHeader("accept", "application/json");
    xhr.setRequestHeader("content-type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data || {});
      else reject(new ApiError(data || {}, xhr.status));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError({ detail: "We could not reach Schoolgate. Check your internet connection and try again." }, 0)),
    );
    xhr.send(file);
  });
}

/** Photos, videos and PDFs to look at: small pictures for staff, bigger ones for families. */
function gallery(attachments, { schoolId, size = "thumb" } = {}) {
  const items = (attachments || []).filter((a) => a && (a.media_id || a.url));
  if (!items.length) return null;
  const list = h("ul", { class: `gallery ${size}` });
  for (const a of items) {
    const kind = a.kind || "image";
    const full = mediaSrc(a, "full", schoolId);
    const small = mediaSrc(a, "thumb", schoolId);
    const alt = a.alt_text || (kind === "image" ? "A photo from school" : "");
    let node;
    if (kind === "video") {
      node = h("video", { src: full, controls: true, preload: "metadata", playsinline: true, "aria-label": alt || "A video from school" });
    } else if (kind === "document") {
      node = h("a", { class: "file-link", href: full, target: "_blank", rel: "noopener", text: `Open the PDF${alt ? `: ${alt}` : ""} (opens in a new tab)` });
    } else {
      node = h("img", { src: size === "thumb" ? small : full, alt, loading: "lazy", decoding: "async" });
    }
    const hidden = a.hidden ? h("p", { class: "hidden-note", text: "Families do not see this: a child in it has no photo consent." }) : null;
    list.append(h("li", { class: hidden ? "hidden-media" : null }, node, hidden));
  }
  return list;
}

/**
 * The files on a story or a piece of work. Each file is sent as soon as it is chosen, with a
 * progress bar; then it shows a preview, a box to describe it for people who cannot see it
 * and, when `tagging`, which pupils are in it.
 */
function attachmentsEditor({ initial = [], tagging = true, label, hint, accept, multiple = true, schoolId } = {}) {
  const entries = [];
  let pupils = [];
  let counter = 0;
  const list = h("ul", { class: "attachments" });
  const input = h("input", { type: "file", accept: accept || "image/*,video/*,application/pdf,.pdf", multiple });
  const picker = field(label || "Add photos, a short video or a PDF", {
    control: input,
    hint: hint || "Photos are made smaller and their hidden details, such as where they were taken, are removed.",
  });
  input.addEventListener("change", () => {
    for (const file of [...input.files]) addFile(file);
    input.value = "";
  });

  function tagsFor(entry) {
    if (!tagging || entry.kind === "document") return null;
    const word = `${MEDIA_WORD[entry.kind]} ${entry.n}`;
    const known = new Set(pupils.map((p) => p.pupil_id));
    const everyone = [...pupils, ...[...entry.tags].filter((id) => !known.has(id)).map((id) => ({ pupil_id: id, name: id }))];
    const set = h("fieldset", { class: "tags" }, h("legend", { text: `Who is in ${word}?` }));
    if (!everyone.length) set.append(h("p", { class: "hint", text: "Choose who will see the story first." }));
    for (const pupil of everyone) {
      set.append(
        checkbox(pupil.name, {
          value: pupil.pupil_id,
          checked: entry.tags.has(pupil.pupil_id),
          onchange: (event) => {
            if (event.currentTarget.checked) entry.tags.add(pupil.pupil_id);
            else entry.tags.delete(pupil.pupil_id);
          },
        }),
      );
    }
    return set;
  }

  function draw(entry) {
    const word = `${MEDIA_WORD[entry.kind]} ${entry.n}`;
    let preview;
    if (entry.kind === "image" && (entry.preview || entry.media_id)) {
      preview = h("img", { src: entry.preview || mediaUrl(entry.media_id, "thumb", schoolId), alt: `Preview of ${word}` });
    } else {
      preview = h("span", { class: "file-badge", "aria-hidden": "true", text: entry.kind === "video" ? "▶" : "PDF" });
    }
    const parts = [h("p", { class: "attachment-name", text: entry.file ? `${word[0].toUpperCase()}${word.slice(1)}: ${entry.file.name}` : `${word[0].toUpperCase()}${word.slice(1)}` })];
    if (entry.status === "uploading") {
      const id = uid("upload");
      entry.bar = h("progress", { id, max: 100, value: Math.round(entry.progress * 100) });
      entry.barLabel = h("label", { for: id, text: `Sending ${word}: ${Math.round(entry.progress * 100)}%` });
      parts.push(h("div", { class: "progress-area" }, entry.barLabel, entry.bar));
    } else if (entry.status === "failed") {
      parts.push(h("p", { class: "notice-text", text: `${word[0].toUpperCase()}${word.slice(1)} was not added. ${entry.error}` }));
    } else {
      const alt = h("textarea", { rows: 2, maxlength: 500, value: entry.alt });
      alt.addEventListener("input", () => {
        entry.alt = alt.value;
      });
      parts.push(
        field(`Describe ${word}`, {
          control: alt,
          hint: entry.kind === "document" ? "What is in it, for example “Letter about the school trip”." : "For people who cannot see it, for example “Children planting seeds in the garden”.",
        }),
        tagsFor(entry),
      );
    }
    parts.push(
      h("button", {
        type: "button",
        class: "secondary small",
        text: "Remove",
        "aria-label": `Remove ${word}`,
        onclick: () => remove(entry),
      }),
    );
    fill(entry.node, h("div", { class: "attachment-preview" }, preview), h("div", { class: "attachment-body" }, ...parts));
  }

  function remove(entry) {
    entries.splice(entries.indexOf(entry), 1);
    entry.node.remove();
    if (entry.preview) URL.revokeObjectURL(entry.preview);
    say(`${MEDIA_WORD[entry.kind]} ${entry.n} removed.`);
    input.focus();
  }

  function make(values) {
    const entry = { n: ++counter, alt: "", tags: new Set(), status: "ready", progress: 0, node: h("li", { class: "attachment" }), ...values };
    entries.push(entry);
    list.append(entry.node);
    draw(entry);
    return entry;
  }

  async function addFile(file) {
    const kind = mediaKindOf(file);
    const entry = make({
      file,
      kind,
      status: "uploading",
      preview: kind === "image" && file.type.startsWith("image/") ? URL.createObjectURL(file) : null,
    });
    say(`Sending ${MEDIA_WORD[kind]} ${entry.n}…`);
    let lastShown = -1;
    try {
      const stored = await uploadMedia(
        file,
        (share) => {
          entry.progress = share;
          const percent = Math.round(share * 100);
          if (entry.bar && percent !== lastShown) {
            lastShown = percent;
            entry.bar.value = percent;
            entry.barLabel.textContent = `Sending ${MEDIA_WORD[entry.kind]} ${entry.n}: ${percent}%`;
          }
        },
        schoolId,
      );
      entry.media_id = stored.media_id;
      entry.kind = stored.kind || kind;
      entry.status = "ready";
      draw(entry);
      say(`${MEDIA_WORD[entry.kind][0].toUpperCase()}${MEDIA_WORD[entry.kind].slice(1)} ${entry.n} is ready. Describe it below.`);
    } catch (error) {
      if (error.status === 401) {
        failed(error);
        return;
      }
      entry.status = "failed";
      entry.error = error.message;
      draw(entry);
      warn(`${file.name} was not added. ${error.message}`);
    }
  }

  const keep = (list) => {
    for (const a of list) {
      make({ media_id: a.media_id, kind: a.kind || "image", alt: a.alt_text || "", tags: new Set(a.tagged_pupil_ids || []) });
    }
  };
  keep(initial);

  return {
    node: h("div", { class: "attachments-editor" }, picker, list),
    input,
    addFile,
    busy: () => entries.some((e) => e.status === "uploading"),
    values: () =>
      entries
        .filter((e) => e.status === "ready" && e.media_id)
        .map((e) => ({ media_id: e.media_id, kind: e.kind, alt_text: e.alt.trim(), tagged_pupil_ids: tagging ? [...e.tags] : [] })),
    setPupils(list) {
      pupils = list;
      const allowed = new Set(list.map((p) => p.pupil_id));
      for (const entry of entries) {
        for (const id of [...entry.tags]) if (!allowed.has(id)) entry.tags.delete(id);
        if (entry.status === "ready") draw(entry);
      }
    },
    clear() {
      for (const entry of entries) if (entry.preview) URL.revokeObjectURL(entry.preview);
      entries.length = 0;
      list.replaceChildren();
    },
    /** Start again from files already sent, such as those of work handed back. */
    reset(attachments) {
      this.clear();
      keep(attachments || []);
    },
  };
}

/** The pupils a story's audience includes, by the names their classes know them by. */
async function audiencePupils(audience) {
  if (!audience) return [];
  let found;
  if (audience.kind === "classes") {
    found = (
      await Promise.all(
        (audience.class_ids || []).map((c) =>
          cached(`class-pupils-${c}`, () => api("GET", roster(`/classes/${encodeURIComponent(c)}/pupils`))),
        ),
      )
    ).flat();
  } else if (audience.kind === "year_group") {
    const y = audience.year_group_id;
    found = await cached(`year-pupils-${y}`, () => api("GET", roster(`/pupils?year_group_id=${encodeURIComponent(y)}`)));
  } else {
    found = await cached("pupils", () => api("GET", roster("/pupils")));
  }
  return found
    .map((p) => ({ pupil_id: p.pupil_id, name: p.display_name || p.first_name || p.pupil_id }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Words for who a story is for: "Class Oak", "Classes Oak and Willow", "Year 3". */
function audienceLabel(audience, { classes = [], years = [] } = {}) {
  if (!audience) return "Story";
  const className = (id) => classes.find((c) => c.class_id === id)?.name || state.me?.classes?.[id] || id;
  if (audience.kind === "school") return "The whole school";
  if (audience.kind === "year_group") {
    return years.find((y) => y.year_group_id === audience.year_group_id)?.name || audience.year_group_id || "A year group";
  }
  const names = (audience.class_ids || []).map(className);
  return `${names.length === 1 ? "Class" : "Classes"} ${listOf(names)}`;
}

/** "Publish later": a tick box that shows a date and time. */
function publishLater(current) {
  const scheduled = current && new Date(current) > new Date();
  const at = h("input", { type: "datetime-local", value: scheduled ? localInput(current) : "" });
  const atField = field("Show it to families from", { control: at, hint: "Families will not see it before then." });
  atField.hidden = !scheduled;
  const later = checkbox("Publish later", {
    checked: scheduled,
    onchange: (event) => {
      atField.hidden = !event.currentTarget.checked;
      if (event.currentTarget.checked) at.focus();
    },
  });
  const box = later.querySelector("input");
  return {
    node: h("div", { class: "stack" }, later, atField),
    /** The ISO time to show it from, null for now; throws a plain reason when it is not right. */
    value() {
      if (!box.checked) return null;
      const chosen = at.value ? new Date(at.value) : null;
      if (!chosen || Number.isNaN(chosen.getTime())) throw new Error("Choose the day and time families should see it.");
      if (chosen <= new Date()) throw new Error("Choose a time in the future, or untick “Publish later”.");
      return chosen.toISOString();
    },
    focus: () => (box.checked ? at : box).focus(),
    reset() {
      box.checked = false;
      at.value = "";
      atField.hidden = true;
    },
  };
}

/** Say plainly why a story was refused, beside the button that was pressed. */
function refusal(box, title, error) {
  const next =
    error.slug === "no-media-consent"
      ? "Untick those children, or remove the photo they are in, then try again."
      : null;
  fill(box, h("div", { class: "notice" }, heading(2, title), h("p", { text: error.message }), next ? h("p", { text: next }) : null));
  warn(error.message);
}

/** Who may see a new story: some of my classes, a year group, or (leaders) the whole school. */
function audienceChooser({ classes, years, wholeSchool, onChange }) {
  const name = uid("audience");
  const options = h("div", { class: "audience-options" });
  const changed = () => onChange(value());
  const choice = (kind, label, checked) => {
    const id = uid("audience");
    return h("div", { class: "way" }, h("input", { type: "radio", name, id, value: kind, checked, onchange: () => show() }), h("label", { for: id, text: label }));
  };
  const classBoxes = classes.map((c, i) => checkbox(c.name, { value: c.class_id, checked: i === 0, onchange: changed }));
  const classSet = classes.length > 1 ? h("fieldset", { class: "sub-choice" }, h("legend", { text: "Which classes?" }), ...classBoxes) : null;
  const yearSelect = h("select", { onchange: changed });
  for (const y of years) yearSelect.append(h("option", { value: y.year_group_id, text: y.name }));
  const yearField = field("Year group", { control: yearSelect });
  yearField.classList.add("sub-choice");
  const classLabel = classes.length === 1 ? `My class, ${classes[0].name}` : wholeSchool ? "One or more classes" : "One or more of my classes";
  options.append(choice("classes", classLabel, true));
  if (classSet) options.append(classSet);
  if (years.length) options.append(choice("year_group", "A year group", false), yearField);
  if (wholeSchool) options.append(choice("school", "The whole school", false));
  const set = h("fieldset", { class: "audience" }, h("legend", { text: "Who will see it?" }), options);

  function kind() {
    return set.querySelector(`input[name="${name}"]:checked`)?.value || "classes";
  }
  function show() {
    if (classSet) classSet.hidden = kind() !== "classes";
    yearField.hidden = kind() !== "year_group";
    changed();
  }
  function value() {
    const k = kind();
    if (k === "year_group") return { kind: k, class_ids: [], year_group_id: yearSelect.value };
    if (k === "school") return { kind: k, class_ids: [], year_group_id: null };
    const ids = classes.length === 1 ? [classes[0].class_id] : classBoxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    return { kind: k, class_ids: ids, year_group_id: null };
  }
  setTimeout(show);
  return { node: set, value, focus: () => set.querySelector("input")?.focus() };
}

async function composeView() {
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

const guardiansOf = (pupilId) =>
  cached(`guardians-${pupilId}`, () =>
    api("GET", consent(`/pupils/${encodeURIComponent(pupilId)}/consent`)).then((info) => info.guardians.map((g) => g.parent_id)),
  );

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

async function storiesView() {
  const [classes, years] = await Promise.all([schoolClasses(), yearGroupsList().catch(() => [])]);
  const names = { classes, years };
  const select = h("select");
  for (const [id, name] of Object.entries(state.me.classes || {})) select.append(h("option", { value: id, text: `Class ${name}` }));
  if (!select.options.length) {
    return section("Our stories", h("p", { text: "You do not have a class yet." }));
  }
  const list = h("ul", { class: "stories" });
  const refresh = h("button", { type: "button", class: "secondary", text: "Check again" });

  async function load() {
    // who is whose parent may have changed since the page was opened
    for (const key of Object.keys(state.cache)) if (key.startsWith("guardians-")) delete state.cache[key];
    const posts = listIn(await api("GET", storiesApi(`/posts?class_id=${encodeURIComponent(select.value)}`)), "posts");
    const time = (p) => new Date(p.visible_from || p.published_at || 0).getTime();
    posts.sort((a, b) => time(b) - time(a));
    const empty = () => h("li", { class: "muted", text: "No stories yet. Post one from “Post a story”." });
    fill(list, ...posts.map((post) => staffStoryCard(post, names, { removed: () => list.children.length || list.append(empty()) })));
    if (!posts.length) list.append(empty());
  }

  select.addEventListener("change", () => load().catch(failed));
  refresh.addEventListener("click", () =>
    working(refresh, "Checking…", async () => {
      await load();
      say("Updated just now.");
    }),
  );
  await load();
  return section(
    "Our stories",
    h("p", { text: "Stories for a class, including those to its year group and the whole school, newest first, with who liked them." }),
    select.options.length > 1 ? field("Show stories for", { control: select }) : null,
    h("p", null, h("a", { href: "#post", class: "button-link", text: "Post a story" })),
    refresh,
    list,
  );
}

// -- the family's news feed --------------------------------------------------------------------

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

const commentsOn = (schoolId) =>
  cached(`comments-on-${schoolId}`, () => api("GET", storiesApi("/settings", schoolId)).then((s) => Boolean(s?.comments_enabled)));

/**
 * A post's comments, where the school turned them on: families and staff who can see the post
 * read them and add their own.
 */
function commentsArea(postId, schoolId) {
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

async function newsView() {
  const list = h("ul", { class: "feed" });
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const refresh = h("button", { type: "button", class: "secondary", text: "Check for news" });
  let next = null;

  async function page(cursor) {
    const query = new URLSearchParams({ limit: "20" });
    if (cursor) query.set("before", cursor);
    const answer = await api("GET", `/api/feed?${query}`);
    next = answer?.next || null;
    more.hidden = !next;
    return listIn(answer, "items").map(feedCard);
  }

  async function load() {
    const cards = await page(null);
    fill(list, ...cards);
    if (!cards.length) list.append(h("li", { class: "muted", text: "No news yet. Stories from school and your child's work will appear here." }));
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

// -- pupils' work and home learning -------------------------------------------------------------

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
async function workView() {
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
    if (!items.length) mine.append(h("li", { class: "muted", text: "Nothing yet. Send your first piece of work!" }));
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

/** The pupils of a class by the names the class knows them by. */
async function classPupilNames(classId) {
  const pupils = await cached(`class-pupils-${classId}`, () => api("GET", roster(`/classes/${encodeURIComponent(classId)}/pupils`)));
  return Object.fromEntries(pupils.map((p) => [p.pupil_id, p.display_name || p.first_name]));
}

async function approveView() {
  const { control, select } = classSelect(() => load().catch(failed));
  if (!select.options.length) return section("Approve work", h("p", { text: "You do not have a class yet." }));
  const list = h("ul", { class: "cards queue" });
  const refresh = h("button", { type: "button", class: "secondary", text: "Check again" });

  async function load() {
    const classId = select.value;
    const [answer, names, tasks] = await Promise.all([
      api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/portfolio/queue`)),
      classPupilNames(classId).catch(() => ({})),
      api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/home-learning`)).catch(() => []),
    ]);
    const taskNames = Object.fromEntries(listIn(tasks, "tasks").map((t) => [t.task_id, t.title]));
    const items = listIn(answer, "items");
    const empty = () => h("li", { class: "muted", text: "Nothing is waiting. Well done!" });
    fill(list, ...items.map((item) => queueCard(item, names[item.pupil_id] || item.pupil_name || item.pupil_id, taskNames, () => list.children.length || list.append(empty()))));
    if (!items.length) list.append(empty());
  }

  function queueCard(item, name, taskNames, gone) {
    const titleId = uid("queue");
    const note = h("textarea", { rows: 2, maxlength: 1000 });
    const approve = h("button", { type: "submit", value: "approve", text: "Approve" });
    const back = h("button", { type: "submit", value: "back", class: "secondary", text: "Send back" });
    const form = h(
      "form",
      { class: "stack" },
      field(`Note for ${name}`, { control: note, hint: "Needed only when you send it back: say what to change." }),
      h("div", { class: "row" }, approve, back),
    );
    const node = h(
      "li",
      null,
      h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h2", { id: titleId, text: `${name}'s work` }),
        item.task_id ? h("p", { class: "about", text: `Home learning: ${taskNames[item.task_id] || item.task_title || "a task"}` }) : null,
        paragraphs(item.text),
        gallery(item.attachments),
        form,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const sendBack = event.submitter?.value === "back";
      const path = storiesApi(`/portfolio/${encodeURIComponent(item.item_id)}/${sendBack ? "send-back" : "approve"}`);
      if (sendBack && !note.value.trim()) {
        warn(`Write a note for ${name} first, so they know what to change.`);
        note.focus();
        return;
      }
      working(sendBack ? back : approve, "Saving…", async () => {
        await api("POST", path, sendBack ? { note: note.value.trim() } : {});
        node.remove();
        gone();
        list.closest("section")?.querySelector("h1")?.focus();
        say(sendBack ? `Sent back to ${name} with your note.` : `Approved. ${name}'s family can see it now.`);
      });
    });
    return node;
  }

  refresh.addEventListener("click", () =>
    working(refresh, "Checking…", async () => {
      await load();
      say("Updated just now.");
    }),
  );
  await load();
  return section(
    "Approve work",
    h("p", { text: "Work your pupils sent. Families see it only once you approve it." }),
    control,
    refresh,
    list,
  );
}

const SUBMISSION_WORDS = {
  waiting: "Handed in: waiting for you",
  submitted: "Handed in: waiting for you",
  pending: "Handed in: waiting for you",
  approved: "Handed in and approved",
  sent_back: "Sent back to change",
  not_yet: "Not yet",
  missing: "Not yet",
  not_submitted: "Not yet",
  none: "Not yet",
};

async function homeLearningView() {
  const { control, select } = classSelect(() => load().catch(failed));
  if (!select.options.length) return section("Home learning", h("p", { text: "You do not have a class yet." }));
  const title = h("input", { type: "text", required: true, maxlength: 200 });
  const instructions = h("textarea", { rows: 4, maxlength: 5000 });
  const due = h("input", { type: "date" });
  const set = h("button", { type: "submit", text: "Set home learning" });
  const form = h(
    "form",
    { class: "stack" },
    heading(2, "Set a task"),
    field("Title", { control: title, hint: "For example “Draw your favourite animal”." }),
    field("What to do", { control: instructions }),
    field("Hand in by", { control: due }),
    set,
  );
  const list = h("ul", { class: "cards tasks-list" });
  let taskId = newId();

  async function load(done) {
    const classId = select.value;
    const tasks = listIn(await readUntil(() => api("GET", storiesApi(`/classes/${encodeURIComponent(classId)}/home-learning`)), done), "tasks");
    fill(list, ...tasks.map((t) => taskCard(t, classId)));
    if (!tasks.length) list.append(h("li", { class: "muted", text: "No home learning set yet." }));
  }

  function taskCard(task, classId) {
    const titleId = uid("task");
    const who = h("div");
    const check = h("button", { type: "button", class: "secondary", text: "Who has handed it in?", "aria-describedby": titleId });
    check.addEventListener("click", () =>
      working(check, "Checking…", async () => {
        const [answer, names] = await Promise.all([
          api("GET", storiesApi(`/home-learning/${encodeURIComponent(task.task_id)}/submissions`)),
          classPupilNames(classId).catch(() => ({})),
        ]);
        const rows = listIn(answer, "pupils", "submissions");
        const status = (r) => r.status || (r.submitted || r.item_id ? "submitted" : "missing");
        const handed = rows.filter((r) => !["not_yet", "missing", "not_submitted", "none"].includes(status(r))).length;
        fill(who,
          h("p", { text: `${handed} of ${rows.length} handed in.` }),
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              null,
              h("caption", { text: `Who has handed in “${task.title}”` }),
              h("thead", null, h("tr", null, h("th", { scope: "col", text: "Pupil" }), h("th", { scope: "col", text: "Handed in?" }))),
              h("tbody", null, ...rows.map((r) => h("tr", null, h("th", { scope: "row", text: r.name || r.display_name || names[r.pupil_id] || r.pupil_id }), h("td", { text: SUBMISSION_WORDS[status(r)] || status(r) })))),
            ),
          ),
        );
        say(`${handed} of ${rows.length} handed in.`);
      }),
    );
    return h(
      "li",
      null,
      h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h3", { id: titleId, text: task.title }),
        task.due_on ? h("p", { class: "muted", text: `Hand in by ${shortDay(task.due_on)}` }) : null,
        paragraphs(task.instructions, "instructions"),
        check,
        who,
      ),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sent = taskId;
    const name = title.value.trim();
    if (!name) {
      warn("Give the task a title.");
      title.focus();
      return;
    }
    working(set, "Saving…", async () => {
      await api("POST", storiesApi("/home-learning"), {
        task_id: sent,
        class_id: select.value,
        title: name,
        instructions: instructions.value.trim(),
        ...(due.value ? { due_on: due.value } : {}),
      });
      taskId = newId();
      title.value = "";
      instructions.value = "";
      due.value = "";
      await load((answer) => listIn(answer, "tasks").some((t) => sameId(t.task_id, sent)));
      say(`Home learning set: ${name}. Your pupils see it on their “My work” page.`);
    });
  });
  await load();
  return section(
    "Home learning",
    h("p", { text: "Set a task for a class. Pupils hand in their work from their “My work” page, and you can see who has." }),
    control,
    form,
    h("h2", { text: "Tasks set" }),
    list,
  );
}

async function storySettingsView() {
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

// -- pages and routes -------------------------------------------------------------------------

const STAFF_PAGES = [
  { id: "home", title: "Home", roles: ["leader", "office", "school_admin"], build: staffHomeView },
  { id: "award", title: "Award points", roles: CLASSROOM, build: awardView, about: "Give points for the school's values to a child, a group or the whole class." },
  { id: "post", title: "Post a story", roles: CLASSROOM, build: composeView, about: "Share news with photos to your class, a year group or the whole school." },
  { id: "stories", title: "Our stories", roles: CLASSROOM, build: storiesView, about: "Stories posted so far, who liked them; edit or delete them." },
  { id: "approve", title: "Approve work", roles: CLASSROOM, build: approveView, about: "Work pupils sent: approve it for their family, or send it back with a note." },
  { id: "home-learning", title: "Home learning", roles: ["teacher", "leader"], build: homeLearningView, about: "Set a task for a class and see who has handed it in." },
  { id: "report", title: "Points report", roles: ["teacher", "leader"], build: reportView, about: "A class's points by pupil and by value over a period, to read or download." },
  { id: "targets", title: "Daily targets", roles: ["teacher"], build: targetsView, about: "Set a child's own daily points target." },
  { id: "class-code", title: "Class code", roles: CLASSROOM, build: classCodeView, about: "Show a code so pupils can sign in on classroom devices." },
  { id: "cards", title: "Sign-in cards", roles: CLASSROOM, build: cardsView, about: "Print a QR card a pupil can sign in with." },
  { id: "invites", title: "Invite letters", roles: ["teacher", "leader", "office", "school_admin"], build: invitesView, about: "Print a letter with a code for a parent or carer to join." },
  { id: "import", title: "Import pupils", roles: ["leader", "school_admin"], build: importView, about: "Bring in pupils, classes and staff from your school's information system." },
  { id: "requests", title: "Join requests", roles: ["leader"], build: requestsView, about: "Decide about a third parent or carer of a child." },
  { id: "invite-activity", title: "Invites and new guardians", roles: ["leader", "school_admin"], build: inviteActivityView, about: "Every invite letter made, printed and used, and who joined as a parent or carer." },
  { id: "media", title: "Photo consent", roles: ["leader", "office", "school_admin"], build: mediaView, about: "Record whether photos of a child are allowed." },
  { id: "parents", title: "Parent accounts", roles: ["leader"], build: parentsView, about: "Suspend a parent or carer account, or lift a suspension." },
  { id: "points-settings", title: "Points settings", roles: ["leader"], build: pointsSettingsView, about: "Turn “needs work” points on or off, and set how long a point can be undone." },
  { id: "story-settings", title: "Story settings", roles: ["leader"], build: storySettingsView, about: "Turn comments on stories on or off." },
  { id: "staff", title: "Staff set-up links", roles: ["leader", "school_admin"], build: staffLinksView, about: "Give staff a link to choose their password." },
  { id: "account", title: "Your account", roles: ["teacher", "teaching_assistant", "leader", "office", "school_admin"], build: accountView, about: "Two-step sign-in, and signing out everywhere." },
];

function pagesFor(me) {
  if (!me) {
    return [
      { id: "home", title: "Sign in", build: signInView },
      { id: "card-not-valid", title: "Sign in", build: signInView },
      { id: "pupil", title: "Pupil sign in", build: pupilSignInView },
    ];
  }
  if (me.role === "parent") {
    return [
      { id: "home", title: me.children?.length === 1 ? "Your child" : "Your children", build: familyView },
      { id: "news", title: "News", build: newsView },
      { id: "account", title: "Your account", build: accountView },
    ];
  }
  if (me.role === "pupil") {
    return [
      { id: "home", title: "My points", build: pupilHomeView },
      { id: "work", title: "My work", build: workView },
    ];
  }
  return STAFF_PAGES.filter((p) => p.roles.includes(me.role));
}

function currentRoute() {
  if (location.pathname.replace(/\/+$/, "") === "/join") return { id: "join" };
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash.startsWith("setup=")) return { id: "setup", token: hash.slice("setup=".length) };
  if (hash.startsWith("open=")) return { id: "open", token: hash.slice("open=".length) };
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
  const pages = me ? pagesFor(me) : [];
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
  else if (route.id === "open") page = { title: "Open your school", build: () => openSchoolView(route.token) };
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
