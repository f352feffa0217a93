// @ts-check
// Duty notices on every page (peerhub/templates/notify/_banner.html, peerhub/notify).
// The page already shows the signed-in person's unread notices; this module asks for
// them again every 20 seconds while the tab is visible (every 2 minutes while hidden),
// so a new one appears without a reload, plays a short tone for a new urgent notice
// (unless the person turned the sound off: remembered in localStorage), and shows the
// control that turns the sound off. Without JavaScript the banner works as it is.

import { el } from "./dom.js";
import { _ } from "./i18n.js";

const VISIBLE_MS = 20_000;
const HIDDEN_MS = 120_000;
const MAX_MS = 600_000; // after failures, at most every 10 minutes
const SOUND_KEY = "peerhub.notices.sound";
const HEARD_KEY = "peerhub.notices.heard";

/** @typedef {{id: string, text: string, url: string, urgent: boolean}} Notice */

const section = /** @type {HTMLElement | null} */ (document.getElementById("duty-notices"));
const list = section?.querySelector(".duty-notice-list");
// The sound switch beside the notices, and on /account/notifications.
const soundButtons = /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".js-notice-sound"));

/** localStorage can be refused (private modes, settings): then nothing is remembered. */
function stored(/** @type {string} */ key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** @param {string} key @param {string} value */
function store(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Not remembered: the choice lasts while the page is open.
  }
}

let soundOn = stored(SOUND_KEY) !== "off";

function showSoundControl() {
  for (const button of soundButtons) {
    button.hidden = false;
    button.setAttribute("aria-pressed", String(soundOn));
    button.textContent = soundOn
      ? _("Sound for urgent notices: on (turn off)")
      : _("Sound for urgent notices: off (turn on)");
  }
}

/** The ids of urgent notices already played, so a tone plays once per notice. */
function heard() {
  try {
    const value = JSON.parse(stored(HEARD_KEY) || "[]");
    return new Set(Array.isArray(value) ? value.filter((v) => typeof v === "string") : []);
  } catch {
    return new Set();
  }
}

/** @type {AudioContext | null} */
let audio = null;

/** A short two-note tone, generated (no sound file). Browsers may refuse to play before
 * the person has touched the page; then it stays silent and the banner still shows. */
function tone() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") void audio.resume().catch(() => {});
    const start = audio.currentTime;
    for (const [i, frequency] of [660, 880].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.25 + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + i * 0.25);
      osc.stop(start + i * 0.25 + 0.24);
    }
  } catch {
    // No WebAudio: silent.
  }
}

/** Play the tone for urgent notices not played before (on any page). @param {string[]} urgent */
function ring(urgent) {
  const done = heard();
  const fresh = urgent.filter((id) => !done.has(id));
  if (!fresh.length) return;
  for (const id of fresh) done.add(id);
  store(HEARD_KEY, JSON.stringify([...done].slice(-50)));
  if (soundOn) tone();
}

/** One notice, as the server draws it: a link and a "Mark as seen" form. @param {Notice} n */
function item(n) {
  const csrf = section?.dataset.csrf || "";
  const next = section?.dataset.next || "/";
  return el(
    "li",
    {
      className: `notice duty-notice${n.urgent ? " duty-notice-urgent" : ""}`,
      dataset: { notice: n.id, ...(n.urgent ? { urgent: "" } : {}) },
    },
    el("a", { href: n.url, text: n.text }),
    el(
      "form",
      { method: "post", action: `/notices/${encodeURIComponent(n.id)}/seen` },
      el("input", { type: "hidden", name: "csrf_token", value: csrf }),
      el("input", { type: "hidden", name: "next", value: next }),
      el("button", {
        type: "submit",
        className: "button button-secondary button-small",
        text: _("Mark as seen"),
      }),
    ),
  );
}

/** Show exactly `notices` (newest first), keeping the rows already there. @param {Notice[]} notices */
function show(notices) {
  if (!section || !list) return;
  const wanted = new Set(notices.map((n) => n.id));
  for (const row of /** @type {NodeListOf<HTMLElement>} */ (list.querySelectorAll("[data-notice]"))) {
    if (!wanted.has(row.dataset.notice || "")) row.remove();
  }
  /** @type {Element | null} */
  let before = list.firstElementChild;
  for (const n of notices) {
    const existing = list.querySelector(`[data-notice="${CSS.escape(n.id)}"]`);
    if (existing) {
      before = existing.nextElementSibling;
      continue;
    }
    list.insertBefore(item(n), before);
  }
  section.hidden = notices.length === 0;
  ring(notices.filter((n) => n.urgent).map((n) => n.id));
}

let failures = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;

function schedule() {
  clearTimeout(timer);
  const base = document.hidden ? HIDDEN_MS : VISIBLE_MS;
  timer = setTimeout(poll, Math.min(base * 2 ** failures, MAX_MS));
}

async function poll() {
  try {
    const response = await fetch("/api/notices/unread", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) return; // signed out elsewhere: stop asking
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    if (Array.isArray(body.notices)) show(body.notices);
    failures = 0;
  } catch {
    failures = Math.min(failures + 1, 5);
  }
  schedule();
}

showSoundControl();
for (const button of soundButtons) {
  button.addEventListener("click", () => {
    soundOn = !soundOn;
    store(SOUND_KEY, soundOn ? "on" : "off");
    showSoundControl();
    if (soundOn) tone(); // a sample, and it unlocks audio in browsers that wait for a touch
  });
}

if (section && list) {
  // The notices the page came with: a new urgent one rings here too.
  ring(
    [.../** @type {NodeListOf<HTMLElement>} */ (list.querySelectorAll("[data-notice][data-urgent]"))].map(
      (row) => row.dataset.notice || "",
    ),
  );
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      failures = 0;
      void poll();
    } else schedule();
  });
  schedule();
}
