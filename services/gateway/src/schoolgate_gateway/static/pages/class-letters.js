import { api, consent, schoolClasses } from "../core/api.js";
import { field, fill, h, heading, section, svgImage } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { countOf, longDate } from "../core/words.js";

const WHOLE_SCHOOL = ["leader", "office", "school_admin"];

/** One child's letter: the code, a QR code to scan, and what to do with them. */
function letter(one, className) {
  const joinPage = one.join_url.split("?")[0];
  return h("article", { class: "letter" },
    h("h3", { text: `Join Schoolgate: ${one.child}` }),
    h("p", { text: `This letter invites a parent or carer of ${one.child} (${className}) to join the school on Schoolgate, to see their news, points and photos.` }),
    h("p", { text: "Your code:" }),
    h("p", { class: "code", text: one.code }),
    h("figure", null,
      svgImage(one.qr_svg, `QR code that opens the join page with ${one.child}'s code`),
      h("figcaption", { text: `Scan this with your phone's camera, or go to ${joinPage} and type the code.` })),
    h("p", { text: `The code works once, until ${longDate(one.expires_at)}. Keep it private: whoever uses it joins as a parent or carer of this child. If it has expired or been lost, ask the school office for a new one.` }));
}

/** Invite letters for every child of a class, or of the school: one document, a page each. */
export async function classLettersView() {
  const whole = WHOLE_SCHOOL.includes(state.me.role);
  const classes = whole
    ? (await schoolClasses()).map((c) => [c.class_id, c.name])
    : Object.entries(state.me.classes || {});
  classes.sort((a, b) => a[1].localeCompare(b[1], "en-GB", { numeric: true }));
  const className = Object.fromEntries(classes);
  const choose = h("select", { required: true },
    classes.map(([id, name]) => h("option", { value: id, text: name })),
    whole ? h("option", { value: "", text: "The whole school" }) : null);
  const make = h("button", { type: "submit", text: "Make the letters" });
  const result = h("div");
  const form = h("form", { class: "stack" }, field("Letters for", { control: choose }), make);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(make, "Making the letters…", async () => {
      const classId = choose.value || null;
      const { letters } = await api("POST", consent("/invite-letters"), { class_id: classId });
      const who = classId ? className[classId] : "the whole school";
      fill(result,
        heading(2, `Letters for ${who}: ${countOf(letters.length, "letter")}`),
        h("p", { text: "Each letter has a new code of its own. Codes from earlier letters still work until they expire." }),
        h("button", { type: "button", text: "Print the letters", onclick: () => window.print() }),
        h("div", { class: "letters printable" }, letters.map((one) => letter(one, className[one.class_id] || ""))));
      result.querySelector("h2").focus();
      say(`${countOf(letters.length, "letter")} ready to print, one page per child.`);
    });
  });
  if (!classes.length) {
    return section("Letters for a class", h("p", { text: "There are no classes to make letters for yet." }));
  }
  return section(
    "Letters for a class",
    h("p", { text: "An invite letter for the family of every child in a class at once, ready to print: one page per child, each with its own code and QR code." }),
    form,
    result,
  );
}
