// @ts-check
// "Notifications in this browser" on /account/notifications: subscribes this browser
// to Web Push with the deployment's VAPID key (the service worker at /sw.js shows what
// arrives) and gives PeerHub the subscription, or removes it. The page says how without
// JavaScript; the buttons show only where the browser can do it.

import { _ } from "./i18n.js";

const section = /** @type {HTMLElement | null} */ (document.getElementById("this-browser"));
const onButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("push-on"));
const offButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("push-off"));
const stateEl = document.getElementById("push-state");
const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

/** @param {string} text */
function say(text) {
  if (stateEl) stateEl.textContent = text;
}

/** The VAPID public key (base64url) as the bytes PushManager wants. @param {string} text */
function keyBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** @param {string} path @param {unknown} body */
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(String(response.status));
}

/** @param {PushSubscription | null} subscription */
function showState(subscription) {
  if (!onButton || !offButton) return;
  onButton.hidden = Boolean(subscription);
  offButton.hidden = !subscription;
  say(
    subscription
      ? _("Notifications are on in this browser.")
      : _("Notifications are off in this browser."),
  );
}

async function setUp() {
  if (!section || !onButton || !offButton) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say(_("This browser cannot show notifications from PeerHub."));
    return;
  }
  for (const hint of /** @type {NodeListOf<HTMLElement>} */ (section.querySelectorAll(".js-only-hint"))) {
    hint.hidden = true;
  }
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  showState(await registration.pushManager.getSubscription());

  onButton.addEventListener("click", async () => {
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say(_("Your browser is set not to show notifications from PeerHub. You can change that in the browser’s settings for this site."));
        return;
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(section.dataset.vapid || ""),
      });
      await post("/api/notices/push", subscription.toJSON());
      showState(subscription);
    } catch {
      say(_("Notifications could not be turned on in this browser. Please try again."));
    }
  });

  offButton.addEventListener("click", async () => {
    try {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await post("/api/notices/push/remove", { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      showState(null);
    } catch {
      say(_("Notifications could not be turned off in this browser. Please try again."));
    }
  });
}

void setUp();
