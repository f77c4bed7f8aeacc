import { api, roster, URLS } from "../core/api.js";
import { field, fill, h, heading, section } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { ROLE_NAMES } from "../core/words.js";

/** A link that opens the leader's own email app with the set-up link written for them. */
function emailLink(member, answer) {
  const subject = `Your Schoolgate account at ${state.me.school_name}`;
  const body = `Hello ${member.display_name},\n\nOpen this link to choose your Schoolgate password. It works once, for ${answer.expires_in_days} days:\n\n${answer.link}\n`;
  const query = new URLSearchParams({ subject, body }).toString().replaceAll("+", "%20");
  return h("a", { class: "button-link", href: `mailto:${encodeURIComponent(member.email)}?${query}`, text: `Email it to ${member.display_name}` });
}

export async function staffLinksView() {
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
        const answer = await api("POST", URLS.staffSetupLink(member.staff_id));
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
            h("div", { class: "row" }, copy, member.email ? emailLink(member, answer) : null),
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
