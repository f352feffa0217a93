// @ts-check
// The room page: messages in a live region, a composer that sends on Enter, each
// of your own messages marked sending / sent / not sent (with a retry that reuses
// its client id), who is here, typing notices, ground rules, session controls; and
// the moderation a member sees: redactions in place, time-outs, slow mode, a locked
// room, a pinned announcement, reports and their outcome, personal mutes and blocks.
// The moderators' console is moderator.js.
// The room fills the screen and only the messages scroll. It opens at the newest
// message, or at the first one the person has not read (with a "New messages" line):
// what they have read is the server's read position (room_read_positions), so it
// survives a reload and follows them to another device. A message counts as read once
// it has been on screen in the list. When no moderator is here, the top of the room
// says so, with the next session and the crisis contacts.
// Everything people write is put on the page with textContent, never as HTML.

import { RealtimeClient } from "./realtime.js";
import { actionsFor } from "./room-menu.js";
import { el, focusSafely, slowText, timeEl, timeOf, whenText, withNodes } from "./dom.js";
import { _, lang, ngettext } from "./i18n.js";
import { setupPersonal } from "./personal.js";
import { startConsole } from "./moderator.js";

const MAX_BODY = 4000;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
const READ_DELAY_MS = 1000;
const HISTORY_PAGE = 50;
// Opening at the first unread message reads back at most this many pages of 100.
const UNREAD_PAGES = 4;
// Within this many pixels of the end, the list is "at the newest" and follows new ones.
const NEAR_END_PX = 48;
const STAFF = new Set(["moderator", "organiser"]);
// The reason the server stores when a moderator gives none (English, as data).
const DEFAULT_REDACTION = "Removed by a moderator.";
// The reason stored on the messages of someone who deleted their account
// (peerhub/privacy/erasure.py REDACTION_REASON; English, as data).
const ERASED_REDACTION = "Deleted by its writer";

/** @typedef {import("./realtime.js").Frame} Frame */
/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-menu.js").Person} Person */

const HELD_OWN = _("Waiting for a moderator to look at it. Only you and the moderators can see it.");
const REJECTED_OWN = _("A moderator decided not to post this. Only you can see it.");

// A role's name as people read it; members are not marked.
/** @param {string} role */
function roleText(role) {
  if (role === "moderator") return _("moderator");
  if (role === "organiser") return _("organiser");
  return null;
}

const root = document.getElementById("room");
if (root) start(root);

/** @param {unknown} reason */
function redactionText(reason) {
  const why = typeof reason === "string" ? reason.trim() : "";
  if (why === ERASED_REDACTION) return _("Deleted: its writer deleted their account.");
  return why && why !== DEFAULT_REDACTION ? _("Removed by a moderator: %(reason)s", { reason: why }) : _("Removed by a moderator.");
}

/** @param {HTMLElement} rootEl */
function start(rootEl) {
  const room = /** @type {string} */ (rootEl.dataset.room);
  /** The page's element with this id (the room's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const statusEl = $("room-status");
  const stateEl = $("room-state");
  const rulesEl = $("rules");
  const rulesText = $("rules-text");
  const rulesLanguage = $("rules-language");
  const rulesButton = /** @type {HTMLButtonElement} */ ($("rules-accept"));
  const list = $("messages");
  const logEl = /** @type {HTMLElement} */ (list.parentElement);
  const olderButton = /** @type {HTMLButtonElement} */ ($("older"));
  const typingEl = $("typing");
  const form = /** @type {HTMLFormElement} */ ($("composer"));
  const input = /** @type {HTMLTextAreaElement} */ ($("message-input"));
  const sendButton = /** @type {HTMLButtonElement} */ ($("send-button"));
  const counter = $("composer-count");
  const composerError = $("composer-error");
  const presentEl = $("present");
  const announcer = $("room-announcer");
  const supportEl = $("support");
  const sessionButton = /** @type {HTMLButtonElement} */ ($("session-toggle"));
  const modOnlyBox = /** @type {HTMLInputElement} */ ($("moderator-only"));
  const pinnedEl = $("pinned");
  const pinnedText = $("pinned-text");
  const timeoutNotice = $("timeout-notice");
  const lockNotice = $("lock-notice");
  const slowNotice = $("slow-notice");
  const reportNotices = $("report-notices");
  const hiddenCount = $("hidden-count");
  const noModerator = $("no-moderator");
  const noModeratorText = $("no-moderator-text");
  const noModeratorHelp = $("no-moderator-help");
  const noModeratorToggle = $("no-moderator-toggle");
  const emptyEl = $("room-empty");
  const newcomerNotice = $("newcomer-notice");
  const jumpButton = $("jump-newest");
  const panelToggle = $("panel-toggle");
  const sidePanel = $("room-side");

  const client = new RealtimeClient();
  const bySeq = new Map(); // seq -> <li>
  const known = new Map(); // seq -> the message as last shown
  const byClient = new Map(); // client id -> <li> (your own messages)
  const drafts = new Map(); // client id -> your message before it has a seq
  const present = new Map(); // user id -> person
  const roles = new Map(); // user id -> role, as far as this page knows
  const names = new Map(); // user id -> name (system events name the moderator by id)
  const typing = new Map(); // user id -> { name, timer }
  const hidden = new Set(); // senders hidden on this page (menu api)
  const revealed = new Set(); // seqs of muted messages the person chose to see
  /** @type {import("./room-menu.js").Person | null} */
  let me = null;
  let role = rootEl.dataset.role || "member";
  /** @type {any} the room's state as the server last sent it (docs/protocol.md), null before */
  let state = null;
  /** @type {any} the ground rules as the server last sent them, null before */
  let rules = null;
  /** @type {number | null} */
  let minSeq = null;
  let latestSeq = 0;
  let applied = 0; // the highest seq whose room event has been applied
  let readSent = 0;
  /** @type {number | null} */
  let readTimer = null;
  let lastTyping = 0;
  // What moderators have set, as this page knows it.
  /** @type {{ slow: number, locked: boolean, pinned: { text: string, at: string } | null, timedOutUntil: string | null, timeoutReason: string }} */
  const mod = { slow: 0, locked: false, pinned: null, timedOutUntil: null, timeoutReason: "" };
  /** @type {number | null} */
  let timeoutTimer = null;
  let nextSendAt = 0; // slow mode: not before (ms since epoch)
  // Where the room opens: at the first message after lastReadAtOpen, else the newest.
  let opened = false;
  let lastReadAtOpen = 0;
  let unreadPages = 0;
  /** @type {HTMLElement | null} */
  let marker = null;
  let following = true; // the list shows its newest message and follows new ones
  let followFrame = 0;
  // A new member's first messages wait for a moderator: {messages, seen, note} or null.
  /** @type {any} */
  let newcomer = null;
  let newcomerToldOnce = false;
  const notes = new Map(); // client id -> why your held message waits (from its ack)

  const isStaff = () => STAFF.has(role);

  /** @param {string} text */
  function announce(text) {
    announcer.textContent = "";
    // A fresh text node so screen readers announce the same words twice.
    window.setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  // What the menu's actions, the dialogs and the console use.
  /** @type {import("./moderator.js").Page} */
  const page = {
    room,
    root: rootEl,
    client,
    send: (frame) => client.sendFrame(frame),
    request: (frame) => client.request(frame),
    notify: announce,
    whenText,
    hideSender: (userId) => {
      hidden.add(userId);
      refilter();
    },
    fallbackFocus: () => logEl,
    me: () => me,
    role: () => role,
    roleOf: (userId) => roles.get(userId) || "member",
    setRoles(people) {
      for (const p of people) {
        if (p.id && p.role) roles.set(p.id, p.role);
        if (p.id && p.name) names.set(p.id, p.name);
      }
    },
    message: (seq) => known.get(seq),
  };

  const personal = setupPersonal(page, () => refilter());

  function viewer() {
    return {
      ...(me || {}),
      role,
      moderator: isStaff(),
      roleOf: page.roleOf,
      isMuted: personal.isMuted,
      isBlocked: personal.isBlocked,
    };
  }

  // --- system events ------------------------------------------------------------------

  /** @param {number} seq */
  function nameAt(seq) {
    const message = known.get(seq);
    return message && message.sender ? message.sender.name : null;
  }

  // The line a system event shows in the log; null for none (an approval or a
  // rejection means nothing to those who never saw the held message).
  /** @param {Message} message */
  function systemText(message) {
    const data = message.data || {};
    const named = message.sender ? message.sender.name : (data.by && names.get(data.by)) || null;
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
        const writer = nameAt(data.seq);
        return writer ? _("%(who)s removed a message from %(writer)s.", { ...v, writer }) : _("%(who)s removed a message.", v);
      }
      case "message.approved": {
        if (!isStaff()) return null;
        const writer = data.sender ? data.sender.name : null;
        return writer ? _("%(who)s approved a held message from %(writer)s.", { ...v, writer }) : _("%(who)s approved a held message.", v);
      }
      case "message.rejected": {
        if (!isStaff()) return null;
        const writer = nameAt(data.seq);
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

  // A room event changes what is on the page (once, in seq order).
  /** @param {Message} message */
  function applyEvent(message) {
    const data = message.data || {};
    const mine = (/** @type {Person | null | undefined} */ user) => Boolean(me && user && user.id === me.id);
    switch (data.event) {
      case "message.redacted":
        updateMessage(data.seq, (old) => ({ ...old, status: "redacted", body: null, reason: data.reason }));
        break;
      case "message.approved": {
        if (newcomer && mine(data.sender)) {
          newcomer.seen += 1;
          renderNewcomer();
        }
        // The event names the message; its text comes by history, which the server
        // leaves out for people who muted or blocked its writer.
        const had = known.get(data.seq);
        if (!bySeq.has(data.seq) || (had && had.status === "held")) {
          approvalFetches.add(data.seq + 1);
          client.sendFrame({ type: "history", room, before_seq: data.seq + 1, limit: 1 });
        }
        break;
      }
      case "message.rejected":
        updateMessage(data.seq, (old) => ({ ...old, status: "rejected" }));
        break;
      case "member.timed_out":
        if (mine(data.user)) setTimedOut(data.until, null);
        break;
      case "member.timeout_lifted":
        if (mine(data.user)) setTimedOut(null, null);
        break;
      case "room.slow_mode":
        mod.slow = Number(data.seconds) || 0;
        if (!mod.slow) nextSendAt = 0;
        break;
      case "room.locked":
        mod.locked = Boolean(data.locked);
        break;
      case "room.pinned":
        mod.pinned = { text: data.text, at: message.at };
        break;
      case "room.unpinned":
        mod.pinned = null;
        break;
      default:
        return;
    }
    renderModeration();
  }

  // --- messages --------------------------------------------------------------------

  /** @param {HTMLElement} item @param {number} seq */
  function place(item, seq) {
    // In seq order, before any message still waiting for its seq.
    let after = null;
    for (let node = /** @type {HTMLElement | null} */ (list.lastElementChild); node; node = /** @type {HTMLElement | null} */ (node.previousElementSibling)) {
      const nodeSeq = node.dataset.seq ? Number(node.dataset.seq) : Infinity;
      if (nodeSeq < seq) {
        after = node;
        break;
      }
    }
    if (after) after.after(item);
    else list.prepend(item);
  }

  /** @param {HTMLElement} item @param {string} text @param {boolean} [failed] */
  function ownState(item, text, failed = false) {
    const holder = item.querySelector(".message-state");
    if (!holder) return;
    holder.replaceChildren(text);
    item.classList.toggle("message-failed", failed);
    const old = item.querySelector(".message-retry");
    if (old) old.remove();
    if (failed) {
      const retry = el("button", {
        type: "button",
        className: "button button-secondary button-small message-retry",
        text: _("Try again"),
        onclick: () => {
          const why = refusal();
          if (why) {
            ownState(item, _("Not sent. %(why)s", { why }), true);
            announce(why);
            return;
          }
          client.sendMessage(room, /** @type {string} */ (item.dataset.body), item.dataset.clientId);
          noteSent();
          ownState(item, _("Sending…"));
          input.focus();
        },
      });
      holder.after(retry);
    }
  }

  /** @param {HTMLDetailsElement} menu @param {Message} message */
  function fillMenu(menu, message) {
    const listEl = /** @type {HTMLUListElement} */ (menu.querySelector("ul"));
    const shown = actionsFor(known.get(message.seq) || message, viewer());
    listEl.replaceChildren(
      ...shown.map((action) =>
        el(
          "li",
          {},
          el("button", {
            type: "button",
            className: "link-button",
            text: action.label(message),
            onclick: () => {
              const summary = /** @type {HTMLElement} */ (menu.querySelector("summary"));
              menu.open = false;
              summary.focus();
              action.run(known.get(message.seq) || message, page);
            },
          }),
        ),
      ),
    );
    if (!shown.length) listEl.append(el("li", { className: "hint", text: _("Nothing to do here.") }));
  }

  /** @param {Message} message */
  function menuFor(message) {
    if (!actionsFor(message, viewer()).length) return null;
    const name = message.sender ? message.sender.name : "PeerHub"; // the product's name
    // Report, mute, block and the moderators' actions are registered in room-menu.js;
    // the list is filled each time the menu opens, so it follows mutes and ranks.
    const menu = el(
      "details",
      { className: "message-menu" },
      el("summary", { "aria-label": _("Options for the message from %(name)s", { name }) }, el("span", { "aria-hidden": "true", text: "⋯" })),
      el("ul", {}),
    );
    menu.addEventListener("toggle", () => {
      if (!menu.open) return;
      fillMenu(menu, message);
      // The log scrolls: bring the whole menu into view inside it.
      /** @type {HTMLElement} */ (menu.querySelector("ul")).scrollIntoView({ block: "nearest" });
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        /** @type {HTMLElement} */ (menu.querySelector("summary")).focus();
      }
    });
    return menu;
  }

  /** @param {Message} message */
  function isMine(message) {
    return Boolean(me && message.sender && message.sender.id === me.id);
  }

  /** @param {Message} message @param {{ own?: boolean, pending?: boolean }} [options] */
  function render(message, { own = false, pending = false } = {}) {
    const system = message.kind === "system";
    const status = message.status || "visible";
    const item = el("li", {
      className: [
        "message",
        own && "message-own",
        system && "message-system",
        status === "held" && "message-held",
        status === "redacted" && "message-redacted",
        status === "rejected" && "message-rejected",
      ]
        .filter(Boolean)
        .join(" "),
      dataset: {
        ...(message.seq ? { seq: String(message.seq) } : {}),
        clientId: message.client_id || "",
        sender: message.sender ? message.sender.id : "",
      },
    });
    if (!system) {
      const head = el(
        "p",
        { className: "message-head" },
        el("span", { className: "message-sender", text: own ? _("You") : message.sender ? message.sender.name : _("Someone") }),
        " ",
        message.at ? el("time", { datetime: message.at, text: timeOf(message.at) }) : null,
      );
      item.append(head);
    }
    let bodyText;
    if (system) bodyText = systemText(message);
    else if (status === "redacted") bodyText = redactionText(message.reason);
    else bodyText = message.body;
    const notice = system || status === "redacted";
    item.append(el("p", { className: notice ? "message-body message-notice" : "message-body", text: bodyText }));
    if (!own && status === "held") {
      item.append(el("p", { className: "message-note", text: _("Held for review: only its writer and the moderators can see it.") }));
    }
    if (!own && status === "rejected") {
      item.append(el("p", { className: "message-note", text: _("Rejected: it was not posted.") }));
    }
    if (own) {
      item.dataset.body = message.body || "";
      let text = pending ? _("Sending…") : _("Sent");
      if (status === "held") text = heldText(message.client_id);
      if (status === "rejected") text = REJECTED_OWN;
      if (status !== "redacted") item.append(el("p", { className: "message-state", "aria-live": "off", text }));
    }
    const menu = system || status === "redacted" ? null : menuFor(message);
    if (menu) item.append(menu);
    if (!pending) applyFilter(item, message);
    return item;
  }

  // --- what mutes and blocks hide --------------------------------------------------------

  /** @param {Message} message */
  function reasonFor(message) {
    if (message.sender && hidden.has(message.sender.id) && !isMine(message)) return "blocked";
    if (message.status === "redacted") return null;
    return personal.hiddenReason(message, me ? me.id : null);
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
    if (!why || revealed.has(message.seq)) return;
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
              revealed.add(message.seq);
              applyFilter(item, known.get(message.seq) || message);
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

  function refilter() {
    for (const [seq, item] of bySeq) {
      const message = known.get(seq);
      if (message && !item.classList.contains("message-own")) applyFilter(item, message);
    }
    updateHiddenCount();
  }

  // --- showing and updating messages ----------------------------------------------------

  /** @param {number} seq @param {Message} message */
  function replaceItem(seq, message) {
    const old = bySeq.get(seq);
    const own = isMine(message);
    const fresh = render(message, { own });
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(fresh);
    bySeq.set(seq, fresh);
    if (own && message.client_id) byClient.set(message.client_id, fresh);
    if (hadFocus) focusSafely(fresh);
    updateHiddenCount();
  }

  /** @param {number} seq @param {(old: Message) => Message} change */
  function updateMessage(seq, change) {
    const old = known.get(seq);
    if (!old || !bySeq.has(seq)) return;
    const next = change(old);
    known.set(seq, next);
    replaceItem(seq, next);
  }

  // A message that may be new, or a newer copy of one shown (approved, redacted).
  // History requests for messages a moderator approved (keyed by before_seq).
  const approvalFetches = new Set();

  /** @param {Message} message */
  function upsert(message) {
    if (bySeq.has(message.seq)) {
      known.set(message.seq, message);
      replaceItem(message.seq, message);
      return;
    }
    showMessage(message);
  }

  /** @param {Message} message */
  function showMessage(message) {
    const newest = message.seq > applied;
    if (newest) applied = message.seq;
    if (message.kind === "system" && newest) applyEvent(message);
    if (bySeq.has(message.seq)) {
      const old = bySeq.get(message.seq);
      const before = known.get(message.seq);
      known.set(message.seq, message);
      if (old.classList.contains("message-own") && before && before.status === message.status) {
        ownState(old, message.status === "held" ? heldText(message.client_id) : _("Sent"));
        return;
      }
      replaceItem(message.seq, message);
      return;
    }
    if (message.kind === "system" && systemText(message) === null) {
      track(message.seq);
      return;
    }
    known.set(message.seq, message);
    if (message.sender && message.kind === "text") names.set(message.sender.id, message.sender.name);
    const mine = isMine(message);
    let item = mine ? byClient.get(message.client_id) : null;
    if (item) {
      drafts.delete(message.client_id);
      item.dataset.seq = String(message.seq);
      stamp(item, message.at);
      if (message.status === "held") item.classList.add("message-held");
      ownState(item, message.status === "held" ? heldText(message.client_id) : _("Sent"));
      place(item, message.seq);
    } else {
      item = render(message, { own: mine });
      if (mine) byClient.set(message.client_id, item);
      place(item, message.seq);
    }
    bySeq.set(message.seq, item);
    track(message.seq);
    if (item.classList.contains("message-muted")) updateHiddenCount();
  }

  function renderEmpty() {
    emptyEl.hidden = !opened || list.querySelector("li.message") !== null;
  }

  /** @param {number} seq */
  function track(seq) {
    renderEmpty();
    latestSeq = Math.max(latestSeq, seq);
    if (minSeq === null || seq < minSeq) minSeq = seq;
    olderButton.hidden = !(minSeq > 1);
    keepFollowing();
    scheduleRead();
  }

  /** @param {string | null | undefined} clientId */
  function heldText(clientId) {
    return (clientId && notes.get(clientId)) || HELD_OWN;
  }

  // --- where the list is scrolled: the newest, or the first unread ----------------------

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
    if (!opened) return;
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
      if (!node.dataset.seq || !(seq > lastReadAtOpen) || node === marker || node.hidden) continue;
      if (node.classList.contains("message-own") || node.classList.contains("message-system")) continue;
      return node;
    }
    return null;
  }

  // Once, when the room has first caught up: open at the first unread message (reading
  // back a few pages if it is older than the latest page), else at the newest.
  function openAtTheRightPlace() {
    if (opened) return;
    if (lastReadAtOpen > 0 && minSeq !== null && minSeq > lastReadAtOpen + 1 && unreadPages < UNREAD_PAGES) {
      unreadPages += 1;
      client.sendFrame({ type: "history", room, before_seq: minSeq, limit: 100 });
      return; // the history frame comes back here
    }
    opened = true;
    renderEmpty();
    const first = lastReadAtOpen > 0 ? firstUnread() : null;
    if (first) {
      marker = el("li", { className: "unread-marker", dataset: { seq: String(lastReadAtOpen + 0.5) } }, el("span", { text: _("New messages") }));
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
    if (nearEnd()) return latestSeq;
    const limit = logEl.scrollTop + logEl.clientHeight;
    for (let node = /** @type {HTMLElement | null} */ (list.lastElementChild); node; node = /** @type {HTMLElement | null} */ (node.previousElementSibling)) {
      if (!node.dataset.seq || node === marker || node.hidden) continue;
      if (node.offsetTop + node.offsetHeight <= limit + 2) return Math.floor(Number(node.dataset.seq));
    }
    return 0;
  }

  logEl.addEventListener(
    "scroll",
    () => {
      if (!opened) return;
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

  /** @param {HTMLElement} item @param {string | null | undefined} at */
  function stamp(item, at) {
    const head = item.querySelector(".message-head");
    if (at && head && !head.querySelector("time")) {
      head.append(" ", el("time", { datetime: at, text: timeOf(at) }));
    }
  }

  function clearMessages() {
    for (const node of [.../** @type {HTMLCollectionOf<HTMLElement>} */ (list.children)]) {
      if (node.dataset.seq) node.remove();
    }
    marker = null;
    bySeq.clear();
    known.clear();
    minSeq = null;
    updateHiddenCount();
  }

  function scheduleRead() {
    if (!opened || document.visibilityState !== "visible" || latestSeq <= readSent) return;
    // Not while the list is hidden behind the side panel on a narrow screen.
    if (!logEl.offsetParent) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      const upTo = readUpTo();
      if (upTo > readSent && client.sendFrame({ type: "read", room, seq: upTo })) readSent = upTo;
    }, READ_DELAY_MS);
  }
  document.addEventListener("visibilitychange", scheduleRead);

  // --- moderation state: pinned, locked, slow mode, your time-out -----------------------------

  function timedOut() {
    return mod.timedOutUntil !== null && Date.parse(mod.timedOutUntil) > Date.now();
  }

  // until: ISO time or null; reason: text, or null to keep the one known for this until.
  /** @param {string | null} until @param {string | null} reason */
  function setTimedOut(until, reason) {
    clearTimeout(timeoutTimer);
    if (!until || Date.parse(until) <= Date.now()) {
      mod.timedOutUntil = null;
      mod.timeoutReason = "";
      return;
    }
    if (reason !== null) mod.timeoutReason = reason;
    else if (until !== mod.timedOutUntil) mod.timeoutReason = "";
    mod.timedOutUntil = until;
    // A day is the longest choice; setTimeout itself stops at about 24.8 days.
    const wait = Math.min(Date.parse(until) - Date.now() + 250, 2 ** 31 - 1);
    timeoutTimer = setTimeout(() => {
      mod.timedOutUntil = null;
      mod.timeoutReason = "";
      renderModeration();
      announce(_("Your time-out has ended. You can write again."));
    }, wait);
  }

  function renderModeration() {
    pinnedEl.hidden = !mod.pinned;
    pinnedText.textContent = mod.pinned ? mod.pinned.text : "";

    const staff = isStaff();
    slowNotice.hidden = !mod.slow;
    slowNotice.textContent = mod.slow
      ? staff
        ? _("Slow mode is on for members: %(pace)s.", { pace: slowText(mod.slow) })
        : _("Slow mode is on: you can send %(pace)s.", { pace: slowText(mod.slow) })
      : "";
    lockNotice.hidden = !mod.locked;
    lockNotice.textContent = mod.locked
      ? staff
        ? _("The room is locked: members can read but not write for now.")
        : _("A moderator has locked the room for now: you can read but not write.")
      : "";
    if (!staff && timedOut()) {
      timeoutNotice.replaceChildren(
        ...withNodes(
          mod.timeoutReason
            ? _("A moderator has paused your messages until %(when)s. You can still read. Reason: %(reason)s")
            : _("A moderator has paused your messages until %(when)s. You can still read."),
          { when: timeEl(/** @type {string} */ (mod.timedOutUntil)), reason: mod.timeoutReason },
        ),
      );
      timeoutNotice.hidden = false;
    } else {
      timeoutNotice.replaceChildren();
      timeoutNotice.hidden = true;
    }
    if (!refusal()) clearComposerError();
  }

  // Why the composer will not send now (moderators are never held back), or null.
  function refusal() {
    if (isStaff()) return null;
    if (timedOut()) return _("A moderator has paused your messages until %(when)s.", { when: whenText(/** @type {string} */ (mod.timedOutUntil)) });
    if (mod.locked) return _("A moderator has locked the room for now: you can read but not write.");
    const wait = nextSendAt - Date.now();
    if (mod.slow && wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      return ngettext("Slow mode is on: you can send again in %(num)s second.", "Slow mode is on: you can send again in %(num)s seconds.", seconds);
    }
    return null;
  }

  function noteSent() {
    if (mod.slow && !isStaff()) nextSendAt = Date.now() + mod.slow * 1000;
  }

  /** @param {string} text */
  function showComposerError(text) {
    composerError.textContent = _("Not sent. %(why)s", { why: text });
    composerError.hidden = false;
    announce(composerError.textContent);
  }

  function clearComposerError() {
    composerError.textContent = "";
    composerError.hidden = true;
  }

  /** @param {{ [field: string]: any }} item a handled report (docs/protocol.md) */
  function reportHandled(item) {
    const text =
      item.outcome === "action"
        ? _("Your report was handled: a moderator looked at it and took action. Thank you for telling us.")
        : _("Your report was handled: a moderator looked at it and decided no action was needed. Thank you for telling us.");
    const entry = el(
      "li",
      { className: "notice notice-ok report-notice" },
      el("p", {}, ...(item.at ? withNodes(_("%(text)s (%(when)s)"), { text, when: timeEl(item.at) }) : [text])),
      el("button", {
        type: "button",
        className: "button button-secondary button-small",
        text: _("Dismiss"),
        onclick: () => {
          entry.remove();
          reportNotices.hidden = reportNotices.children.length === 0;
          input.focus();
        },
      }),
    );
    reportNotices.append(entry);
    reportNotices.hidden = false;
    return text;
  }

  // --- state, rules, presence ----------------------------------------------------------

  function canWrite() {
    const rulesOk = !rules || rules.accepted;
    return Boolean(state && state.writable && rulesOk && client.isOpen());
  }

  function refreshComposer() {
    const ok = canWrite();
    input.disabled = !ok;
    sendButton.disabled = !ok;
  }

  /** @param {any} next */
  function showState(next) {
    state = next;
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
    refreshComposer();
  }

  // "No moderator is here right now", at the top, for as long as that is true.
  function renderNoModerator() {
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

  function renderNewcomer() {
    const show = Boolean(newcomer) && !isStaff() && newcomer.seen < newcomer.messages;
    newcomerNotice.hidden = !show;
    newcomerNotice.textContent = show
      ? newcomer.messages === 1
        ? _("Welcome. Because you are new here, a moderator reads your first message before everyone sees it.")
        : ngettext(
            "Welcome. Because you are new here, a moderator reads your first %(num)s message before everyone sees it.",
            "Welcome. Because you are new here, a moderator reads your first %(num)s messages before everyone sees them.",
            newcomer.messages,
          )
      : "";
  }

  /** @param {any} next */
  function showRules(next) {
    rules = next;
    const needed = !rules.accepted;
    rulesEl.hidden = !needed;
    if (needed) {
      // In the person's language where the group gave a version, else the group's own
      // text with its lang and dir and a line saying its language (made by the server).
      const shown = rules.shown || { text: rules.text };
      rulesText.textContent = shown.text;
      if (shown.lang) {
        rulesText.lang = shown.lang;
        rulesText.dir = shown.dir || "auto";
      } else {
        rulesText.removeAttribute("lang");
        rulesText.removeAttribute("dir");
      }
      if (rulesLanguage) {
        rulesLanguage.textContent = shown.note || "";
        rulesLanguage.hidden = !shown.note;
      }
    }
    refreshComposer();
  }

  function renderPresence() {
    const people = [...present.values()].sort((a, b) => a.name.localeCompare(b.name));
    presentEl.replaceChildren(
      ...people.map((p) =>
        el("li", {}, el("span", { text: p.name }), roleText(p.role) ? el("span", { className: "role", text: _(" (%(role)s)", { role: roleText(p.role) }) }) : null),
      ),
    );
    const count = $("present-count");
    if (count) count.textContent = `${people.length}`;
  }

  function renderTyping() {
    const names = [...typing.values()].map((t) => t.name);
    if (!names.length) typingEl.textContent = "";
    else if (names.length === 1) typingEl.textContent = _("%(name)s is typing…", { name: names[0] });
    else if (names.length === 2) typingEl.textContent = _("%(first)s and %(second)s are typing…", { first: names[0], second: names[1] });
    else typingEl.textContent = _("Several people are typing…");
  }

  /** @param {{ [field: string]: any } | null | undefined} extra */
  function subscribedExtra(extra) {
    if (!extra) return;
    const m = extra.moderation;
    if (m) {
      mod.slow = Number(m.slow_mode_seconds) || 0;
      mod.locked = Boolean(m.locked);
      mod.pinned = m.pinned && m.pinned.text ? m.pinned : null;
      setTimedOut(m.timed_out_until || null, null);
      newcomer = m.newcomer ? { messages: Number(m.newcomer.messages) || 0, seen: Number(m.newcomer.seen) || 0 } : null;
      renderNewcomer();
    }
    if (extra.personal) personal.update(extra.personal);
    for (const item of extra.reports_handled || []) reportHandled(item);
    renderModeration();
  }

  // --- frames ------------------------------------------------------------------------------

  client.addEventListener("frame", (event) => {
    const frame = /** @type {CustomEvent<Frame>} */ (event).detail;
    if (frame.room && frame.room !== room) return;
    switch (frame.type) {
      case "welcome":
        me = frame.user;
        break;
      case "subscribed":
        if (frame.limited) clearMessages();
        if (!opened) {
          lastReadAtOpen = frame.last_read || 0;
          readSent = Math.max(readSent, lastReadAtOpen);
        }
        if (frame.role) role = frame.role;
        showRules(frame.rules);
        showState(frame.state);
        present.clear();
        for (const p of frame.present) present.set(p.id, p);
        page.setRoles(frame.present);
        renderPresence();
        subscribedExtra(frame.extra);
        break;
      case "synced":
        statusEl.textContent = _("Connected.");
        refreshComposer();
        openAtTheRightPlace();
        keepFollowing();
        break;
      case "message":
        // System lines (time-outs, redactions...) are read out by the log itself.
        showMessage(frame);
        break;
      case "history":
        if (approvalFetches.delete(frame.before_seq)) {
          for (const message of frame.messages) upsert(message);
          break;
        }
        {
          // Earlier messages go above: keep what the person is reading where it is.
          const fromEnd = logEl.scrollHeight - logEl.scrollTop;
          for (const message of frame.messages) showMessage(message);
          if (opened) logEl.scrollTop = logEl.scrollHeight - fromEnd;
        }
        olderButton.hidden = !frame.more;
        olderButton.disabled = false;
        if (!frame.more) unreadPages = UNREAD_PAGES; // nothing earlier to read back
        if (!opened) openAtTheRightPlace();
        break;
      case "ack": {
        const item = byClient.get(frame.client_id);
        if (item) {
          if (!item.dataset.seq) {
            item.dataset.seq = String(frame.seq);
            place(item, frame.seq);
            bySeq.set(frame.seq, item);
            const draft = drafts.get(frame.client_id);
            if (draft) known.set(frame.seq, { ...draft, seq: frame.seq, at: frame.at, status: frame.status });
            drafts.delete(frame.client_id);
            track(frame.seq);
          }
          stamp(item, frame.at);
          if (frame.status === "held") item.classList.add("message-held");
          if (frame.status === "held" && frame.note) {
            notes.set(frame.client_id, frame.note);
            // Said aloud once; after that the words stay under each waiting message.
            if (!newcomerToldOnce) {
              newcomerToldOnce = true;
              announce(frame.note);
            }
          }
          ownState(item, frame.status === "held" ? heldText(frame.client_id) : _("Sent"));
          keepFollowing();
        }
        break;
      }
      case "error": {
        if (frame.ref) break; // answers a request(): whoever asked shows it
        const item = frame.client_id ? byClient.get(frame.client_id) : null;
        if (frame.code === "timed_out" && typeof frame.retry_after === "number") {
          if (!timedOut()) setTimedOut(new Date(Date.now() + frame.retry_after * 1000).toISOString(), null);
          renderModeration();
        } else if (frame.code === "locked") {
          mod.locked = true;
          renderModeration();
        } else if (frame.code === "slow_mode" && typeof frame.retry_after === "number") {
          nextSendAt = Date.now() + frame.retry_after * 1000;
        }
        if (item) {
          ownState(item, _("Not sent. %(why)s", { why: frame.message }), true);
          announce(_("Your message was not sent. %(why)s", { why: frame.message }));
        } else {
          announce(frame.message);
        }
        if (frame.code === "rules_not_accepted" && rules) showRules({ ...rules, accepted: false });
        break;
      }
      case "room":
        showState(frame.state);
        break;
      case "rules.accepted":
        showRules({ ...rules, accepted: true });
        announce(_("Thank you. You can write now."));
        input.focus();
        break;
      case "presence":
        for (const p of frame.joined) present.set(p.id, p);
        for (const id of frame.left) present.delete(id);
        page.setRoles(frame.joined);
        renderPresence();
        break;
      case "typing": {
        const before = typing.get(frame.user.id);
        if (before) clearTimeout(before.timer);
        const timer = setTimeout(() => {
          typing.delete(frame.user.id);
          renderTyping();
        }, TYPING_SHOWN_MS);
        typing.set(frame.user.id, { name: frame.user.name, timer });
        renderTyping();
        break;
      }
      case "support":
        showSupport(frame);
        break;
      case "sanction":
        if (frame.kind === "timeout") {
          setTimedOut(frame.until, frame.reason || "");
          renderModeration();
          announce(
            frame.reason
              ? _("A moderator has paused your messages until %(when)s. Reason: %(reason)s", { when: whenText(frame.until), reason: frame.reason })
              : _("A moderator has paused your messages until %(when)s.", { when: whenText(frame.until) }),
          );
        } else if (frame.kind === "lifted") {
          setTimedOut(null, null);
          renderModeration();
          announce(_("A moderator lifted your time-out. You can write again."));
        }
        break;
      case "me.controls":
        personal.update(frame);
        break;
      case "report.handled":
        announce(reportHandled(frame));
        break;
      default:
        break;
    }
  });

  client.addEventListener("status", (event) => {
    const { state: connection, code, reason, retryIn } = /** @type {CustomEvent<{ state: string, [field: string]: any }>} */ (event).detail;
    if (connection === "connecting") statusEl.textContent = _("Connecting…");
    // "Connected." once the room is synced (its state known), not when the socket opens.
    else if (connection === "open") statusEl.textContent = _("Joining the room…");
    else if (connection === "waiting") {
      const seconds = Math.max(1, Math.round(retryIn / 1000));
      statusEl.textContent = ngettext("Connection lost. Trying again in %(num)s second…", "Connection lost. Trying again in %(num)s seconds…", seconds);
    } else if (connection === "closed") {
      statusEl.textContent =
        code === 1008
          ? reason
            ? _("You are no longer connected to this room. %(reason)s", { reason })
            : _("You are no longer connected to this room. Your session may have ended: reload the page or sign in again.")
          : _("Disconnected.");
    }
    refreshComposer();
  });

  /** @param {Frame} frame */
  function showSupport(frame) {
    supportEl.replaceChildren(
      el("h2", { id: "support-title", tabindex: "-1", text: _("You are not alone") }),
      el("p", { text: frame.message }),
      el(
        "ul",
        { className: "crisis-list" },
        ...frame.contacts.map((/** @type {{ [field: string]: any }} */ c) =>
          el(
            "li",
            {},
            ...withNodes(_("%(name)s: %(how)s"), {
              name: el("strong", { text: c.name }),
              how: c.href ? el("a", { href: c.href, text: c.how }) : el("span", { text: c.how }),
            }),
            c.description ? el("span", { className: "crisis-desc", text: _(" — %(description)s", { description: c.description }) }) : null,
          ),
        ),
      ),
      el("button", {
        type: "button",
        className: "button button-secondary",
        text: _("Close"),
        onclick: () => {
          supportEl.hidden = true;
          input.focus();
        },
      }),
    );
    supportEl.hidden = false;
    /** @type {HTMLElement} */ (document.getElementById("support-title")).focus();
  }

  // --- the composer and controls -------------------------------------------------------

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // The box grows with what is typed, up to a few lines (then it scrolls itself).
  function fitInput() {
    input.style.height = "auto";
    if (input.value) input.style.height = `${Math.min(input.scrollHeight + 4, 160)}px`;
  }

  input.addEventListener("input", () => {
    fitInput();
    if (!composerError.hidden) clearComposerError();
    const left = MAX_BODY - input.value.length;
    counter.textContent = left < 200 ? ngettext("%(num)s character left", "%(num)s characters left", left) : "";
    const now = Date.now();
    if (input.value && now - lastTyping > TYPING_EVERY_MS && !refusal()) {
      lastTyping = now;
      client.sendFrame({ type: "typing", room });
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim()) return;
    if (body.length > MAX_BODY) {
      announce(_("Messages can be up to %(max)s characters.", { max: new Intl.NumberFormat(lang).format(MAX_BODY) }));
      return;
    }
    const why = refusal();
    if (why) {
      // What was typed stays in the box.
      showComposerError(why);
      return;
    }
    clearComposerError();
    const clientId = client.sendMessage(room, body);
    noteSent();
    const draft = { room, kind: "text", body, client_id: clientId, sender: me, status: "visible" };
    drafts.set(clientId, draft);
    const item = render(draft, { own: true, pending: true });
    byClient.set(clientId, item);
    list.append(item);
    renderEmpty();
    toNewest();
    input.value = "";
    fitInput();
    counter.textContent = "";
    lastTyping = 0;
  });

  olderButton.addEventListener("click", () => {
    if (minSeq === null || minSeq <= 1) return;
    olderButton.disabled = true;
    client.sendFrame({ type: "history", room, before_seq: minSeq, limit: HISTORY_PAGE });
  });

  rulesButton.addEventListener("click", () => {
    if (rules) client.sendFrame({ type: "rules.accept", room, version: rules.version });
  });

  if (sessionButton) {
    sessionButton.addEventListener("click", () => {
      sessionButton.disabled = true;
      client.sendFrame({ type: state && state.session_open ? "session.close" : "session.open", room });
    });
  }
  if (modOnlyBox) {
    modOnlyBox.addEventListener("change", () => {
      client.sendFrame({ type: "room.settings", room, moderator_only: modOnlyBox.checked });
    });
  }

  // --- a narrow screen: the side panel in place of the messages ---------------------------

  const panelClosedText = panelToggle.textContent;
  /** @param {boolean} side */
  function showPanel(side) {
    rootEl.dataset.panel = side ? "side" : "messages";
    panelToggle.setAttribute("aria-expanded", side ? "true" : "false");
    panelToggle.textContent = side ? /** @type {string} */ (panelToggle.dataset.openText) : panelClosedText;
  }
  panelToggle.addEventListener("click", () => {
    const opening = rootEl.dataset.panel !== "side";
    showPanel(opening);
    if (opening) sidePanel.focus();
    else {
      if (following) toNewest();
      logEl.focus();
    }
  });
  // A link into the side panel (the console, from a notice) opens it first.
  window.addEventListener("hashchange", () => {
    const target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && sidePanel.contains(target) && rootEl.dataset.panel !== "side") showPanel(true);
    // The crisis panel opens over the room from the header's link: take focus there.
    if (location.hash === "#need-help-now") {
      const title = document.getElementById("crisis-panel-title");
      if (title) {
        title.setAttribute("tabindex", "-1");
        title.focus();
      }
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && location.hash === "#need-help-now") location.hash = "#room-title";
  });

  // The moderators' console, only on their page (its markup is only there).
  if (document.getElementById("mod-console")) startConsole(page);

  refreshComposer();
  client.follow(room, null);
  client.start();
  window.addEventListener("pagehide", () => client.stop());
}
