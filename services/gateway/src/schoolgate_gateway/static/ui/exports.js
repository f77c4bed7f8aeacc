// Taking data away: an archive built in the background, its progress shown, then a link.
import { api, sleep, URLS } from "../core/api.js";
import { fill, h } from "../core/dom.js";
import { say, working } from "../core/messages.js";

const POLL_MS = 700;

/**
 * A button that asks for an export (`body`: {} for your own data, {pupil_id} for a leader's
 * export of a pupil's record) and then shows how far it has got, and the download link.
 */
export function exportControl(label, body, { describe = "your data" } = {}) {
  const button = h("button", { type: "button", class: "secondary", text: label });
  const status = h("div", { class: "stack", "aria-live": "polite" });
  button.addEventListener("click", () =>
    working(button, "Starting…", async () => {
      let job = await api("POST", URLS.exports, body);
      const bar = h("progress", { max: "100", value: "0", "aria-label": `Preparing ${describe}` });
      fill(status, h("p", { text: `Preparing ${describe}. You can keep using Schoolgate meanwhile.` }), bar);
      while (job.status === "building") {
        bar.value = Math.round(job.progress * 100);
        await sleep(POLL_MS);
        if (!status.isConnected) return; // the page was left: the archive still waits a day
        job = await api("GET", URLS.exportJob(job.export_id));
      }
      if (job.status !== "ready") {
        fill(status, h("p", { role: "alert", text: job.reason || "That did not work. Please try again." }));
        return;
      }
      const until = new Date(job.expires_at).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
      fill(
        status,
        h("p", { text: `Ready. The link works until ${until}.` }),
        h("a", { class: "button-link", href: job.archive, download: "", text: "Download (zip)" }),
        h("p", { class: "hint", text: "Open index.html inside it to read it; data.json has the same for other programs." }),
      );
      say(`Your download of ${describe} is ready.`);
    }),
  );
  return h("div", { class: "stack" }, button, status);
}
