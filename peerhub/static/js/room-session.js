// @ts-check
// The room's session: a line saying whether a session is open or why the room cannot be
// written in; "No moderator is here right now" at the top for as long as that is true,
// with the next session and the crisis contacts; and, on the moderators' page, the
// controls that open and close the session and keep the room to sessions only. What
// they show is the room's state as the server last sent it (room-state.js).

import { el, withNodes } from "./dom.js";
import { _ } from "./i18n.js";

/** @typedef {import("./room-state.js").RoomState} RoomState */
/**
 * @typedef {object} SessionDeps
 * @property {RoomState} st
 * @property {import("./realtime.js").RealtimeClient} client
 * @property {(text: string) => void} announce
 * @property {() => void} onChange the room's state was shown (the composer follows it)
 */

/** @param {SessionDeps} deps */
export function setupSession({ st, client, announce, onChange }) {
  /** The page's element with this id (the room's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const stateEl = $("room-state");
  const noModerator = $("no-moderator");
  const noModeratorText = $("no-moderator-text");
  const noModeratorHelp = $("no-moderator-help");
  const noModeratorToggle = $("no-moderator-toggle");
  // Only on the moderators' page.
  const sessionButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("session-toggle"));
  const modOnlyBox = /** @type {HTMLInputElement | null} */ (document.getElementById("moderator-only"));

  // The room's state as the room's state has it (a `subscribed` or `room` frame).
  function show() {
    const state = st.state;
    const lines = [];
    if (!state.writable) {
      // With no moderator here, the banner at the top already says why and until when.
      if (state.reason && state.moderator_present) lines.push(state.reason);
    } else if (state.session_open) lines.push(_("A session is open."));
    stateEl.textContent = lines.join(" ");
    stateEl.hidden = lines.length === 0;
    stateEl.classList.toggle("notice-warning", !state.writable);
    if (sessionButton) {
      sessionButton.textContent = state.session_open ? _("Close the session") : _("Open the session");
      sessionButton.disabled = false;
    }
    if (modOnlyBox) modOnlyBox.checked = Boolean(state.moderator_only);
    renderNoModerator();
    onChange();
  }

  // "No moderator is here right now", at the top, for as long as that is true.
  function renderNoModerator() {
    const state = st.state;
    const absent = Boolean(state) && !state.moderator_present;
    const wasShown = !noModerator.hidden;
    noModerator.hidden = !absent;
    if (!absent) {
      if (wasShown) announce(_("A moderator is here now."));
      return;
    }
    if (!wasShown) showBannerDetails(true); // each time it appears, in full
    const lines = [];
    if (state.session_open) lines.push(_("A session is open, but no moderator is in the room at the moment."));
    else if (state.next_session_text) lines.push(_("The next session is %(when)s.", { when: state.next_session_text }));
    else lines.push(_("No sessions are planned at the moment."));
    if (state.moderator_only) lines.push(_("You can read now, and write when a moderator is here."));
    else lines.push(_("You can still talk with the others here."));
    noModeratorText.textContent = lines.join(" ");
  }

  /** @param {boolean} shown */
  function showBannerDetails(shown) {
    noModeratorText.hidden = !shown;
    noModeratorHelp.hidden = !shown;
    noModeratorToggle.setAttribute("aria-expanded", shown ? "true" : "false");
    noModeratorToggle.replaceChildren(
      ...withNodes(shown ? _("Hide%(more)s") : _("Show more%(more)s"), {
        more: el("span", { className: "visually-hidden", text: _(" about the next session and who to contact now") }),
      }),
    );
  }
  noModeratorToggle.addEventListener("click", () => showBannerDetails(noModeratorHelp.hidden));

  if (sessionButton) {
    sessionButton.addEventListener("click", () => {
      sessionButton.disabled = true;
      client.sendFrame({ type: st.state && st.state.session_open ? "session.close" : "session.open", room: st.room });
    });
  }
  if (modOnlyBox) {
    modOnlyBox.addEventListener("change", () => {
      client.sendFrame({ type: "room.settings", room: st.room, moderator_only: modOnlyBox.checked });
    });
  }

  return { show };
}
