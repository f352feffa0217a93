// @ts-check
// Where the list of messages is scrolled, and what the person has read. The room opens
// at the newest message, or at the first one the person has not read (with a "New
// messages" line), reading back a few pages if need be; at the newest it follows new
// messages, and elsewhere it offers a way down. A message counts as read once it has
// been on screen in the list: the read position goes to the server (a `read` frame), so
// it survives a reload and follows the person to another device. The cursors are in the
// room's state (room-state.js).

import { el } from "./dom.js";
import { _ } from "./i18n.js";
import { UNREAD_PAGES, markOpened, markRead, readBack } from "./room-state.js";

/** @typedef {import("./room-state.js").RoomState} RoomState */

const READ_DELAY_MS = 1000;
// Within this many pixels of the end, the list is "at the newest" and follows new ones.
const NEAR_END_PX = 48;

/**
 * @param {{ st: RoomState, client: import("./realtime.js").RealtimeClient, onOpened: () => void }} deps
 * onOpened: the room has opened (the list may now say it is empty)
 */
export function setupScroll({ st, client, onOpened }) {
  const list = /** @type {HTMLElement} */ (document.getElementById("messages"));
  const logEl = /** @type {HTMLElement} */ (list.parentElement);
  const jumpButton = /** @type {HTMLElement} */ (document.getElementById("jump-newest"));

  /** @type {HTMLElement | null} the "New messages" line */
  let marker = null;
  let following = true; // the list shows its newest message and follows new ones
  let followFrame = 0;
  /** @type {number | null} */
  let readTimer = null;

  function nearEnd() {
    return logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < NEAR_END_PX;
  }

  function toNewest() {
    logEl.scrollTop = logEl.scrollHeight;
    following = true;
    jumpButton.hidden = true;
  }

  // After something was added: stay at the newest if the list was there (once a frame,
  // however many messages came); otherwise offer a way down.
  function keepFollowing() {
    if (!st.opened) return;
    if (following) {
      if (!followFrame) {
        followFrame = requestAnimationFrame(() => {
          followFrame = 0;
          if (following) toNewest();
          scheduleRead();
        });
      }
    } else if (!nearEnd()) {
      jumpButton.hidden = false;
    }
  }

  // The first message after the read position that someone else wrote.
  function firstUnread() {
    for (const node of /** @type {HTMLCollectionOf<HTMLElement>} */ (list.children)) {
      const seq = Number(node.dataset.seq);
      if (!node.dataset.seq || !(seq > st.lastReadAtOpen) || node === marker || node.hidden) continue;
      if (node.classList.contains("message-own") || node.classList.contains("message-system")) continue;
      return node;
    }
    return null;
  }

  // Once, when the room has first caught up: open at the first unread message (reading
  // back a few pages if it is older than the latest page), else at the newest.
  function openAtTheRightPlace() {
    if (st.opened) return;
    if (st.lastReadAtOpen > 0 && st.minSeq !== null && st.minSeq > st.lastReadAtOpen + 1 && st.unreadPages < UNREAD_PAGES) {
      readBack(st);
      client.sendFrame({ type: "history", room: st.room, before_seq: st.minSeq, limit: 100 });
      return; // the history frame comes back here
    }
    markOpened(st);
    onOpened();
    const first = st.lastReadAtOpen > 0 ? firstUnread() : null;
    if (first) {
      marker = el("li", { className: "unread-marker", dataset: { seq: String(st.lastReadAtOpen + 0.5) } }, el("span", { text: _("New messages") }));
      first.before(marker);
      logEl.scrollTop = Math.max(0, marker.offsetTop - 8);
      following = nearEnd();
      jumpButton.hidden = following;
    } else {
      toNewest();
    }
    scheduleRead();
  }

  // The highest seq the person has had on screen: every message whose end is inside
  // the visible part of the list (and, at the newest, everything up to the latest seq).
  function readUpTo() {
    if (nearEnd()) return st.latestSeq;
    const limit = logEl.scrollTop + logEl.clientHeight;
    for (let node = /** @type {HTMLElement | null} */ (list.lastElementChild); node; node = /** @type {HTMLElement | null} */ (node.previousElementSibling)) {
      if (!node.dataset.seq || node === marker || node.hidden) continue;
      if (node.offsetTop + node.offsetHeight <= limit + 2) return Math.floor(Number(node.dataset.seq));
    }
    return 0;
  }

  function scheduleRead() {
    if (!st.opened || document.visibilityState !== "visible" || st.latestSeq <= st.readSent) return;
    // Not while the list is hidden behind the side panel on a narrow screen.
    if (!logEl.offsetParent) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      const upTo = readUpTo();
      if (upTo > st.readSent && client.sendFrame({ type: "read", room: st.room, seq: upTo })) markRead(st, upTo);
    }, READ_DELAY_MS);
  }

  // Earlier messages go above: keep what the person is reading where it is.
  /** @param {() => void} add */
  function keepPlace(add) {
    const fromEnd = logEl.scrollHeight - logEl.scrollTop;
    add();
    if (st.opened) logEl.scrollTop = logEl.scrollHeight - fromEnd;
  }

  logEl.addEventListener(
    "scroll",
    () => {
      if (!st.opened) return;
      following = nearEnd();
      jumpButton.hidden = following;
      scheduleRead();
    },
    { passive: true },
  );

  jumpButton.addEventListener("click", () => {
    toNewest();
    logEl.focus();
  });

  document.addEventListener("visibilitychange", scheduleRead);

  return {
    toNewest,
    keepFollowing,
    openAtTheRightPlace,
    scheduleRead,
    keepPlace,
    following: () => following,
    // The messages were cleared, the "New messages" line with them.
    forgetMarker: () => {
      marker = null;
    },
  };
}
