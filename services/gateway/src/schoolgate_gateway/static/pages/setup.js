import { api, URLS } from "../core/api.js";
import { h, section } from "../core/dom.js";
import { say } from "../core/messages.js";
import { render, signedIn } from "../core/router.js";
import { newPasswordForm } from "../ui/new-password.js";

export function setupView(token) {
  const form = newPasswordForm("Save password and sign in", async (password) => {
    const me = await api("POST", URLS.setup, { token, password });
    signedIn(me);
    history.replaceState(null, "", "/");
    await render();
    say(`Your password is saved. Welcome, ${me.display_name}.`);
  });
  return section(
    "Choose your password",
    h("p", { text: "Choose a password for your Schoolgate account. This link works once." }),
    form,
  );
}
