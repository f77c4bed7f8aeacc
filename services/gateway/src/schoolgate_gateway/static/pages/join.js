import { api, caughtUp, sleep, URLS } from "../core/api.js";
import { checkbox, field, fill, h, heading, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { render, signedIn, signOut } from "../core/router.js";
import { state } from "../core/state.js";
import { readableCode } from "../core/words.js";
import { codeInput as typedCode } from "../ui/pickers.js";

export function joinView() {
  const fromLink = new URLSearchParams(location.search).get("code");
  state.join ??= { code: "", mode: "create", email: "", step: "start", redeemed: null };
  const join = state.join;
  if (fromLink && !join.code) join.code = readableCode(fromLink);
  const body = h("div");

  function show(step, focus = true) {
    join.step = step;
    const build = { start, conduct, pending }[step];
    fill(body, build());
    if (focus) body.querySelector("h2")?.focus();
  }

  async function redeem() {
    const answer = await api("POST", URLS.redeem, { code: join.code });
    join.redeemed = answer;
    if (answer.code_of_conduct && !answer.code_of_conduct_accepted) show("conduct");
    else await finish();
  }

  async function finish() {
    const answer = join.redeemed;
    if (answer.status === "pending") {
      show("pending");
      return;
    }
    let me = state.me;
    for (let tries = 0; tries < 40; tries++) {
      me = await api("GET", URLS.me);
      if (me.children.some((c) => c.pupil_id === answer.pupil_id)) break;
      await sleep(250); // the link is being recorded
    }
    signedIn(me);
    const child = me.children.find((c) => c.pupil_id === answer.pupil_id);
    state.join = null;
    history.replaceState(null, "", "/");
    await render();
    say(child ? `You are now connected to ${child.name}.` : "You are now connected.");
  }

  function start() {
    const codeInput = typedCode({ maxlength: 32 });
    codeInput.name = "code";
    codeInput.value = join.code ?? "";
    codeInput.addEventListener("input", () => {
      join.code = codeInput.value.trim();
    });
    const codeField = field("Code from the letter", {
      control: codeInput,
      hint: "It looks like ABCDE-12345. If you scanned the QR code, it is already filled in.",
    });
    const me = state.me;
    if (me && me.role !== "parent") {
      return h(
        "div",
        null,
        heading(2, "This is for parents and carers"),
        h("p", { text: `You are signed in as ${me.display_name}. To join as a parent or carer, sign out first.` }),
      );
    }
    if (me) {
      const button = h("button", { type: "submit", text: "Connect to my child" });
      const form = h("form", { class: "stack" }, codeField, button);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        join.code = codeInput.value.trim();
        await working(button, "Connecting…", redeem);
      });
      return h(
        "div",
        null,
        heading(2, "Connect to your child"),
        h(
          "p",
          null,
          `You are signed in as ${me.display_name}. `,
          h("button", { type: "button", class: "link-button", text: "Not you? Sign out", onclick: signOut }),
        ),
        form,
      );
    }
    const creating = join.mode === "create";
    const name = h("input", { type: "text", autocomplete: "name", required: true, maxlength: 120 });
    const email = h("input", {
      type: "email",
      autocomplete: creating ? "email" : "username",
      required: true,
      value: join.email,
    });
    const password = h("input", {
      type: "password",
      autocomplete: creating ? "new-password" : "current-password",
      required: true,
      minlength: creating ? 10 : 1,
    });
    const button = h("button", {
      type: "submit",
      text: creating ? "Create account and join" : "Sign in and join",
    });
    const form = h(
      "form",
      { class: "stack" },
      codeField,
      creating ? field("Your name", { control: name, hint: "The name the school knows you by, for example Sam Smith." }) : null,
      field("Email", { control: email }),
      field("Password", {
        control: password,
        hint: creating ? "At least 10 characters. A few words together are easy to remember." : undefined,
      }),
      button,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      join.code = codeInput.value.trim();
      join.email = email.value;
      await working(button, creating ? "Creating your account…" : "Signing in…", async () => {
        let me;
        try {
          if (creating) {
            // The answer is the same whether or not the email had an account (so nobody
            // can learn who has one): signing in next tells us whether it worked. A code
            // that does not work is refused first, and then no account is made.
            await api("POST", URLS.joinAccount, {
              display_name: name.value.trim(),
              email: email.value.trim(),
              password: password.value,
              code: join.code,
            });
          }
          me = await api("POST", URLS.session, { email: email.value.trim(), password: password.value });
        } catch (error) {
          if (creating && error.status === 401) {
            join.mode = "sign-in";
            show("start");
            warn("There may already be an account with this email. Please sign in instead.");
            return;
          }
          throw error;
        }
        signedIn(me);
        if (me.role !== "parent") {
          show("start");
          return;
        }
        try {
          await redeem();
        } catch (error) {
          show("start");
          throw error;
        }
      });
    });
    const other = h("button", {
      type: "button",
      class: "link-button",
      text: creating ? "I already have an account: sign in instead" : "I am new: create an account instead",
      onclick: () => {
        join.mode = creating ? "sign-in" : "create";
        join.email = email.value;
        show("start");
      },
    });
    return h(
      "div",
      null,
      heading(2, creating ? "Create your account" : "Sign in to join"),
      h("p", {
        text: creating
          ? "You need an account to see your child's points and news. It takes a minute."
          : "Sign in with the account you already have, and we will add this child to it.",
      }),
      form,
      h("p", null, other),
    );
  }

  function conduct() {
    const rules = join.redeemed.code_of_conduct;
    const agree = checkbox("I have read the code of conduct and I agree to it", { required: true });
    const button = h("button", { type: "submit", text: "Agree and continue" });
    const form = h("form", { class: "stack" }, agree, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await working(button, "Saving…", async () => {
        await caughtUp(); // the school knows this family once the link just made is read
        await api(
          "POST",
          URLS.conductAcceptances(join.redeemed.school_id),
          { version: rules.version },
        );
        await finish();
      });
    });
    const text = h("div", { class: "conduct" });
    for (const paragraph of rules.text.split(/\n\s*\n/)) text.append(h("p", { text: paragraph }));
    return h(
      "div",
      null,
      heading(2, "The school's code of conduct"),
      h("p", { text: "The school asks every parent and carer to agree to this before joining." }),
      text,
      form,
    );
  }

  function pending() {
    return h(
      "div",
      null,
      heading(2, "Thank you. The school will check this"),
      h("p", {
        text:
          "This child already has two parents or carers on Schoolgate, so someone at the school " +
          "needs to approve you first. This keeps children safe.",
      }),
      h("p", { text: "You do not need to do anything else. Once the school approves, you will see your child here." }),
      h("button", {
        type: "button",
        text: "Go to my page",
        onclick: () => {
          state.join = null;
          history.replaceState(null, "", "/");
          render();
        },
      }),
    );
  }

  show(join.step === "start" || !join.redeemed ? "start" : join.step, false);
  return section(
    "Join your child's school",
    h("p", { text: "Your child's school sent you a letter with a code. With it you can see your child's points and news here." }),
    body,
  );
}
