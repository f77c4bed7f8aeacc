import { api, URLS } from "../core/api.js";
import { add, field, fill, h, heading, section } from "../core/dom.js";
import { failed, working } from "../core/messages.js";
import { go, signedIn } from "../core/router.js";
import { pictureButton } from "../ui/monsters.js";
import { codeInput } from "../ui/pickers.js";

const CLASS_CODE_KEY = "schoolgate-class-code";

export function pupilSignInView() {
  const wrap = h("div");
  const code = codeInput();
  const next = h("button", { type: "submit", text: "Next" });
  const form = h(
    "form",
    { class: "stack" },
    field("Class code", { control: code, hint: "Your teacher shows it on the board." }),
    next,
  );
  const pictures = h("div");

  async function showPictures(value, button) {
    const found = await api("POST", URLS.pupilClass, { code: value });
    sessionStorage.setItem(CLASS_CODE_KEY, value);
    form.hidden = true;
    const grid = h("ul", { class: "pictures big" });
    for (const pupil of found.pupils) {
      grid.append(
        pictureButton(pupil.pupil_id, pupil.avatar, pupil.name, async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            const me = await api("POST", URLS.pupilSession, { code: value, pupil_id: pupil.pupil_id });
            signedIn(me);
            go("");
          } catch (error) {
            failed(error);
          } finally {
            button.disabled = false;
          }
        }),
      );
    }
    const title = heading(2, "Tap your picture");
    fill(pictures,
      title,
      grid,
      h("button", {
        type: "button",
        class: "secondary",
        text: "Use a different class code",
        onclick: () => {
          sessionStorage.removeItem(CLASS_CODE_KEY);
          pictures.replaceChildren();
          form.hidden = false;
          code.value = "";
          code.focus();
        },
      }),
    );
    if (button) title.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(next, "Looking…", () => showPictures(code.value.trim().toUpperCase(), next));
  });
  const remembered = sessionStorage.getItem(CLASS_CODE_KEY);
  if (remembered) {
    code.value = remembered;
    showPictures(remembered).catch(() => sessionStorage.removeItem(CLASS_CODE_KEY));
  }
  add(wrap, [form, pictures]);
  return section("Pupil sign in", wrap);
}
