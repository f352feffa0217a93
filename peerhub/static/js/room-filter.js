// @ts-check
// What a person's mutes and blocks hide in the list of messages: a blocked person's
// messages (and those of a sender hidden from the menu) are gone from the page; a muted
// person's, or a message with a muted word, stand as "Hidden: …" with "Show it" in their
// place, and a line above the list counts them. Which people and words are muted is
// personal.js; the messages shown one by one are in the room's state (room-state.js).

import { el, focusSafely, timeOf } from "./dom.js";
import { _, ngettext } from "./i18n.js";
import { isMine, reveal } from "./room-state.js";

/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-state.js").RoomState} RoomState */

/**
 * @param {{ st: RoomState, personal: ReturnType<typeof import("./personal.js").setupPersonal> }} deps
 */
export function setupFilter({ st, personal }) {
  const list = /** @type {HTMLElement} */ (document.getElementById("messages"));
  const hiddenCount = /** @type {HTMLElement} */ (document.getElementById("hidden-count"));

  /** @param {Message} message */
  function reasonFor(message) {
    if (message.sender && st.hidden.has(message.sender.id) && !isMine(st, message)) return "blocked";
    if (message.status === "redacted") return null;
    return personal.hiddenReason(message, st.me ? st.me.id : null);
  }

  /** @param {HTMLElement} item @param {Message} message */
  function applyFilter(item, message) {
    const old = item.querySelector(".message-placeholder");
    if (old) old.remove();
    item.classList.remove("message-muted");
    item.hidden = false;
    const why = reasonFor(message);
    if (why === "blocked") {
      item.hidden = true; // never shown again on this page
      return;
    }
    if (!why || st.revealed.has(message.seq)) return;
    item.classList.add("message-muted");
    const text = why === "word" ? _("Hidden: it has a word you muted.") : _("Hidden: it is from someone you muted.");
    item.prepend(
      el(
        "p",
        { className: "message-placeholder" },
        el("span", { text }),
        " ",
        el(
          "button",
          {
            type: "button",
            className: "button button-secondary button-small",
            onclick: () => {
              reveal(st, message.seq);
              applyFilter(item, st.known.get(message.seq) || message);
              updateHiddenCount();
              focusSafely(item);
            },
          },
          _("Show it"),
          message.at ? el("span", { className: "visually-hidden", text: _(" (the message at %(time)s)", { time: timeOf(message.at) }) }) : null,
        ),
      ),
    );
  }

  function updateHiddenCount() {
    const count = list.querySelectorAll("li.message-muted").length;
    hiddenCount.hidden = count === 0;
    hiddenCount.textContent = count
      ? ngettext(
          "%(num)s hidden message. Use “Show it” in a message’s place to see it.",
          "%(num)s hidden messages. Use “Show it” in a message’s place to see it.",
          count,
        )
      : "";
  }

  return { applyFilter, updateHiddenCount };
}
