// One polite status and one alert for the whole page, and what a failed request says.
import { $, busy, h } from "./dom.js";
import { go } from "./router.js";
import { state } from "./state.js";

/** A "Check again" button that runs `load` again and says when it has. */
export function checkAgain(load) {
  const button = h("button", { type: "button", class: "secondary", text: "Check again" });
  button.addEventListener("click", () =>
    working(button, "Checking…", async () => {
      await load();
      say("Updated just now.");
    }),
  );
  return button;
}

/** Run `work` for a form's submit button: shows it is busy, and says what went wrong. */
export async function working(button, label, work) {
  busy(button, true, label);
  try {
    return await work();
  } catch (error) {
    failed(error);
    return undefined;
  } finally {
    if (button.isConnected) busy(button, false);
  }
}

let messageSeq = 0;

/** After `fade` ms, take the message away by itself unless another was said since. */
function fading(seq, fade) {
  if (fade) {
    setTimeout(() => {
      if (seq === messageSeq) clearMessages();
    }, fade);
  }
}

export function say(text, { fade } = {}) {
  const seq = ++messageSeq;
  $("alert").textContent = "";
  $("status").textContent = "";
  // Cleared first so the same words said twice are announced twice.
  setTimeout(() => {
    if (seq === messageSeq) $("status").textContent = text;
  }, 30);
  fading(seq, fade);
}

export function warn(text, { fade } = {}) {
  const seq = ++messageSeq;
  $("status").textContent = "";
  $("alert").textContent = text;
  fading(seq, fade);
}

export function clearMessages() {
  ++messageSeq;
  $("status").textContent = "";
  $("alert").textContent = "";
}

export function failed(error) {
  if (error.status === 401 && state.me) {
    state.me = null;
    state.cache = {};
    go("");
    warn("You have been signed out. Please sign in again.");
    return;
  }
  warn(error.message || "That did not work. Please try again.");
}

/** Errors of background refreshes: say nothing unless the person was signed out. */
export function quietly(error) {
  if (error?.status === 401) failed(error);
}
