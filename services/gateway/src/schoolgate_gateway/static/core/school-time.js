// Times as the school tells them: on the school's clock, whatever the phone's own timezone.
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;
const DAY_MS = 86_400_000;

/** Today's date (YYYY-MM-DD) in a timezone; the phone's own when the zone is unknown. */
export function todayIn(timeZone, now = new Date()) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch {
    return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  }
}

/**
 * "8:00 on Monday" from a time the server already gave on the school's clock
 * (`2026-12-07T08:00:00+00:00`): read as written, so a phone abroad says the school's hour.
 * `today` (YYYY-MM-DD, the school's) makes "today" and "tomorrow" of the nearest days.
 */
export function replyAfterWords(localIso, today) {
  const found = LOCAL.exec(String(localIso || ""));
  if (!found) return "";
  const [, y, m, d, hh, mm] = found.map(Number);
  const clock = `${hh}:${String(mm).padStart(2, "0")}`;
  const day = Date.UTC(y, m - 1, d);
  const weekday = DAY_NAMES[new Date(day).getUTCDay()];
  const t = LOCAL.exec(`${today}T00:00`) || [];
  const from = today ? Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3])) : Number.NaN;
  const ahead = Math.round((day - from) / DAY_MS);
  if (ahead === 0) return `${clock} today`;
  if (ahead === 1) return `${clock} tomorrow`;
  if (ahead > 1 && ahead < 7) return `${clock} on ${weekday}`;
  return `${clock} on ${weekday} ${d} ${MONTHS[m - 1]}`;
}

/** When a message was sent, on the school's clock: "Monday 7 December, 21:00". */
export function sentWhen(iso, timeZone) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const options = { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" };
  try {
    return date.toLocaleString("en-GB", { ...options, timeZone });
  } catch {
    return date.toLocaleString("en-GB", options);
  }
}
