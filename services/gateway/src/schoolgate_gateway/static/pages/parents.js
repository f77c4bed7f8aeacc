import { api, consent, parentName, readUntil } from "../core/api.js";
import { field, fill, h, refocus, section, uid } from "../core/dom.js";
import { failed, say, working } from "../core/messages.js";
import { longDate } from "../core/words.js";
import { pupilSelect } from "../ui/pickers.js";

export async function parentsView() {
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
