import { api, URLS } from "../core/api.js";
import { fill, h, section } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { state } from "../core/state.js";
import { classSelect } from "../ui/pickers.js";

export function classCodeView() {
  const { control, select } = classSelect(() => shown.replaceChildren());
  const button = h("button", { type: "button", text: "Show a class code" });
  const shown = h("div");
  button.addEventListener("click", () =>
    working(button, "Making a code…", async () => {
      const answer = await api("POST", URLS.classCode(select.value));
      const where = `${location.origin}/#pupil`;
      fill(shown,
        h(
          "div",
          { class: "code-panel" },
          h("p", { text: `Class ${state.me.classes[select.value] || ""}: pupils type this code` }),
          h("p", { class: "big-code", id: "class-code", text: answer.code }),
          h("p", null, "On a classroom device, open ", h("strong", { text: where }), ", type the code, then tap your picture."),
          h("p", { class: "muted", text: "Showing a new code stops the old one working." }),
        ),
      );
      say(`The class code is ${answer.code.split("").join(" ")}.`);
    }),
  );
  if (!select.options.length) {
    return section("Class code", h("p", { text: "You do not have a class yet." }));
  }
  return section(
    "Class code",
    h("p", { text: "Pupils sign in on classroom devices with a code you show, then their own picture." }),
    control,
    button,
    shown,
  );
}
