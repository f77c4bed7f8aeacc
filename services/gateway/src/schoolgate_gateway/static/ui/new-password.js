// Choosing a new password (a staff set-up link, an emailed reset link): typed twice, the same
// words everywhere; `save(password)` runs once both match, the button busy meanwhile.
import { field, h } from "../core/dom.js";
import { warn, working } from "../core/messages.js";

export function newPasswordForm(buttonText, save) {
  const password = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const again = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const button = h("button", { type: "submit", text: buttonText });
  const form = h(
    "form",
    { class: "stack" },
    field("New password", { control: password, hint: "At least 10 characters. A few words together are easy to remember." }),
    field("Type the password again", { control: again }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (password.value !== again.value) {
      warn("The two passwords are not the same. Please type them again.");
      again.focus();
      return;
    }
    await working(button, "Saving…", () => save(password.value));
  });
  return form;
}
