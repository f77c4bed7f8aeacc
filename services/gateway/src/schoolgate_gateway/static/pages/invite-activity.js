import { api, consent, parentName, roster, schoolPupils } from "../core/api.js";
import { h, section } from "../core/dom.js";
import { when } from "../core/words.js";

const ACTIVITY_WORDS = {
  issued: "made an invite letter",
  printed: "opened the invite letter to print",
  revoked: "cancelled the invite",
  "redeemed-linked": "joined with the code",
  "redeemed-pending": "used the code; a leader decides",
  "request-approved": "approved a request to join",
  "request-rejected": "turned down a request to join",
  "linked-after-approval": "joined after a leader approved",
  "account-closed": "closed their account, so is no longer a parent or carer here",
};

/** Leaders see every invite made, printed, cancelled and used, and who joined as a guardian. */
export async function inviteActivityView() {
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
