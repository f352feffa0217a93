// @ts-check
// The room's state, apart from the page: the messages as last shown, who is here and
// their roles, where the person has read to (the cursors), the room's settings and the
// moderation that applies to the person, and the functions that change them. Nothing
// here touches the page or starts a timer: the view modules (room-messages.js,
// room-scroll.js, room-composer.js, room-notices.js, room-session.js, room-people.js)
// show this state, and room.js feeds it the server's frames. `now` is milliseconds
// since the epoch (Date.now() unless a caller says otherwise).

import { whenText } from "./dom.js";
import { _, ngettext } from "./i18n.js";

/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-menu.js").Person} Person */
/**
 * Someone in the room's presence list, as the server sent them.
 * @typedef {{ id: string, name: string, role?: string }} Present
 */
/**
 * What moderators have set, as this page knows it.
 * @typedef {object} Moderation
 * @property {number} slow slow mode's seconds between messages; 0 for off
 * @property {boolean} locked
 * @property {{ text: string, at: string } | null} pinned
 * @property {string | null} timedOutUntil your time-out's end (ISO), null for none
 * @property {string} timeoutReason
 */
/**
 * @typedef {object} RoomState
 * @property {string} room
 * @property {Person | null} me
 * @property {string} role your role in the room
 * @property {any} state the room's state as the server last sent it (docs/protocol.md), null before
 * @property {any} rules the ground rules as the server last sent them, null before
 * @property {Map<number, Message>} known seq -> the message as last shown
 * @property {Map<string, Message>} drafts client id -> your message before it has a seq
 * @property {Map<string, string>} notes client id -> why your held message waits (from its ack)
 * @property {Set<number>} approvalFetches history requests for messages a moderator approved (by before_seq)
 * @property {Map<string, Present>} present user id -> person
 * @property {Map<string, string>} roles user id -> role, as far as this page knows
 * @property {Map<string, string>} names user id -> name (system events name the moderator by id)
 * @property {Set<string>} hidden senders hidden on this page (the menu's hideSender)
 * @property {Set<number>} revealed seqs of muted messages the person chose to see
 * @property {number | null} minSeq the earliest seq shown
 * @property {number} latestSeq the newest seq known
 * @property {number} applied the highest seq whose room event has been applied
 * @property {number} readSent the read position last told to the server
 * @property {boolean} opened whether the room has opened at the first unread or the newest
 * @property {number} lastReadAtOpen the read position when the page opened
 * @property {number} unreadPages pages read back to find the first unread message
 * @property {Moderation} mod
 * @property {number} nextSendAt slow mode: not before this (ms since the epoch)
 * @property {{ messages: number, seen: number } | null} newcomer a new member's first messages that wait for a moderator
 * @property {boolean} newcomerToldOnce whether the held message's note was said aloud
 */
/**
 * What a room event asks of the page besides the state it changed: a message to show
 * again, an approved message to fetch, your time-out to set, the newcomer notice.
 * @typedef {{ changed?: number, approved?: number, timeout?: { until: string | null }, newcomer?: boolean }} EventEffect
 */

const STAFF = new Set(["moderator", "organiser"]);
// Opening at the first unread message reads back at most this many pages of 100.
export const UNREAD_PAGES = 4;

const HELD_OWN = _("Waiting for a moderator to look at it. Only you and the moderators can see it.");

/**
 * @param {string} room
 * @param {string} role
 * @returns {RoomState}
 */
export function createRoomState(room, role) {
  return {
    room,
    me: null,
    role,
    state: null,
    rules: null,
    known: new Map(),
    drafts: new Map(),
    notes: new Map(),
    approvalFetches: new Set(),
    present: new Map(),
    roles: new Map(),
    names: new Map(),
    hidden: new Set(),
    revealed: new Set(),
    minSeq: null,
    latestSeq: 0,
    applied: 0,
    readSent: 0,
    opened: false,
    lastReadAtOpen: 0,
    unreadPages: 0,
    mod: { slow: 0, locked: false, pinned: null, timedOutUntil: null, timeoutReason: "" },
    nextSendAt: 0,
    newcomer: null,
    newcomerToldOnce: false,
  };
}

// --- who is who ---------------------------------------------------------------------------

/** Moderators and organisers. @param {RoomState} st */
export function isStaff(st) {
  return STAFF.has(st.role);
}

/** @param {RoomState} st @param {Message} message */
export function isMine(st, message) {
  return Boolean(st.me && message.sender && message.sender.id === st.me.id);
}

/** @param {RoomState} st @param {string} userId */
export function roleOf(st, userId) {
  return st.roles.get(userId) || "member";
}

/** @param {RoomState} st @param {{ id?: string, name?: string, role?: string }[]} people */
export function setRoles(st, people) {
  for (const p of people) {
    if (p.id && p.role) st.roles.set(p.id, p.role);
    if (p.id && p.name) st.names.set(p.id, p.name);
  }
}

/** Who you are (the `welcome` frame). @param {RoomState} st @param {Person} user */
export function setMe(st, user) {
  st.me = user;
}

/** Hide a sender's messages on this page (the menu's block). @param {RoomState} st @param {string} userId */
export function hideSender(st, userId) {
  st.hidden.add(userId);
}

/** Show a muted message after all. @param {RoomState} st @param {number} seq */
export function reveal(st, seq) {
  st.revealed.add(seq);
}

/** Who is here, in full (the `subscribed` frame). @param {RoomState} st @param {Present[]} people */
export function setPresent(st, people) {
  st.present.clear();
  changePresence(st, people, []);
}

/** Who came and who left (the `presence` frame). @param {RoomState} st @param {Present[]} joined @param {string[]} left */
export function changePresence(st, joined, left) {
  for (const p of joined) st.present.set(p.id, p);
  for (const id of left) st.present.delete(id);
  setRoles(st, joined);
}

/** Who is here, by name. @param {RoomState} st */
export function presentPeople(st) {
  return [...st.present.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// --- the room as a whole ------------------------------------------------------------------

/**
 * What the `subscribed` frame says: your role, the rules, the room's state, who is here
 * and, before the room has opened, where you had read to.
 * @param {RoomState} st
 * @param {import("./realtime.js").Frame} frame
 */
export function applySubscribed(st, frame) {
  if (!st.opened) {
    st.lastReadAtOpen = frame.last_read || 0;
    st.readSent = Math.max(st.readSent, st.lastReadAtOpen);
  }
  if (frame.role) st.role = frame.role;
  st.rules = frame.rules;
  st.state = frame.state;
  setPresent(st, frame.present);
}

/**
 * The moderation the `subscribed` frame's extra carries (but your time-out, which
 * room-notices.js sets with its timer).
 * @param {RoomState} st
 * @param {{ [field: string]: any }} m
 */
export function applyModeration(st, m) {
  st.mod.slow = Number(m.slow_mode_seconds) || 0;
  st.mod.locked = Boolean(m.locked);
  st.mod.pinned = m.pinned && m.pinned.text ? m.pinned : null;
  st.newcomer = m.newcomer ? { messages: Number(m.newcomer.messages) || 0, seen: Number(m.newcomer.seen) || 0 } : null;
}

/** The room's state as the server sent it (a `room` frame). @param {RoomState} st @param {any} state */
export function setRoomState(st, state) {
  st.state = state;
}

/** The person accepted the rules, or the server says they have not. @param {RoomState} st @param {boolean} accepted */
export function setRulesAccepted(st, accepted) {
  st.rules = { ...st.rules, accepted };
}

/** Whether the composer may be used: the room writable, the rules accepted, connected. @param {RoomState} st @param {boolean} connected */
export function canWrite(st, connected) {
  const rulesOk = !st.rules || st.rules.accepted;
  return Boolean(st.state && st.state.writable && rulesOk && connected);
}

// --- your time-out, the lock and slow mode ------------------------------------------------

/** @param {RoomState} st @param {number} [now] */
export function timedOut(st, now = Date.now()) {
  return st.mod.timedOutUntil !== null && Date.parse(st.mod.timedOutUntil) > now;
}

/**
 * Your time-out: until is an ISO time or null; reason is text, or null to keep the one
 * known for this until. Returns the milliseconds until it ends (a little after, so
 * that it has), for a timer, or null when there is none.
 * @param {RoomState} st
 * @param {string | null} until
 * @param {string | null} reason
 * @param {number} [now]
 * @returns {number | null}
 */
export function setTimedOut(st, until, reason, now = Date.now()) {
  if (!until || Date.parse(until) <= now) {
    st.mod.timedOutUntil = null;
    st.mod.timeoutReason = "";
    return null;
  }
  if (reason !== null) st.mod.timeoutReason = reason;
  else if (until !== st.mod.timedOutUntil) st.mod.timeoutReason = "";
  st.mod.timedOutUntil = until;
  // A day is the longest choice; setTimeout itself stops at about 24.8 days.
  return Math.min(Date.parse(until) - now + 250, 2 ** 31 - 1);
}

/** The server said the room is locked. @param {RoomState} st */
export function setLocked(st) {
  st.mod.locked = true;
}

/** The server said slow mode holds your next message back this long. @param {RoomState} st @param {number} seconds @param {number} [now] */
export function holdSending(st, seconds, now = Date.now()) {
  st.nextSendAt = now + seconds * 1000;
}

/** You sent a message: under slow mode, the next waits. @param {RoomState} st @param {number} [now] */
export function noteSent(st, now = Date.now()) {
  if (st.mod.slow && !isStaff(st)) st.nextSendAt = now + st.mod.slow * 1000;
}

/** Why the composer will not send now (moderators are never held back), or null. @param {RoomState} st @param {number} [now] */
export function refusal(st, now = Date.now()) {
  if (isStaff(st)) return null;
  if (timedOut(st, now)) return _("A moderator has paused your messages until %(when)s.", { when: whenText(/** @type {string} */ (st.mod.timedOutUntil)) });
  if (st.mod.locked) return _("A moderator has locked the room for now: you can read but not write.");
  const wait = st.nextSendAt - now;
  if (st.mod.slow && wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    return ngettext("Slow mode is on: you can send again in %(num)s second.", "Slow mode is on: you can send again in %(num)s seconds.", seconds);
  }
  return null;
}

// --- room events --------------------------------------------------------------------------

/**
 * A message's seq is newer than any seen before: a system message's room event is to be
 * applied (once, in seq order).
 * @param {RoomState} st
 * @param {number} seq
 */
export function isNewest(st, seq) {
  const newest = seq > st.applied;
  if (newest) st.applied = seq;
  return newest;
}

/**
 * A room event's change to the state; null when it is not one that changes anything.
 * @param {RoomState} st
 * @param {Message} message a system message
 * @returns {EventEffect | null}
 */
export function applyEvent(st, message) {
  const data = message.data || {};
  const mine = (/** @type {Person | null | undefined} */ user) => Boolean(st.me && user && user.id === st.me.id);
  const changed = (/** @type {number | undefined} */ seq) => (seq === undefined ? {} : { changed: seq });
  switch (data.event) {
    case "message.redacted":
      return changed(changeMessage(st, data.seq, (old) => ({ ...old, status: "redacted", body: null, reason: data.reason })));
    case "message.approved": {
      const newcomer = Boolean(st.newcomer && mine(data.sender));
      if (st.newcomer && newcomer) st.newcomer.seen += 1;
      return { approved: data.seq, newcomer };
    }
    case "message.rejected":
      return changed(changeMessage(st, data.seq, (old) => ({ ...old, status: "rejected" })));
    case "member.timed_out":
      return mine(data.user) ? { timeout: { until: data.until } } : {};
    case "member.timeout_lifted":
      return mine(data.user) ? { timeout: { until: null } } : {};
    case "room.slow_mode":
      st.mod.slow = Number(data.seconds) || 0;
      if (!st.mod.slow) st.nextSendAt = 0;
      return {};
    case "room.locked":
      st.mod.locked = Boolean(data.locked);
      return {};
    case "room.pinned":
      st.mod.pinned = { text: data.text, at: message.at };
      return {};
    case "room.unpinned":
      st.mod.pinned = null;
      return {};
    default:
      return null;
  }
}

// --- messages -----------------------------------------------------------------------------

/**
 * A newer copy of a message shown; returns its seq, or undefined when it is not shown.
 * @param {RoomState} st
 * @param {number} seq
 * @param {(old: Message) => Message} change
 */
export function changeMessage(st, seq, change) {
  const old = st.known.get(seq);
  if (!old) return undefined;
  st.known.set(seq, change(old));
  return seq;
}

/** A newer copy of a message shown. @param {RoomState} st @param {Message} message */
export function remember(st, message) {
  st.known.set(message.seq, message);
}

/** A message shown for the first time; a text's sender's name is remembered. @param {RoomState} st @param {Message} message */
export function rememberNew(st, message) {
  st.known.set(message.seq, message);
  if (message.sender && message.kind === "text") st.names.set(message.sender.id, message.sender.name);
}

/** Your message, sent and not yet acknowledged. @param {RoomState} st @param {string} body @param {string} clientId */
export function addDraft(st, body, clientId) {
  const draft = { room: st.room, kind: "text", body, client_id: clientId, sender: st.me, status: "visible" };
  st.drafts.set(clientId, draft);
  return draft;
}

/** Your message came back with its seq (a `message` frame before the ack). @param {RoomState} st @param {string} clientId */
export function settleDraft(st, clientId) {
  st.drafts.delete(clientId);
}

/**
 * The server stored your message (an `ack`): the draft becomes the message with its seq.
 * @param {RoomState} st
 * @param {import("./realtime.js").Frame} frame
 */
export function acknowledge(st, frame) {
  const draft = st.drafts.get(frame.client_id);
  if (draft) st.known.set(frame.seq, { ...draft, seq: frame.seq, at: frame.at, status: frame.status });
  st.drafts.delete(frame.client_id);
}

/**
 * Why your held message waits, from its ack; returns the note when it is the first, to
 * be said aloud once (after that the words stay under each waiting message).
 * @param {RoomState} st
 * @param {string} clientId
 * @param {string} note
 * @returns {string | null}
 */
export function holdNote(st, clientId, note) {
  st.notes.set(clientId, note);
  if (st.newcomerToldOnce) return null;
  st.newcomerToldOnce = true;
  return note;
}

/** The words under your held message. @param {RoomState} st @param {string | null | undefined} clientId */
export function heldText(st, clientId) {
  return (clientId && st.notes.get(clientId)) || HELD_OWN;
}

/**
 * A moderator approved a message this page has not shown as it now is: its text is asked
 * for by history (before_seq one past it). Returns that before_seq.
 * @param {RoomState} st
 * @param {number} seq
 */
export function expectApproved(st, seq) {
  st.approvalFetches.add(seq + 1);
  return seq + 1;
}

/** Whether a `history` frame answers expectApproved (and it is no longer expected). @param {RoomState} st @param {number} beforeSeq */
export function takeApproved(st, beforeSeq) {
  return st.approvalFetches.delete(beforeSeq);
}

/** A seq now on the page: the earliest and the newest known follow it. @param {RoomState} st @param {number} seq */
export function trackSeq(st, seq) {
  st.latestSeq = Math.max(st.latestSeq, seq);
  if (st.minSeq === null || seq < st.minSeq) st.minSeq = seq;
}

/** The page lost its messages (the server sent only the latest, after a gap). @param {RoomState} st */
export function forgetMessages(st) {
  st.known.clear();
  st.minSeq = null;
}

/** One more page read back to find the first unread message. @param {RoomState} st */
export function readBack(st) {
  st.unreadPages += 1;
}

/** The room has opened at the first unread message or the newest. @param {RoomState} st */
export function markOpened(st) {
  st.opened = true;
}

/** The server was told the person has read up to seq. @param {RoomState} st @param {number} seq */
export function markRead(st, seq) {
  st.readSent = seq;
}

/** The history has nothing earlier: no more pages to read back for the first unread. @param {RoomState} st */
export function historyEnds(st) {
  st.unreadPages = UNREAD_PAGES;
}

/** Whether there are earlier messages to ask for. @param {RoomState} st */
export function hasOlder(st) {
  return st.minSeq !== null && st.minSeq > 1;
}
