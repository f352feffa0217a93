// @ts-check
// The per-message menu: where report, mute and block hang, and the moderators'
// redact, time out, approve and reject.
//
// MODERATION SEAM: an action is registered as
//   registerMessageAction({
//     id: "report",
//     label: (message) => "Report this message",
//     shows: (message, viewer) => message.kind === "text" && message.sender?.id !== viewer.id,
//     run: (message, api) => ...,
//   });
// and the room page shows each action that applies in every message's menu (the
// menu is filled when it opens, so it reflects the latest mutes and ranks).
// `viewer` is the person looking: {id, name, role, moderator, roleOf(id),
// isMuted(id), isBlocked(id)}. `api` gives `room`, `root`, `send(frame)`,
// `request(frame)` (a Promise of the answer, rejected with the server's refusal),
// `notify(text)` (a polite announcement), `hideSender(userId)`, `whenText(iso)` and
// `fallbackFocus()`.

import { act, blockDialog, redactDialog, rejectDialog, reportDialog, timeoutDialog } from "./dialogs.js";
import { _ } from "./i18n.js";

/** @typedef {import("./realtime.js").Frame} Frame */
/**
 * A message as the room shows it: from a `message` frame (docs/protocol.md), a queue
 * entry, or one of your own before it has a seq; its fields are read as the server sent them.
 * @typedef {{ [field: string]: any }} Message
 */
/** @typedef {{ id: string, name: string }} Person */
/**
 * The person looking at a message (room.js `viewer()`).
 * @typedef {object} Viewer
 * @property {string} [id]
 * @property {string} [name]
 * @property {string} role
 * @property {boolean} moderator
 * @property {(userId: string) => string} roleOf
 * @property {(userId: string) => boolean} isMuted
 * @property {(userId: string) => boolean} isBlocked
 */
/**
 * What the room page gives the actions and dialogs (room.js `page`).
 * @typedef {object} Api
 * @property {string} room
 * @property {HTMLElement} root
 * @property {(frame: Record<string, unknown>) => boolean} send
 * @property {(frame: Record<string, unknown>) => Promise<Frame>} request
 * @property {(text: string) => void} notify
 * @property {(iso: string) => string} whenText
 * @property {(userId: string) => void} hideSender
 * @property {() => HTMLElement} fallbackFocus
 */
/**
 * One entry of the message menu.
 * @typedef {object} MessageAction
 * @property {string} id
 * @property {(message: Message) => string} label
 * @property {(message: Message, viewer: Viewer) => boolean} [shows]
 * @property {(message: Message, api: Api) => unknown} run
 */

/** @type {MessageAction[]} */
const actions = [];

/** @param {MessageAction} action */
export function registerMessageAction(action) {
  if (!action || typeof action.id !== "string" || typeof action.run !== "function") {
    throw new TypeError("an action needs an id and a run(message, api) function");
  }
  if (actions.some((a) => a.id === action.id)) return;
  actions.push(action);
}

/**
 * @param {Message} message
 * @param {Viewer} viewer
 */
export function actionsFor(message, viewer) {
  return actions.filter((a) => (typeof a.shows === "function" ? a.shows(message, viewer) : true));
}

const STAFF = new Set(["moderator", "organiser"]);
/** @type {Record<string, number>} */
const RANK = { member: 1, moderator: 2, organiser: 3 };

/** @param {Message} message */
function isText(message) {
  return message.kind === "text" && Boolean(message.sender) && Boolean(message.seq);
}

/**
 * @param {Message} message
 * @param {Viewer} viewer
 */
function fromOther(message, viewer) {
  return isText(message) && message.sender.id !== viewer.id;
}

// Whether the viewer outranks the writer (unknown ranks count as members; the
// server checks again in any case).
/**
 * @param {Viewer} viewer
 * @param {string} userId
 */
function outranks(viewer, userId) {
  const theirs = RANK[viewer.roleOf ? viewer.roleOf(userId) : "member"] || RANK.member;
  return (RANK[viewer.role] || 0) > theirs;
}

// Always there: copying a message's text (people quote each other, or keep words
// that helped them).
registerMessageAction({
  id: "copy",
  label: () => _("Copy the text"),
  shows: (message) => typeof message.body === "string" && message.body.length > 0,
  run: async (message, api) => {
    try {
      await navigator.clipboard.writeText(message.body);
      api.notify(_("Copied."));
    } catch (err) {
      api.notify(_("Copying is not allowed here."));
    }
  },
});

registerMessageAction({
  id: "report",
  label: () => _("Report this message"),
  shows: (message, viewer) => fromOther(message, viewer) && message.status !== "redacted",
  run: (message, api) => reportDialog(message, api),
});

// Muting or blocking a moderator would also hide their notices (time-outs,
// redactions) from this person, so it is not offered for them.
registerMessageAction({
  id: "mute",
  label: (message) => _("Mute %(name)s", { name: message.sender.name }),
  shows: (message, viewer) =>
    fromOther(message, viewer) &&
    !STAFF.has(viewer.roleOf(message.sender.id)) &&
    !viewer.isMuted(message.sender.id) &&
    !viewer.isBlocked(message.sender.id),
  run: (message, api) =>
    act(
      api,
      { type: "me.mute", kind: "person", value: message.sender.id },
      _("%(name)s is muted: their messages are hidden for you. You can unmute them under “Your mutes and blocks”.", {
        name: message.sender.name,
      }),
    ),
});

registerMessageAction({
  id: "block",
  label: (message) => _("Block %(name)s", { name: message.sender.name }),
  shows: (message, viewer) =>
    fromOther(message, viewer) && !STAFF.has(viewer.roleOf(message.sender.id)) && !viewer.isBlocked(message.sender.id),
  run: (message, api) => blockDialog(message.sender, api),
});

registerMessageAction({
  id: "approve",
  label: () => _("Approve this message"),
  shows: (message, viewer) => viewer.moderator && isText(message) && message.status === "held",
  run: (message, api) =>
    act(
      api,
      { type: "mod.approve", room: api.room, seq: message.seq },
      _("Approved: everyone can now see %(name)s’s message.", { name: message.sender.name }),
    ),
});

registerMessageAction({
  id: "reject",
  label: () => _("Reject this message"),
  shows: (message, viewer) => viewer.moderator && isText(message) && message.status === "held",
  run: (message, api) => rejectDialog(message, api),
});

registerMessageAction({
  id: "redact",
  label: () => _("Redact this message"),
  shows: (message, viewer) =>
    viewer.moderator &&
    isText(message) &&
    (message.status === "visible" || message.status === "held") &&
    (message.sender.id === viewer.id || outranks(viewer, message.sender.id)),
  run: (message, api) => redactDialog(message, api),
});

registerMessageAction({
  id: "timeout",
  label: (message) => _("Time out %(name)s", { name: message.sender.name }),
  shows: (message, viewer) => viewer.moderator && fromOther(message, viewer) && outranks(viewer, message.sender.id),
  run: (message, api) => timeoutDialog(message.sender, api),
});
