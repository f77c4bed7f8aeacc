import { api, consent, readUntil } from "../core/api.js";
import { checkbox, field, fill, h, refocus, section, uid } from "../core/dom.js";
import { failed, say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { pupilSelect } from "../ui/pickers.js";

export async function mediaView() {
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
