// PeerHub's service worker (served at /sw.js, so its scope is the whole site). It only
// shows duty notifications sent by Web Push (peerhub/notify/push.py) and opens their
// link when clicked. A push carries the notice's generic title and text and a link on
// this site, already in the person's language: never anyone's words or names, since it
// shows on a lock screen (docs/notifications.md). It caches nothing.
/* eslint-env serviceworker */

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const title = typeof data.title === "string" && data.title ? data.title : "PeerHub";
  const body = typeof data.body === "string" ? data.body : "";
  const url = typeof data.url === "string" ? data.url : "/";
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      data: { url },
      icon: "/static/apple-touch-icon.png",
      tag: url,
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (w.url === target.href && "focus" in w) return w.focus();
      }
      return self.clients.openWindow(target.href);
    }),
  );
});
