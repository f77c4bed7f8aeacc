import { api, URLS } from "../core/api.js";
import { checkbox, field, h, section } from "../core/dom.js";
import { say, warn, working } from "../core/messages.js";
import { render, signedIn } from "../core/router.js";
import { WEEKDAYS } from "../core/words.js";

/** The head teacher opens a new school with the one-time link the server printed. */
export function openSchoolView(token) {
  const name = h("input", { type: "text", autocomplete: "organization", required: true, maxlength: 200 });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/London";
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [here];
  const timezone = h(
    "select",
    { required: true },
    [...new Set(["Europe/London", here, ...zones])].map((zone) => h("option", { value: zone, text: zone.replaceAll("_", " "), selected: zone === "Europe/London" })),
  );
  const starts = h("input", { type: "time", value: "08:00", required: true });
  const ends = h("input", { type: "time", value: "17:00", required: true });
  const days = WEEKDAYS.map((day, index) => checkbox(day, { value: String(index), checked: index < 5 }));
  const you = h("input", { type: "text", autocomplete: "name", required: true, maxlength: 100 });
  const email = h("input", { type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const password = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const again = h("input", { type: "password", autocomplete: "new-password", minlength: 10, required: true });
  const button = h("button", { type: "submit", text: "Open our school" });
  const form = h(
    "form",
    { class: "stack" },
    h("h2", { text: "Your school" }),
    field("School name", { control: name, hint: "As families know it, e.g. Elm Road Primary School." }),
    field("Timezone", { control: timezone, hint: "Days, weeks and quiet hours are counted in it." }),
    h("fieldset", null, h("legend", { text: "School days" }), ...days),
    field("The school day starts at", { control: starts }),
    field("and ends at", { control: ends, hint: "Messages to staff wait outside these hours." }),
    h("h2", { text: "You, the head teacher" }),
    field("Your name", { control: you, hint: "As families and staff will see it, e.g. Mrs Okafor." }),
    field("Your email", { control: email }),
    field("Password", { control: password, hint: "At least 10 characters. A few words together are easy to remember." }),
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
    const workingDays = days.map((d) => d.querySelector("input")).filter((input) => input.checked).map((input) => Number(input.value));
    if (!workingDays.length) {
      warn("Please tick at least one school day.");
      return;
    }
    await working(button, "Opening your school…", async () => {
      const me = await api("POST", URLS.opening, {
        token,
        school: { name: name.value.trim(), timezone: timezone.value, working_days: workingDays, day_starts: starts.value, day_ends: ends.value },
        leader: { display_name: you.value.trim(), email: email.value.trim(), password: password.value },
      });
      signedIn(me);
      history.replaceState(null, "", "/");
      await render();
      say(`${me.school_name} is open. Welcome, ${me.display_name}.`);
    });
  });
  return section(
    "Open your school",
    h("p", { text: "Welcome to Schoolgate. Tell us about your school and make your own account: you will be its first leader, and can then invite your staff. This link works once." }),
    form,
  );
}
