// @ts-check
// How the room's system events and removed messages read, in the page's language. The
// server stores an event as data (docs/protocol.md), not as a sentence: each page words
// it here, naming people as this page knows them (room-state.js).

import { slowText, whenText } from "./dom.js";
import { _, ngettext } from "./i18n.js";
import { isStaff } from "./room-state.js";

/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-state.js").RoomState} RoomState */

// The reason the server stores when a moderator gives none (English, as data).
const DEFAULT_REDACTION = "Removed by a moderator.";
// The reason stored on the messages of someone who deleted their account
// (peerhub/privacy/erasure.py REDACTION_REASON; English, as data).
const ERASED_REDACTION = "Deleted by its writer";

/** What stands in a removed message's place. @param {unknown} reason */
export function redactionText(reason) {
  const why = typeof reason === "string" ? reason.trim() : "";
  if (why === ERASED_REDACTION) return _("Deleted: its writer deleted their account.");
  return why && why !== DEFAULT_REDACTION ? _("Removed by a moderator: %(reason)s", { reason: why }) : _("Removed by a moderator.");
}

/** The name of a shown message's writer, or null. @param {RoomState} st @param {number} seq */
function nameAt(st, seq) {
  const message = st.known.get(seq);
  return message && message.sender ? message.sender.name : null;
}

/**
 * The line a system event shows in the log; null for none (an approval or a rejection
 * means nothing to those who never saw the held message).
 * @param {RoomState} st
 * @param {Message} message
 */
export function systemText(st, message) {
  const data = message.data || {};
  const named = message.sender ? message.sender.name : (data.by && st.names.get(data.by)) || null;
  const who = named || _("A moderator");
  const whom = data.user && data.user.name ? data.user.name : _("someone");
  const v = { who, whom };
  switch (data.event) {
    case "session.opened":
      return _("%(who)s opened the session.", v);
    case "session.closed":
      return _("%(who)s closed the session.", v);
    case "room.settings":
      return data.moderator_only
        ? _("The room now opens only during sessions, while a moderator is here.")
        : _("The room is now open at any time.");
    case "message.redacted": {
      const writer = nameAt(st, data.seq);
      return writer ? _("%(who)s removed a message from %(writer)s.", { ...v, writer }) : _("%(who)s removed a message.", v);
    }
    case "message.approved": {
      if (!isStaff(st)) return null;
      const writer = data.sender ? data.sender.name : null;
      return writer ? _("%(who)s approved a held message from %(writer)s.", { ...v, writer }) : _("%(who)s approved a held message.", v);
    }
    case "message.rejected": {
      if (!isStaff(st)) return null;
      const writer = nameAt(st, data.seq);
      return writer ? _("%(who)s rejected a held message from %(writer)s.", { ...v, writer }) : _("%(who)s rejected a held message.", v);
    }
    case "member.timed_out":
      return data.until
        ? _("%(who)s timed out %(whom)s until %(when)s.", { ...v, when: whenText(data.until) })
        : _("%(who)s timed out %(whom)s.", v);
    case "member.timeout_lifted":
      return _("%(who)s lifted %(whom)s’s time-out.", v);
    case "member.removed":
      return _("%(who)s removed %(whom)s from the group.", v);
    case "member.banned":
      return _("%(who)s banned %(whom)s from the group.", v);
    case "room.slow_mode":
      return data.seconds
        ? _("%(who)s turned on slow mode: %(pace)s.", { ...v, pace: slowText(data.seconds) })
        : _("%(who)s turned slow mode off.", v);
    case "room.locked":
      return data.locked ? _("%(who)s locked the room: members can read but not write for now.", v) : _("%(who)s unlocked the room.", v);
    case "room.pinned":
      return _("%(who)s pinned an announcement.", v);
    case "room.unpinned":
      return _("%(who)s took down the pinned announcement.", v);
    case "member.erased":
      return _("A member deleted their account.");
    case "room.retention": {
      const days = Number(data.days);
      if (Number.isInteger(days) && days > 0) {
        return ngettext("Messages older than %(num)s day are deleted, as this group chose.", "Messages older than %(num)s days are deleted, as this group chose.", days);
      }
      return _("Older messages are deleted, as this group chose.");
    }
    default:
      return typeof data.text === "string" ? data.text : _("Something changed in the room.");
  }
}
