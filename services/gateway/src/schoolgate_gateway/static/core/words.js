// Words, names and dates as the app writes them.
import { state } from "./state.js";

export const ROLE_NAMES = {
  teacher: "Teacher",
  teaching_assistant: "Teaching assistant",
  leader: "School leader",
  office: "School office",
  school_admin: "School administrator",
  parent: "Parent or carer",
  pupil: "Pupil",
};

export const CLASSROOM = ["teacher", "teaching_assistant", "leader"];

export function longDate(iso) {
  return new Date(iso).toLocaleDateString("en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

export const points = (n) => (n === 1 ? "point" : "points");

export const isoDay = (d) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** A YYYY-MM-DD school date as a local date (never shifted a day by the browser's timezone). */
export function dayOf(iso) {
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  return new Date(y, m - 1, d);
}

export function addDays(iso, n) {
  const d = dayOf(iso);
  d.setDate(d.getDate() + n);
  return isoDay(d);
}

export const shortDay = (iso) => dayOf(iso).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "long" });

export function wayName(id, names = state.me?.school_ways || {}) {
  if (names[id]) return names[id];
  const plain = String(id).replace(/[-_]+/g, " ");
  return plain.charAt(0).toUpperCase() + plain.slice(1);
}

export function listOf(names) {
  try {
    return new Intl.ListFormat("en-GB", { style: "long", type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export function readableCode(code) {
  const plain = code.replace(/[^A-Za-z0-9]/g, "").toUpperCase();
  return plain.length === 10 ? `${plain.slice(0, 5)}-${plain.slice(5)}` : code.trim().toUpperCase();
}

/** A problem's detail as a sentence of its own: a capital first, a full stop last. */
export const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;

/** The job's problem slug: the last part of its problem type. */
export const slugOf = (problem) => String(problem?.type || "").split("/").pop();

/** Monday of this week, when the school's own week start cannot be asked. */
export function mondayThisWeek() {
  const d = new Date();
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return isoDay(d);
}

/** Services answer with a uuid's 32 hex digits; we send it with dashes. */
export const sameId = (a, b) => String(a).replace(/-/g, "") === String(b).replace(/-/g, "");

export const countOf = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const MEDIA_WORD = { image: "photo", video: "video", document: "PDF" };

export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString("en-GB", { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

/** An ISO time as the value a datetime-local input shows (the browser's own time). */
export function localInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${isoDay(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
