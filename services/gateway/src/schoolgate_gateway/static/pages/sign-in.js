import { api, URLS } from "../core/api.js";
import { field, h, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { go, signedIn } from "../core/router.js";

export function signInView() {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  const button = h("button", { type: "submit", text: "Sign in" });
  const form = h(
    "form",
    { class: "stack", novalidate: false },
    field("Email", { control: email }),
    field("Password", { control: password }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(button, "Signing in…", async () => {
      const answer = await api("POST", URLS.session, { email: email.value, password: password.value });
      if (answer.second_factor_required) {
        form.replaceWith(secondFactorForm(answer.challenge));
        return;
      }
      welcome(answer);
    });
  });
  if (location.hash === "#card-not-valid") {
    setTimeout(() => warn("That sign-in card does not work any more. Ask your teacher for a new one."));
  }
  return section(
    "Sign in",
    h("p", { text: "For parents, carers and school staff." }),
    form,
    h("p", null, h("a", { href: "#forgot", text: "Forgot your password?" })),
    h("h2", { text: "Other ways in" }),
    h(
      "ul",
      { class: "links" },
      h("li", null, h("a", { href: "/join", text: "Got a letter from school? Join with your code" })),
      h("li", null, h("a", { href: "#pupil", text: "Pupils: sign in with your class code" })),
      h("li", null, h("a", { href: "#board", text: "Classroom screen: show a class board with a board code" })),
    ),
  );
}

/** Signed in: to the first page, with a word about two-step sign-in where the school asks. */
function welcome(me) {
  signedIn(me);
  go("");
  if (me.second_factor === "asked") {
    setTimeout(() => say("Please turn on two-step sign-in under Your account: it keeps children's details safe if your password is ever guessed."));
  }
}

/** The second step of signing in: a code from the authenticator app, or a recovery code. */
function secondFactorForm(challenge) {
  const code = h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", required: true, minlength: 6, maxlength: 32 });
  const button = h("button", { type: "submit", text: "Sign in" });
  const form = h(
    "form",
    { class: "stack" },
    field("Code from your authenticator app", { control: code, hint: "Six digits. Lost your phone? Type one of your recovery codes instead." }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await working(button, "Checking…", async () => {
      welcome(await api("POST", URLS.secondFactorSignIn, { challenge, code: code.value.trim() }));
    });
  });
  setTimeout(() => code.focus());
  return form;
}
