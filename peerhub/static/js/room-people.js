// @ts-check
// Who is here (the side panel's list, with moderators and organisers marked) and who is
// typing. Who is here is in the room's state (room-state.js); a typing notice lasts a
// few seconds unless the person types on.

import { el } from "./dom.js";
import { _ } from "./i18n.js";
import { presentPeople } from "./room-state.js";

/** @typedef {import("./room-state.js").RoomState} RoomState */

const TYPING_SHOWN_MS = 5000;

// A role's name as people read it; members are not marked.
/** @param {string | undefined} role */
export function roleText(role) {
  if (role === "moderator") return _("moderator");
  if (role === "organiser") return _("organiser");
  return null;
}

/** @param {{ st: RoomState }} deps */
export function setupPeople({ st }) {
  const presentEl = /** @type {HTMLElement} */ (document.getElementById("present"));
  const typingEl = /** @type {HTMLElement} */ (document.getElementById("typing"));
  /** @type {Map<string, { name: string, timer: number }>} user id -> who is typing */
  const typing = new Map();

  function renderPresence() {
    const people = presentPeople(st);
    presentEl.replaceChildren(
      ...people.map((p) =>
        el("li", {}, el("span", { text: p.name }), roleText(p.role) ? el("span", { className: "role", text: _(" (%(role)s)", { role: roleText(p.role) }) }) : null),
      ),
    );
    const count = document.getElementById("present-count");
    if (count) count.textContent = `${people.length}`;
  }

  function renderTyping() {
    const names = [...typing.values()].map((t) => t.name);
    if (!names.length) typingEl.textContent = "";
    else if (names.length === 1) typingEl.textContent = _("%(name)s is typing…", { name: names[0] });
    else if (names.length === 2) typingEl.textContent = _("%(first)s and %(second)s are typing…", { first: names[0], second: names[1] });
    else typingEl.textContent = _("Several people are typing…");
  }

  // A `typing` frame: someone is typing (shown for a few seconds).
  /** @param {import("./room-menu.js").Person} user */
  function typingFrom(user) {
    const before = typing.get(user.id);
    if (before) clearTimeout(before.timer);
    const timer = setTimeout(() => {
      typing.delete(user.id);
      renderTyping();
    }, TYPING_SHOWN_MS);
    typing.set(user.id, { name: user.name, timer });
    renderTyping();
  }

  return { renderPresence, typingFrom };
}
