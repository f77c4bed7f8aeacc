import { api, URLS } from "../core/api.js";
import { field, fill, h, section, svgImage } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { go } from "../core/router.js";
import { state } from "../core/state.js";
import { exportControl } from "../ui/exports.js";

/** On a parent's account page: who else joined as a parent or carer of their children. */
async function familyNotices() {
  const notices = await api("GET", URLS.familyNotices).catch(() => ({ items: [] }));
  const names = Object.fromEntries((state.me?.children || []).map((c) => [c.pupil_id, c.name]));
  return [
    h("h2", { text: "Who else can see your children's news" }),
    notices.items.length
      ? h("ul", null, notices.items.map((n) =>
          h("li", { text: `${new Date(n.at).toLocaleDateString("en-GB", { dateStyle: "long" })}: another parent or carer joined for ${names[n.pupil_id] || "your child"}. If you do not know who this is, please tell the school office.` })))
      : h("p", { text: "Nobody else has joined for your children since you did." }),
  ];
}

/** Name and email (a parent's own; staff's are the school's), and the language. */
function detailsSection(account) {
  const parts = [h("h2", { text: "Your details" })];
  if (account.may_change_name_and_email) {
    const name = h("input", { type: "text", autocomplete: "name", required: true, maxlength: 120, value: account.display_name });
    const saveName = h("button", { type: "submit", text: "Save name" });
    const nameForm = h("form", { class: "stack" }, field("Your name", { control: name, hint: "The name the school sees, for example Sam Smith." }), saveName);
    nameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      working(saveName, "Saving…", async () => {
        const saved = await api("PUT", URLS.myAccount, { display_name: name.value.trim() });
        state.me = { ...state.me, display_name: saved.display_name };
        say(`Saved. The school sees your name as ${saved.display_name}.`);
      });
    });
    const email = h("input", { type: "email", autocomplete: "email", required: true, maxlength: 254, value: account.email || "" });
    const password = h("input", { type: "password", autocomplete: "current-password", required: true, maxlength: 1024 });
    const saveEmail = h("button", { type: "submit", text: "Change email" });
    const emailForm = h(
      "form",
      { class: "stack" },
      field("Your email", { control: email, hint: "You sign in with it." }),
      field("Password, to change your email", { control: password }),
      saveEmail,
    );
    emailForm.addEventListener("submit", (event) => {
      event.preventDefault();
      working(saveEmail, "Saving…", async () => {
        const saved = await api("PUT", URLS.myEmail, { email: email.value.trim(), password: password.value });
        password.value = "";
        say(`Saved. Sign in with ${saved.email} from now on.`);
      });
    });
    parts.push(nameForm, emailForm);
  } else {
    parts.push(h("p", { text: `${account.display_name}${account.email ? `, ${account.email}` : ""}. Your school keeps your name and email: to change them, ask a school leader.` }));
  }
  const language = h("select", null, ...Object.entries(account.languages).map(([code, label]) => h("option", { value: code, text: label, selected: code === account.language })));
  const saveLanguage = h("button", { type: "submit", class: "secondary", text: "Save language" });
  const languageForm = h("form", { class: "stack" }, field("Language", { control: language }), saveLanguage);
  languageForm.addEventListener("submit", (event) => {
    event.preventDefault();
    working(saveLanguage, "Saving…", async () => {
      await api("PUT", URLS.myAccount, { language: language.value });
      say("Saved.");
    });
  });
  parts.push(languageForm);
  return parts;
}

/** A new password: the old one first; every other phone or computer is signed out. */
function passwordSection() {
  const current = h("input", { type: "password", autocomplete: "current-password", required: true, maxlength: 1024 });
  const fresh = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: 10, maxlength: 1024 });
  const button = h("button", { type: "submit", text: "Change password" });
  const form = h(
    "form",
    { class: "stack" },
    field("Current password", { control: current }),
    field("New password", { control: fresh, hint: "At least 10 characters. A few words together are easy to remember." }),
    button,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Changing…", async () => {
      await api("PUT", URLS.myPassword, { password: current.value, new_password: fresh.value });
      current.value = "";
      fresh.value = "";
      say("Your password is changed. Any other phone or computer signed in to your account is signed out.");
    });
  });
  return [h("h2", { text: "Change your password" }), form];
}

/** Your account: your details, password, sign out everywhere, and (staff) two-step sign-in. */
export async function accountView() {
  const [me, account] = await Promise.all([api("GET", URLS.me), api("GET", URLS.myAccount)]);
  const everywhere = h("button", { type: "button", class: "secondary", text: "Sign out everywhere" });
  everywhere.addEventListener("click", () =>
    working(everywhere, "Signing out…", async () => {
      await api("POST", URLS.everywhere);
      state.me = null;
      state.cache = {};
      go("");
      say("You are signed out on every phone and computer.");
    }),
  );
  const parts = [
    h("h2", { text: "Signed in elsewhere?" }),
    h("p", { text: "If you signed in on a phone or computer you no longer have, sign out everywhere. You will need your password again here too." }),
    everywhere,
  ];
  if (me.role !== "parent") parts.unshift(...secondFactorSection(me));
  else parts.unshift(...(await familyNotices()));
  parts.unshift(...detailsSection(account), ...passwordSection());
  parts.push(
    h("h2", { text: "Your data" }),
    h("p", {
      text:
        me.role === "parent"
          ? "Download everything the school holds about you and your children: points, targets, their work, the stories with a photo of them, consent records, and your likes and comments."
          : "Download everything the school holds about you: your details, the stories you wrote and your comments.",
    }),
    exportControl("Download my data", {}, { describe: "your data" }),
  );
  if (me.role === "parent") parts.push(...closeAccountSection());
  return section("Your account", ...parts);
}

/** A parent closes their account: said plainly, and the password asked again. */
function closeAccountSection() {
  const password = h("input", { type: "password", autocomplete: "current-password", required: true, maxlength: 200 });
  const sure = h("input", { type: "checkbox", id: "close-sure", required: true });
  const button = h("button", { type: "submit", class: "danger", text: "Close my account" });
  const form = h(
    "form",
    { class: "stack" },
    field("Your password", { control: password }),
    h("div", { class: "check" }, sure, h("label", { for: "close-sure", text: "I understand this cannot be undone." })),
    button,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(button, "Closing…", async () => {
      await api("POST", URLS.closeAccount, { password: password.value });
      state.me = null;
      state.cache = {};
      go("");
      say("Your account is closed. Everything you wrote here now reads “removed”. Thank you for using Schoolgate.");
    });
  });
  return [
    h("h2", { text: "Close your account" }),
    h("p", { text: "If you close your account, you can no longer sign in, you stop being linked to your children here, and everything you wrote (comments, and what you told the school through Schoolgate) is deleted for good. Your children's own records stay with the school, which keeps them by its own rules. You may want to download your data first." }),
    form,
  ];
}

function secondFactorSection(me) {
  const box = h("div", { class: "stack" });
  const code = () => h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", required: true, minlength: 6, maxlength: 32 });
  const showOn = () => {
    const input = code();
    const off = h("button", { type: "submit", class: "secondary", text: "Turn off two-step sign-in" });
    const form = h("form", { class: "stack" }, field("A code from your app, to turn it off", { control: input }), off);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      working(off, "Turning off…", async () => {
        await api("POST", URLS.secondFactorOff, { code: input.value.trim() });
        fill(box, ...showOff());
        say("Two-step sign-in is off.");
      });
    });
    return [h("p", { text: "Two-step sign-in is on: signing in asks for a code from your phone." }), form];
  };
  const showOff = () => {
    const start = h("button", { type: "button", text: "Turn on two-step sign-in" });
    start.addEventListener("click", () =>
      working(start, "Preparing…", async () => {
        const begun = await api("POST", URLS.secondFactor);
        const input = code();
        const confirm = h("button", { type: "submit", text: "Turn it on" });
        const form = h("form", { class: "stack" }, field("The code your app shows now", { control: input }), confirm);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          working(confirm, "Checking…", async () => {
            const done = await api("POST", URLS.secondFactorConfirm, { code: input.value.trim() });
            fill(
              box,
              ...showOn(),
              h("h3", { text: "Your recovery codes" }),
              h("p", { text: "Keep these somewhere safe, away from your phone. Each works once, if you lose your phone. They are shown only now." }),
              h("ul", { class: "codes" }, done.recovery_codes.map((c) => h("li", { text: c }))),
            );
            say("Two-step sign-in is on.");
          });
        });
        fill(
          box,
          h("p", { text: "Scan this with an authenticator app on your phone (or type the key), then type the code it shows." }),
          svgImage(begun.qr_svg, "QR code for your authenticator app"),
          h("p", { text: `Key: ${begun.secret}` }),
          form,
        );
      }),
    );
    return [
      h("p", {
        text:
          me.second_factor === "asked"
            ? "Your school asks staff who see many children's details to sign in in two steps: your password, then a code from your phone."
            : "Signing in in two steps (your password, then a code from your phone) keeps children's details safe if your password is ever guessed.",
      }),
      start,
    ];
  };
  fill(box, ...(me.second_factor === "on" ? showOn() : showOff()));
  return [h("h2", { text: "Two-step sign-in" }), box];
}
