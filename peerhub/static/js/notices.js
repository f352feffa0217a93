// @ts-check
// Duty notices on every page (peerhub/templates/notify/_banner.html, peerhub/notify).
// The page already shows the signed-in person's unread notices; this module asks for
// them again every 20 seconds while the tab is visible (every 2 minutes while hidden),
// so a new one appears without a reload, plays a short tone for an urgent notice that
// arrives while the page is open (unless the person turned the sound off), and shows
// the control that turns the sound off or on. The choice is the person's, kept on the
// server (POST /api/notices/sound; the page gets it as data-sound on #duty-notices and
// in each poll's answer). Nothing is kept in the browser: which notices were already
// there is remembered only while the page is open, and nothing plays on page load.
// Without JavaScript the banner works as it is.

import { el } from "./dom.js";
import { _ } from "./i18n.js";

const VISIBLE_MS = 20_000;
const HIDDEN_MS = 120_000;
const MAX_MS = 600_000; // after failures, at most every 10 minutes

/** @typedef {{id: string, text: string, url: string, urgent: boolean}} Notice */

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

const section = /** @type {HTMLElement | null} */ (document.getElementById("duty-notices"));
const list = section?.querySelector(".duty-notice-list");
// The sound switch beside the notices, and on /account/notifications.
const soundButtons = /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".js-notice-sound"));

let soundOn = section?.dataset.sound !== "off";

function showSoundControl() {
  for (const button of soundButtons) {
    button.hidden = false;
    button.setAttribute("aria-pressed", String(soundOn));
    button.textContent = soundOn
      ? _("Sound for urgent notices: on (turn off)")
      : _("Sound for urgent notices: off (turn on)");
  }
}

/** The ids of the notices this page has shown (the ones it came with, then each poll's),
 * in memory only: a tone plays for an urgent notice that is not among them. */
const known = new Set(
  [.../** @type {NodeListOf<HTMLElement>} */ (list?.querySelectorAll("[data-notice]") ?? [])].map(
    (row) => row.dataset.notice || "",
  ),
);

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

/** Play the tone if a notice in `notices` is urgent and new to this page. @param {Notice[]} notices */
function ring(notices) {
  const fresh = notices.filter((n) => n.urgent && !known.has(n.id));
  for (const n of notices) known.add(n.id);
  if (fresh.length && soundOn) tone();
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
  ring(notices);
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
    if (typeof body.sound === "boolean" && body.sound !== soundOn) {
      soundOn = body.sound; // changed in another tab or browser
      showSoundControl();
    }
    if (Array.isArray(body.notices)) show(body.notices);
    failures = 0;
  } catch {
    failures = Math.min(failures + 1, 5);
  }
  schedule();
}

/** Ask the server to turn the sound on or off; the page follows its answer. @param {boolean} on */
async function chooseSound(on) {
  try {
    const response = await fetch("/api/notices/sound", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ on }),
    });
    if (!response.ok) return; // not changed: the button still says what is true
    const body = await response.json();
    if (typeof body.sound !== "boolean") return;
    soundOn = body.sound;
  } catch {
    return;
  }
  showSoundControl();
  // The settings page's checkbox says the same (it is saved with that form).
  const box = /** @type {HTMLInputElement | null} */ (document.getElementById("notice-sound"));
  if (box) box.checked = soundOn;
  if (soundOn) tone(); // a sample
}

showSoundControl();
for (const button of soundButtons) {
  button.addEventListener("click", () => {
    // Create the audio context during the click: browsers that wait for a touch allow it.
    try {
      audio = audio || new AudioContext();
      if (audio.state === "suspended") void audio.resume().catch(() => {});
    } catch {
      // No WebAudio: silent.
    }
    void chooseSound(!soundOn);
  });
}

if (section && list) {
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      failures = 0;
      void poll();
    } else schedule();
  });
  schedule();
}
