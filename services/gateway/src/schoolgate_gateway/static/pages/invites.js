import { api, consent, URLS } from "../core/api.js";
import { field, fill, h, heading, section, svgImage } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { longDate } from "../core/words.js";
import { pupilSelect } from "../ui/pickers.js";

export async function invitesView() {
  const { email: mail } = await api("GET", URLS.email);
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
            href: URLS.inviteLetter(invite.letter_url),
            target: "_blank",
            rel: "noopener",
            class: "button-link",
            text: "Open the letter to print (opens in a new tab)",
          })),
          mail === "configured" ? emailForm(invite, name) : null,
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

/** Email the letter to the family instead of (or as well as) printing it. */
function emailForm(invite, name) {
  const email = h("input", { type: "email", autocomplete: "off", required: true });
  const button = h("button", { type: "submit", class: "secondary", text: "Email the letter" });
  const form = h("form", { class: "stack" }, field("Or email it to the parent or carer", { control: email, hint: "Their email address. The code in it works once, as on paper." }), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Sending…", async () => {
      await api("POST", consent(`/invites/${encodeURIComponent(invite.invite_id)}/email`), { email: email.value.trim() });
      email.value = "";
      say(`The letter for ${name} is on its way by email.`);
    });
  });
  return form;
}
