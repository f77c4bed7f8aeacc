import { api, URLS } from "../core/api.js";
import { fill, h, section, svgImage } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { monster } from "../ui/monsters.js";
import { pupilSelect } from "../ui/pickers.js";

export async function cardsView() {
  const picker = await pupilSelect("Pupil", () => card.replaceChildren());
  const button = h("button", { type: "submit", text: "Make a sign-in card" });
  const card = h("div");
  const form = h("form", { class: "stack" }, picker.control, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const pupilId = picker.select.value;
    const pupil = picker.pupils.find((p) => p.pupil_id === pupilId);
    working(button, "Making the card…", async () => {
      const answer = await api("POST", URLS.pupilCard(pupilId));
      fill(card,
        h(
          "figure",
          { class: "printable sign-in-card" },
          monster(pupil.avatar || pupil.pupil_id),
          h("p", { class: "card-name", text: pupil.display_name }),
          svgImage(answer.qr_svg, `QR code that signs ${pupil.display_name} in`),
          h("figcaption", { text: "Hold this card up to the camera to sign in to Schoolgate." }),
        ),
        h("button", { type: "button", text: "Print the card", onclick: () => window.print() }),
      );
      say(`The card for ${pupil.display_name} is ready to print.`);
    });
  });
  return section(
    "Sign-in cards",
    h("p", { text: "A card with a QR code lets a pupil sign in without typing. Making a new card stops their old card working." }),
    form,
    card,
  );
}
