import { api, URLS } from "../core/api.js";
import { field, h, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { render, signedIn } from "../core/router.js";

export function setupView(token) {
  const password = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const again = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const button = h("button", { type: "submit", text: "Save password and sign in" });
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
    await working(button, "Saving…", async () => {
      const me = await api("POST", URLS.setup, { token, password: password.value });
      signedIn(me);
      history.replaceState(null, "", "/");
      await render();
      say(`Your password is saved. Welcome, ${me.display_name}.`);
    });
  });
  return section(
    "Choose your password",
    h("p", { text: "Choose a password for your Schoolgate account. This link works once." }),
    form,
  );
}
