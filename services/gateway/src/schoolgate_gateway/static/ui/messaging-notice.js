// The notice families see while a leader has switched messaging off for the whole school (the
// kill switch): any page can place it, and it shows nothing while messaging is on.
import { api, messagingApi } from "../core/api.js";
import { fill, h, uid } from "../core/dom.js";
import { state } from "../core/state.js";

/** The schools to ask: a parent's children may be at more than one. */
function schoolsOf(me) {
  const ids = new Set((me?.children || []).map((c) => c.school_id).filter(Boolean));
  if (!ids.size && me?.school_id) ids.add(me.school_id);
  return [...ids];
}

/**
 * An element that fills itself with each school's notice while its messaging is off; empty
 * (and hidden) otherwise. `refresh()` asks again, as after a leader switches it.
 */
export function messagingNotice(me = state.me) {
  const node = h("div", { class: "messaging-notice", hidden: true });
  async function refresh() {
    const schools = schoolsOf(me);
    const found = await Promise.all(
      schools.map((school) => api("GET", messagingApi("/messaging/status", school)).catch(() => null)),
    );
    const off = found.filter((s) => s?.switched_off);
    const named = schools.length > 1;
    fill(node, ...off.map((s) => {
      const titleId = uid("messaging-off");
      const school = (me?.children || []).find((c) => c.school_id === schools[found.indexOf(s)])?.school_name;
      return h(
        "div",
        { class: "notice", role: "region", "aria-labelledby": titleId },
        h("h2", { id: titleId, text: named && school ? `Messages to ${school} are switched off` : "Messages to the school are switched off" }),
        h("p", { text: s.notice }),
        s.phone ? h("p", { text: `For anything urgent, please phone the school on ${s.phone}.` }) : null,
      );
    }));
    node.hidden = !off.length;
    node.dataset.messaging = off.length ? "off" : "on"; // says the answer has come, either way
    return off.length > 0;
  }
  node.ready = refresh();
  node.refresh = refresh;
  return node;
}
