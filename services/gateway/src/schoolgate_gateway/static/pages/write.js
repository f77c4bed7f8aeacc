// `#write`: a new message about a child (a parent to the class or the office; staff to a child's
// parents), and `#announce`: a message to every family of a class, whose replies come back privately.
import { api, messagingApi, schoolPupils } from "../core/api.js";
import { field, fill, h, radioGroup, section } from "../core/dom.js";
import { go } from "../core/router.js";
import { say, warn } from "../core/messages.js";
import { state } from "../core/state.js";
import { listOf } from "../core/words.js";
import { backAt, composer, messagingStatus, replyPromise } from "../ui/messaging.js";

function choice(label, name, options) {
  const select = h("select", { name }, ...options.map(([value, text]) => h("option", { value, text })));
  return { node: field(label, { control: select }), select };
}

export async function writeView() {
  const me = state.me;
  const status = await messagingStatus().catch(() => null);
  const holder = h("div");
  const parent = me.role === "parent";
  let pupils;
  if (parent) pupils = (me.children || []).filter((c) => c.school_id === me.school_id).map((c) => ({ id: c.pupil_id, name: c.name, className: c.class_name }));
  else pupils = (await schoolPupils()).map((p) => ({ id: p.pupil_id, name: p.display_name || p.first_name, className: "" }));
  pupils.sort((a, b) => a.name.localeCompare(b.name));
  if (!pupils.length) {
    return section("New message", h("p", { text: parent ? "You are not connected to a child at this school yet." : "There are no pupils in your classes yet." }));
  }
  const child = choice(parent ? "Which child is it about?" : "Which pupil is it about?", "pupil", pupils.map((p) => [p.id, p.className ? `${p.name} (${p.className})` : p.name]));
  const whoHolder = h("div");
  let to = () => "class";
  let parents = () => undefined;

  let drawn = 0;
  async function draw() {
    const seq = ++drawn;
    const pupil = pupils.find((p) => p.id === child.select.value) || pupils[0];
    const reach = await api("GET", messagingApi(`/pupils/${encodeURIComponent(pupil.id)}/recipients`)).catch(() => ({ class_staff: [], parents: null }));
    if (seq !== drawn) return; // another child was chosen meanwhile
    if (parent) {
      const className = pupil.className ? `class ${pupil.className}` : "the class";
      const staffNames = reach.class_staff || [];
      const ways = radioGroup("Who is it for?", "to", [
        ["class", staffNames.length ? `${listOf(staffNames)} (${className})` : `${pupil.name}'s teachers (${className})`],
        ["office", "The office"],
      ]);
      fill(whoHolder, ways);
      to = () => ways.querySelector("input:checked")?.value || "class";
      drawComposer(pupil, staffNames);
      ways.addEventListener("change", () => composing?.update());
    } else if (reach.parents === 0) {
      fill(whoHolder, h("p", { class: "notice", text: `No parent or carer of ${pupil.name} has joined yet. Send them an invite letter first.` }));
      fill(holder);
    } else {
      // the service names the parents only by id: writing to all of them is the one plain choice
      const everyone = reach.parents === 1 ? `${pupil.name}'s parent or carer` : `All of ${pupil.name}'s parents and carers${reach.parents ? ` (${reach.parents})` : ""}`;
      fill(whoHolder, h("p", null, h("strong", { text: "To: " }), everyone), h("p", { class: "hint", text: "Each of them sees the whole conversation." }));
      parents = () => "all";
      drawComposer(pupil, []);
    }
  }

  let composing = null;
  function drawComposer(pupil, staffNames) {
    const box = composer({
      to: () => to(),
      pupilId: pupil.id,
      pupilName: pupil.name,
      staff: staffNames,
      status,
      send: async ({ text, attachments, to: chosen, sendAt }) => {
        const where = chosen || to();
        const sent = await api("POST", messagingApi("/conversations"), {
          pupil_id: pupil.id,
          to: parent ? where : undefined,
          parents: parent ? undefined : parents(),
          text,
          attachments,
          send_at: sendAt || undefined,
        });
        const promise = parent ? replyPromise(status, { office: where === "office", staff: staffNames }) : "";
        go(`conversation=${sent.conversation_id}`); // before saying so: a new page clears what was said
        say(sendAt ? `Saved. The family sees it at ${backAt(status)}.` : `${where === "office" ? "Sent to the office." : "Sent."} ${promise}`.trim());
      },
    });
    composing = box;
    fill(holder, box.node);
  }
  child.select.addEventListener("change", draw);
  await draw();
  if (status?.switched_off) warn(status.notice || "The school has switched messages off for now.");
  return section("New message", h("p", null, h("a", { href: "#messages", text: "All messages" })), child.node, whoHolder, holder);
}

export async function announceView() {
  const me = state.me;
  const classes = Object.entries(me.classes || {});
  if (!classes.length) return section("Announcement to a class", h("p", { text: "You have no class to write to." }));
  const status = await messagingStatus().catch(() => null);
  const pick = choice("Which class?", "class", classes);
  const words = h("p", { class: "notice" });
  const holder = h("div");
  function draw() {
    const name = me.classes[pick.select.value];
    words.textContent = `Every family in ${name} will get this. Their replies come to you privately.`;
    const box = composer({
      label: "Your announcement",
      to: "story",
      status,
      send: async ({ text, attachments, sendAt }) => {
        const sent = await api("POST", messagingApi("/announcements"), { class_id: pick.select.value, text, attachments, send_at: sendAt || undefined });
        go(`conversation=${sent.conversation_id}`);
        say(sendAt ? `Saved. Families see it at ${backAt(status)}.` : `Sent to every family in ${name}.`);
      },
    });
    fill(holder, box.node);
  }
  pick.select.addEventListener("change", draw);
  draw();
  return section("Announcement to a class", h("p", null, h("a", { href: "#messages", text: "All messages" })), pick.node, words, holder);
}
