// "Notifications on this phone": this device's web push subscription, on or off, for the
// account page. What a browser cannot do, or a person has blocked, is said in plain words.
import { ApiError, dropPushSubscription, pushKey, savePushSubscription } from "../core/api.js";
import { checkbox, h, uid } from "../core/dom.js";
import { failed } from "../core/messages.js";
import { base64UrlToBytes, pushSupport, sameKey } from "../core/push.js";

const SAYS = {
  unsupported:
    "This browser cannot show notifications from Schoolgate. On an iPhone or iPad, add Schoolgate" +
    " to your Home Screen first (Share, then Add to Home Screen) and open it from there.",
  denied:
    "Notifications from Schoolgate are blocked on this phone. To get them, allow notifications" +
    " for this site in your browser's settings, then come back here.",
  dismissed: "Notifications were not allowed, so nothing has changed.",
  trouble: "This phone could not change its notifications just now. Please try again later.",
  on: "Schoolgate can tell you on this phone when something new arrives, even when the app is closed.",
  off: "Turn this on to be told on this phone when something new arrives. Everything still waits for you in the app.",
};

/** The worker that receives pushes: registered as the page loads (app.js); null if it never is. */
async function workerRegistration() {
  if (!("serviceWorker" in navigator)) return null;
  const late = new Promise((done) => setTimeout(() => done(null), 10000));
  return Promise.race([navigator.serviceWorker.ready, late]);
}

async function currentSubscription() {
  const registration = await workerRegistration();
  return registration ? registration.pushManager.getSubscription() : null;
}

/** Subscribe this device and tell the server; "on", or why not. */
async function turnOn() {
  const permission = await Notification.requestPermission();
  if (permission === "denied") return "denied";
  if (permission !== "granted") return "dismissed";
  const registration = await workerRegistration();
  if (!registration) return "unsupported";
  const key = base64UrlToBytes(await pushKey());
  let subscription = await registration.pushManager.getSubscription();
  // made with a key the server no longer signs with: pushes to it would be refused
  if (subscription && !sameKey(subscription.options?.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  try {
    await savePushSubscription(subscription.toJSON());
  } catch (error) {
    // half on (the browser subscribed, the server never heard) would look on and stay silent
    await subscription.unsubscribe().catch(() => {});
    throw error;
  }
  return "on";
}

/** Stop pushes to this device, on the server and in the browser. Safe to call when off. */
export async function forgetThisDevice() {
  if (pushSupport() === "unsupported") return;
  const subscription = await currentSubscription();
  if (!subscription) return;
  await dropPushSubscription(subscription.endpoint);
  await subscription.unsubscribe();
}

/** The switch and the words under it. */
export function pushToggle() {
  const noteId = uid("push-note");
  const box = checkbox("Notifications on this phone", { role: "switch", disabled: true, "aria-describedby": noteId });
  const input = box.querySelector("input");
  const note = h("p", { class: "hint", id: noteId });
  const show = (said, on) => {
    input.checked = on;
    input.disabled = said === "unsupported" || said === "denied";
    note.textContent = SAYS[said];
  };

  const support = pushSupport();
  if (support === "unsupported" || support === "denied") {
    show(support, false);
  } else {
    currentSubscription().then(
      (subscription) => show(subscription && support === "granted" ? "on" : "off", Boolean(subscription && support === "granted")),
      () => show("unsupported", false),
    );
  }

  input.addEventListener("change", async () => {
    const wanted = input.checked;
    input.disabled = true;
    try {
      if (wanted) {
        const said = await turnOn();
        show(said, said === "on");
      } else {
        await forgetThisDevice();
        show("off", false);
      }
    } catch (error) {
      show(wanted ? "off" : "on", !wanted);
      // the browser's own errors (its push service unreachable...) are not words for people
      failed(error instanceof ApiError ? error : new Error(SAYS.trouble));
    }
  });

  return h("div", { class: "push-toggle" }, box, note);
}
