// Talking to the gateway: the API's addresses and how its answers and problems come back.
import { state } from "./state.js";

export class ApiError extends Error {
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

export async function api(method, path, body, { contentType } = {}) {
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
  noteWritten(response.headers?.get?.("x-schoolgate-position"));
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

let written = null;

/** The gateway answers a write with the log position it reached: the newest one is kept. */
function noteWritten(header) {
  const at = Number(header);
  if (header && Number.isSafeInteger(at) && at >= 0 && (written === null || at > written)) written = at;
}

/** The log position of this page's newest write, or null before its first. */
export const lastWritten = () => written;

/** Wait until every read (the gateway's and each service's) shows this page's writes. */
export async function caughtUp() {
  if (written !== null) await api("GET", URLS.caughtUp(written));
}

const segment = encodeURIComponent;

/**
 * The gateway's own addresses. The services behind it are reached through roster(), consent(),
 * pointsApi(), storiesApi(), messagingApi() and notificationsApi() below; no other module writes an address of the API.
 */
export const URLS = {
  me: "/api/me",
  session: "/api/session",
  secondFactorSignIn: "/api/session/second-factor",
  everywhere: "/api/session/everywhere",
  secondFactor: "/api/me/second-factor",
  secondFactorConfirm: "/api/me/second-factor/confirm",
  secondFactorOff: "/api/me/second-factor/off",
  setup: "/api/setup",
  email: "/api/email",
  passwordReset: "/api/password-reset",
  passwordResetCheck: "/api/password-reset/check",
  passwordResetNew: "/api/password-reset/new-password",
  opening: "/api/opening",
  redeem: "/api/join/redeem",
  joinAccount: "/api/join/account",
  pupilClass: "/api/pupil/class",
  pupilSession: "/api/pupil/session",
  familyNotices: "/api/consent/parents/me/notices?limit=20",
  familyChildren: "/api/consent/parents/me/children",
  feed: (query) => `/api/feed?${query}`,
  conductAcceptances: (schoolId) => `/api/consent/schools/${segment(schoolId)}/code-of-conduct/acceptances`,
  // the consent service names a letter by its path under its own root
  inviteLetter: (letterUrl) => `/api/consent${letterUrl}`,
  classLive: (classId) => `/api/live/classes/${segment(classId)}`,
  pupilLive: (pupilId) => `/api/live/pupils/${segment(pupilId)}`,
  pupilCard: (pupilId) => `/api/pupils/${segment(pupilId)}/card`,
  classCode: (classId) => `/api/classes/${segment(classId)}/code`,
  boardCode: (classId) => `/api/classes/${segment(classId)}/board-code`,
  classBoards: (classId) => `/api/classes/${segment(classId)}/boards`,
  boardSession: "/api/board/session",
  board: (classId) => `/api/board/classes/${segment(classId)}`,
  boardTotal: (classId, after) => `/api/board/classes/${segment(classId)}/total${afterQuery(after)}`,
  boardLive: (classId) => `/api/board/classes/${segment(classId)}/live`,
  staffSetupLink: (staffId) => `/api/staff/${segment(staffId)}/setup-link`,
  exports: "/api/exports",
  exportJob: (exportId) => `/api/exports/${segment(exportId)}`,
  pushKey: "/api/notifications/push/key",
  pushSubscriptions: "/api/notifications/push/subscriptions",
  closeAccount: "/api/me/close",
  myAccount: "/api/me/account",
  myEmail: "/api/me/account/email",
  myPassword: "/api/me/account/password",
  caughtUp: (position) => `/api/caught-up?position=${segment(position)}`,
  messagesLive: (schoolId, conversationId) =>
    `/api/live/messages?school=${segment(schoolId)}${conversationId ? `&conversation=${segment(conversationId)}` : ""}`,
  audit: (pupilId) => `/api/audit?limit=200${pupilId ? `&pupil_id=${segment(pupilId)}` : ""}`,
};

const school = () => encodeURIComponent(state.me.school_id);

export const roster = (path) => `/api/roster/schools/${school()}${path}`;

export const consent = (path) => `/api/consent/schools/${school()}${path}`;

// Leaders need to know who a parent or carer is; the id alone means nothing to them.
export const parentName = (parentId) =>
  api("GET", `/api/schools/${school()}/parents/${encodeURIComponent(parentId)}`)
    .then((p) => `${p.display_name} (${p.email})`)
    .catch(() => `account ${parentId}`);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function cached(key, load) {
  if (!(key in state.cache)) state.cache[key] = load();
  try {
    return await state.cache[key];
  } catch (error) {
    delete state.cache[key];
    throw error;
  }
}

export const schoolClasses = () => cached("classes", () => api("GET", roster("/classes")));

export async function schoolPupils() {
  const all = await cached("pupils", () => api("GET", roster("/pupils")));
  if (state.me.role === "teacher" || state.me.role === "teaching_assistant") {
    return all.filter((p) => p.class_id in state.me.classes);
  }
  return all;
}

/** The points service behind the gateway; a parent's children may be at other schools. */
export const pointsApi = (path, schoolId = state.me.school_id) =>
  `/api/points/schools/${encodeURIComponent(schoolId)}${path}`;

export const afterQuery = (position) => (position == null ? "" : `?after=${encodeURIComponent(position)}`);

/** Read again until what was just written shows: read models catch up a moment after a write. */
export async function readUntil(read, done) {
  let value = await read();
  for (let tries = 0; done && !done(value) && tries < 25; tries++) {
    await sleep(200);
    value = await read();
  }
  return value;
}

/** The stories service behind the gateway; a parent's children may be at other schools. */
export const storiesApi = (path, schoolId = state.me.school_id) =>
  `/api/stories/schools/${encodeURIComponent(schoolId)}${path}`;

/** The messaging service behind the gateway: conversations, announcements, absences,
 * reports and its settings; a parent's children may be at other schools. */
export const messagingApi = (path, schoolId = state.me.school_id) =>
  `/api/messaging/schools/${encodeURIComponent(schoolId)}${path}`;

/** The notifications service behind the gateway: a person's notification centre, their
 * choices, and a leader's emergency notice and digest time. */
export const notificationsApi = (path, schoolId = state.me.school_id) =>
  `/api/notifications/schools/${encodeURIComponent(schoolId)}/notifications${path}`;

export const mediaUrl = (mediaId, size, schoolId) =>
  storiesApi(`/media/${encodeURIComponent(mediaId)}?size=${size}`, schoolId);

/** Where an attachment's bytes are: the service names its own paths, the browser asks the gateway. */
export function mediaSrc(a, size, schoolId) {
  const given = size === "thumb" ? a.thumb_url || a.url : a.url;
  if (given && given.startsWith("/api/")) return given;
  if (a.media_id) return mediaUrl(a.media_id, size === "thumb" && a.kind === "image" ? "thumb" : "full", schoolId);
  if (given && given.startsWith("/schools/")) return `/api/stories${given}`;
  return given || "";
}

export const yearGroupsList = () => cached("year-groups", () => api("GET", roster("/year-groups")));

/** A list from an answer that is either a list or an object holding one under one of `keys`. */
export function listIn(answer, ...keys) {
  if (Array.isArray(answer)) return answer;
  for (const key of [...keys, "items"]) if (Array.isArray(answer?.[key])) return answer[key];
  return [];
}

export const guardiansOf = (pupilId) =>
  cached(`guardians-${pupilId}`, () =>
    api("GET", consent(`/pupils/${encodeURIComponent(pupilId)}/consent`)).then((info) => info.guardians.map((g) => g.parent_id)),
  );

export const commentsOn = (schoolId) =>
  cached(`comments-on-${schoolId}`, () => api("GET", storiesApi("/settings", schoolId)).then((s) => Boolean(s?.comments_enabled)));

/** The pupils of a class by the names the class knows them by. */
export async function classPupilNames(classId) {
  const pupils = await cached(`class-pupils-${classId}`, () => api("GET", roster(`/classes/${encodeURIComponent(classId)}/pupils`)));
  return Object.fromEntries(pupils.map((p) => [p.pupil_id, p.display_name || p.first_name]));
}

// -- web push: this device's subscription (ui/push-toggle.js)

/** The server's VAPID public key (base64url), for pushManager.subscribe. */
export const pushKey = () => api("GET", URLS.pushKey).then((answer) => answer.application_server_key);

/** Keep this device's subscription (PushSubscription.toJSON()) for the signed-in person. */
export const savePushSubscription = (subscription) => api("POST", URLS.pushSubscriptions, subscription);

/** Forget this device's subscription; a device the server no longer knows is no error. */
export const dropPushSubscription = (endpoint) =>
  api("DELETE", URLS.pushSubscriptions, { endpoint }).catch((error) => {
    if (error.status !== 404) throw error;
  });
