// @ts-check
// "Read aloud" on Easy Read pages (docs/easy-read.md): the browser's own speech
// synthesis reads the page's main text, one line at a time, in the page's language.
// Nothing is sent to PeerHub or anywhere else. The buttons stay hidden when the browser
// has no speech synthesis; when it has no voice for the page's language, the page says
// so instead of reading in the wrong language.
import { _, lang } from "./i18n.js";

const box = /** @type {HTMLElement | null} */ (document.querySelector(".read-aloud"));
const status = document.querySelector(".read-aloud-status");
const content = document.querySelector(".easy-content");
const speech = window.speechSynthesis;

// One thing to say per idea: headings, Easy Read lines, paragraphs, list items, labels.
const READ = "h1, h2, h3, h4, p, li, dt, dd, legend, label, summary";

/**
 * "cy-GB", "cy_GB" and "CY" all answer "cy"; "zh-Hant-HK" answers "zh".
 * @param {string | null | undefined} tag
 */
function primary(tag) {
  return String(tag || "").replace(/_/g, "-").split("-")[0].toLowerCase();
}

/**
 * The browser's voice for `tag`: the same language and region first, then the language.
 * @param {SpeechSynthesisVoice[]} voices
 * @param {string} tag
 * @returns {SpeechSynthesisVoice | null}
 */
export function voiceFor(voices, tag) {
  const want = String(tag).replace(/_/g, "-").toLowerCase();
  const exact = voices.find((v) => String(v.lang).replace(/_/g, "-").toLowerCase() === want);
  return exact || voices.find((v) => primary(v.lang) === primary(tag)) || null;
}

/**
 * The page's text as lines to say, in reading order, without hidden or skipped parts.
 * @param {ParentNode} root
 */
export function linesOf(root) {
  /** @type {{ el: Element, text: string }[]} */
  const lines = [];
  for (const el of root.querySelectorAll(READ)) {
    if (el.closest("[data-no-read], [hidden], [aria-hidden='true'], .visually-hidden")) continue;
    // A block holding another block is said through its parts.
    if (el.querySelector(READ)) continue;
    const text = /** @type {string} */ (el.textContent).replace(/\s+/g, " ").trim();
    if (text) lines.push({ el, text });
  }
  return lines;
}

function setup() {
  if (!box || !content || !speech || typeof window.SpeechSynthesisUtterance !== "function") {
    return; // no speech in this browser: the buttons stay hidden
  }
  const start = /** @type {HTMLElement} */ (box.querySelector(".read-aloud-start"));
  const stop = /** @type {HTMLElement} */ (box.querySelector(".read-aloud-stop"));
  /** @type {SpeechSynthesisVoice | null} */
  let voice = null;
  let reading = false;

  function unmark() {
    for (const el of /** @type {Element} */ (content).querySelectorAll(".reading")) el.classList.remove("reading");
  }

  function finish() {
    reading = false;
    unmark();
    stop.hidden = true;
    start.hidden = false;
  }

  function offer() {
    voice = voiceFor(speech.getVoices() || [], lang);
    if (voice) {
      /** @type {HTMLElement} */ (box).hidden = false;
      if (status) status.textContent = "";
    }
    return Boolean(voice);
  }

  function say() {
    const lines = linesOf(/** @type {Element} */ (content));
    if (!lines.length) return;
    speech.cancel();
    reading = true;
    start.hidden = true;
    stop.hidden = false;
    stop.focus();
    lines.forEach(({ el, text }, index) => {
      const utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = voice && voice.lang ? voice.lang : lang;
      try {
        utterance.voice = voice;
      } catch {
        // A voice the browser will not take: it chooses one for the language itself.
      }
      utterance.rate = 0.9; // a little slower than usual: easier to follow
      utterance.addEventListener("start", () => {
        unmark();
        el.classList.add("reading");
      });
      if (index === lines.length - 1) {
        utterance.addEventListener("end", finish);
        utterance.addEventListener("error", finish);
      }
      speech.speak(utterance);
    });
  }

  start.addEventListener("click", say);
  stop.addEventListener("click", () => {
    speech.cancel();
    finish();
    start.focus();
  });
  window.addEventListener("pagehide", () => {
    if (reading) speech.cancel();
  });

  // Voices may arrive a moment after the page: offer the button when one for the page's
  // language does. When the browser has voices, but none for this language (Welsh, say),
  // the page says so; with no voices at all it says nothing.
  function check() {
    if (offer()) return;
    const voices = speech.getVoices() || [];
    if (status && voices.length) {
      status.textContent = _("Your browser cannot read this page aloud in this language.");
    }
  }
  check();
  if (!voice && typeof speech.addEventListener === "function") {
    speech.addEventListener("voiceschanged", check);
  }
}

setup();
