// A forgotten password: ask for a link by email (#forgot), then choose a new password with
// it (#reset=<token>). The link's token stays in the address's fragment, which browsers
// never send to a server or in a Referer.
import { api, URLS } from "../core/api.js";
import { field, h, section } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { go } from "../core/router.js";
import { newPasswordForm } from "../ui/new-password.js";

export async function forgotView() {
  const { email: mail } = await api("GET", URLS.email);
  if (mail !== "configured") {
    return section(
      "Forgotten password",
      h("p", { text: "This school's Schoolgate cannot send email, so it cannot send you a link to choose a new password." }),
      h("p", { text: "Please ask the school office: they can give you a link to choose a new password." }),
      h("p", null, h("a", { href: "#", text: "Back to sign in" })),
    );
  }
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const button = h("button", { type: "submit", text: "Send me a link" });
  const form = h("form", { class: "stack" }, field("Email", { control: email, hint: "The email you sign in with." }), button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(button, "Sending…", async () => {
      const answer = await api("POST", URLS.passwordReset, { email: email.value.trim() });
      form.replaceWith(h("p", { class: "done", text: answer.detail }));
      say(answer.detail);
    });
  });
  return section(
    "Forgotten password",
    h("p", { text: "Type your email and we will send you a link to choose a new password. The link works for 30 minutes." }),
    form,
    h("p", null, h("a", { href: "#", text: "Back to sign in" })),
  );
}

export async function resetView(route) {
  const token = route.key || "";
  try {
    await api("POST", URLS.passwordResetCheck, { token });
  } catch (error) {
    return section(
      "Choose a new password",
      h("p", { text: error.status === 401 || error.status === 422 ? "This link has been used, has expired or was replaced by a newer one." : error.message }),
      h("p", null, h("a", { href: "#forgot", text: "Ask for a new link" })),
    );
  }
  const form = newPasswordForm("Save my new password", async (password) => {
    await api("POST", URLS.passwordResetNew, { token, password });
    history.replaceState(null, "", "/");
    go("");
    say("Your new password is saved, and you are signed out everywhere. Sign in with it now.");
  });
  return section(
    "Choose a new password",
    h("p", { text: "Choosing a new password signs your account out on every phone and computer. Then sign in with it." }),
    form,
  );
}
