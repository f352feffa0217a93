// @ts-check
// A person's own mutes and blocks: the "Your mutes and blocks" panel, and which
// messages they hide on this page.
//
// The server already stops sending new messages from muted and blocked people;
// this hides what is on the page already, and messages with a muted word (whole
// words or phrases, any case). Muted messages can be shown one at a time; a blocked
// person's never.

import { act } from "./dialogs.js";
import { el } from "./dom.js";
import { _ } from "./i18n.js";

// Characters that mean something in a RegExp (with the u flag only these may be escaped).
const SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/** @param {string[]} words */
export function wordPattern(words) {
  const parts = words
    .map((w) => w.trim())
    .filter(Boolean)
    .map((w) => w.split(/\s+/).map((part) => part.replace(SPECIAL, "\\$&")).join("\\s+"));
  if (!parts.length) return null;
  // Whole words: no letter, digit or underscore on either side.
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${parts.join("|")})(?![\\p{L}\\p{N}_])`, "iu");
}

/**
 * @param {import("./room-menu.js").Api} api
 * @param {() => void} onChange
 */
export function setupPersonal(api, onChange) {
  /** The page's element with this id (the room page always has these). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const wordsList = $("muted-words");
  const wordsCount = $("muted-words-count");
  const wordForm = $("mute-word-form");
  const wordInput = /** @type {HTMLInputElement} */ ($("mute-word"));
  const peopleList = $("muted-people");
  const peopleCount = $("muted-people-count");
  const peopleEmpty = $("muted-people-empty");
  const wordsEmpty = $("muted-words-empty");

  /** @type {string[]} */
  let words = [];
  /** @type {RegExp | null} */
  let pattern = null;
  const muted = new Map(); // id -> name
  const blocked = new Map(); // id -> name

  function renderLists() {
    wordsList.replaceChildren(
      ...words.map((word) =>
        el(
          "li",
          {},
          el("span", { className: "chip-text", text: word }),
          " ",
          el(
            "button",
            {
              type: "button",
              className: "button button-secondary button-small",
              onclick: () =>
                act(api, { type: "me.unmute", kind: "word", value: word }, _("“%(word)s” is no longer muted.", { word })).then(() =>
                  wordInput.focus(),
                ),
            },
            _("Unmute"),
            el("span", { className: "visually-hidden", text: _(" the word %(word)s", { word }) }),
          ),
        ),
      ),
    );
    wordsCount.textContent = String(words.length);
    wordsEmpty.hidden = words.length > 0;

    /** @type {{ id: string, name: string, kind: "blocked" | "muted" }[]} */
    const people = [];
    for (const [id, name] of blocked) people.push({ id, name, kind: "blocked" });
    for (const [id, name] of muted) if (!blocked.has(id)) people.push({ id, name, kind: "muted" });
    people.sort((a, b) => a.name.localeCompare(b.name));
    peopleList.replaceChildren(
      ...people.map((p) =>
        el(
          "li",
          {},
          el("span", {
            className: "chip-text",
            text: p.kind === "blocked" ? _("%(name)s (blocked)", { name: p.name }) : _("%(name)s (muted)", { name: p.name }),
          }),
          " ",
          el(
            "button",
            {
              type: "button",
              className: "button button-secondary button-small",
              onclick: () =>
                act(
                  api,
                  p.kind === "blocked" ? { type: "me.unblock", user: p.id } : { type: "me.unmute", kind: "person", value: p.id },
                  p.kind === "blocked"
                    ? _("You have unblocked %(name)s.", { name: p.name })
                    : _("%(name)s is no longer muted.", { name: p.name }),
                ).then(() => {
                  const summary = peopleList.closest("details")?.querySelector("summary");
                  if (summary) summary.focus();
                }),
            },
            p.kind === "blocked" ? _("Unblock") : _("Unmute"),
            el("span", { className: "visually-hidden", text: ` ${p.name}` }),
          ),
        ),
      ),
    );
    peopleCount.textContent = String(people.length);
    peopleEmpty.hidden = people.length > 0;
  }

  /** @param {{ [field: string]: any } | null | undefined} controls the `me.controls` frame, or the `personal` part of `subscribed` */
  function update(controls) {
    if (!controls) return;
    words = Array.isArray(controls.muted_words) ? controls.muted_words : [];
    pattern = wordPattern(words);
    muted.clear();
    blocked.clear();
    for (const p of controls.muted_people || []) muted.set(p.id, p.name);
    for (const p of controls.blocked || []) blocked.set(p.id, p.name);
    renderLists();
    onChange();
  }

  wordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = wordInput.value.replace(/\s+/g, " ").trim();
    if (!value) {
      api.notify(_("Type a word or phrase to mute first."));
      wordInput.focus();
      return;
    }
    if (await act(api, { type: "me.mute", kind: "word", value }, _("“%(value)s” is muted: messages with it are hidden for you.", { value }))) {
      wordInput.value = "";
    }
    wordInput.focus();
  });

  return {
    update,
    isMuted: (/** @type {string} */ id) => muted.has(id),
    isBlocked: (/** @type {string} */ id) => blocked.has(id),
    // Why a message is hidden from this person: "blocked", "person", "word" or null.
    /**
     * @param {import("./room-menu.js").Message} message
     * @param {string | null | undefined} meId
     */
    hiddenReason(message, meId) {
      if (message.kind !== "text" || !message.sender || message.sender.id === meId) return null;
      if (blocked.has(message.sender.id)) return "blocked";
      if (muted.has(message.sender.id)) return "person";
      if (pattern && typeof message.body === "string" && pattern.test(message.body)) return "word";
      return null;
    },
  };
}
