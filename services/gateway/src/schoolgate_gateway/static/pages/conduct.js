import { api, caughtUp, consent } from "../core/api.js";
import { field, h, section } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { longDate } from "../core/words.js";

/** Leaders: the code of conduct every parent agrees to before they see anything. */
export async function conductView() {
  const current = await api("GET", consent("/code-of-conduct")).catch((error) => {
    if (error.status === 404) return null;
    throw error;
  });
  const text = h("textarea", { required: true, maxlength: 20000, rows: 12 });
  text.value = current?.text || "";
  const status = h("p", { text: current ? `Version ${current.version}, published ${longDate(current.published_at)}.` : "Your school has no code of conduct yet: parents can join without agreeing to one." });
  const publish = h("button", { type: "submit", text: "Publish this version" });
  const form = h("form", { class: "stack" },
    field("Its words", { control: text, hint: "Plain words. Leave a blank line between paragraphs." }),
    publish);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    working(publish, "Publishing…", async () => {
      const { version } = await api("PUT", consent("/code-of-conduct"), { text: text.value.trim() });
      await caughtUp();
      status.textContent = `Version ${version}, published today.`;
      say(`Version ${version} is published. Every parent is asked to agree to it the next time they open Schoolgate.`);
    });
  });
  return section(
    "Code of conduct",
    h("p", { text: "How the school asks families to behave towards staff and each other. Each time you publish a change, parents agree to the new version before they see anything else." }),
    status,
    form,
  );
}
