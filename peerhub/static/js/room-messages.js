// @ts-check
// The list of messages: each message drawn (text, system line, held, removed or
// rejected), put in seq order, drawn again when it changes; your own marked sending /
// sent / not sent, with a retry that reuses its client id; each message's menu of
// actions (room-menu.js); pages of earlier messages, and those a moderator approved.
// What mutes and blocks hide is room-filter.js. The messages themselves are in the
// room's state (room-state.js); this module keeps their elements.

import { actionsFor } from "./room-menu.js";
import { el, focusSafely, timeOf } from "./dom.js";
import { _ } from "./i18n.js";
import { redactionText, systemText } from "./room-events.js";
import { setupFilter } from "./room-filter.js";
import {
  acknowledge,
  expectApproved,
  forgetMessages,
  hasOlder,
  heldText,
  historyEnds,
  holdNote,
  isMine,
  isNewest,
  noteSent,
  refusal,
  remember,
  rememberNew,
  settleDraft,
  takeApproved,
  trackSeq,
} from "./room-state.js";

/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-state.js").RoomState} RoomState */
/**
 * What the list needs from the rest of the room (room.js wires it).
 * @typedef {object} MessagesDeps
 * @property {RoomState} st
 * @property {import("./realtime.js").RealtimeClient} client
 * @property {import("./moderator.js").Page} page the menu's actions run with it
 * @property {ReturnType<typeof import("./personal.js").setupPersonal>} personal
 * @property {() => import("./room-menu.js").Viewer} viewer
 * @property {(text: string) => void} announce
 * @property {() => void} focusComposer
 * @property {(message: Message) => void} onEvent a system message newer than any before: its room event
 * @property {ReturnType<typeof import("./room-scroll.js").setupScroll>} scroll
 */

const HISTORY_PAGE = 50;
const REJECTED_OWN = _("A moderator decided not to post this. Only you can see it.");

/** @param {MessagesDeps} deps */
export function setupMessages({ st, client, page, personal, viewer, announce, focusComposer, onEvent, scroll }) {
  /** The page's element with this id (the room's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const list = $("messages");
  const olderButton = /** @type {HTMLButtonElement} */ ($("older"));
  const emptyEl = $("room-empty");

  /** @type {Map<number, HTMLElement>} seq -> <li> */
  const bySeq = new Map();
  /** @type {Map<string, HTMLElement>} client id -> <li> (your own messages) */
  const byClient = new Map();

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
          const why = refusal(st);
          if (why) {
            ownState(item, _("Not sent. %(why)s", { why }), true);
            announce(why);
            return;
          }
          client.sendMessage(st.room, /** @type {string} */ (item.dataset.body), item.dataset.clientId);
          noteSent(st);
          ownState(item, _("Sending…"));
          focusComposer();
        },
      });
      holder.after(retry);
    }
  }

  /** @param {HTMLDetailsElement} menu @param {Message} message */
  function fillMenu(menu, message) {
    const listEl = /** @type {HTMLUListElement} */ (menu.querySelector("ul"));
    const shown = actionsFor(st.known.get(message.seq) || message, viewer());
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
              action.run(st.known.get(message.seq) || message, page);
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
    if (system) bodyText = systemText(st, message);
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
      if (status === "held") text = heldText(st, message.client_id);
      if (status === "rejected") text = REJECTED_OWN;
      if (status !== "redacted") item.append(el("p", { className: "message-state", "aria-live": "off", text }));
    }
    const menu = system || status === "redacted" ? null : menuFor(message);
    if (menu) item.append(menu);
    if (!pending) applyFilter(item, message);
    return item;
  }

  const { applyFilter, updateHiddenCount } = setupFilter({ st, personal });

  // Mutes, blocks or a hidden sender changed: every message (but your own) again.
  function refilter() {
    for (const [seq, item] of bySeq) {
      const message = st.known.get(seq);
      if (message && !item.classList.contains("message-own")) applyFilter(item, message);
    }
    updateHiddenCount();
  }

  // --- showing and updating messages ----------------------------------------------------

  /** @param {number} seq @param {Message} message */
  function replaceItem(seq, message) {
    const old = /** @type {HTMLElement} */ (bySeq.get(seq));
    const own = isMine(st, message);
    const fresh = render(message, { own });
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(fresh);
    bySeq.set(seq, fresh);
    if (own && message.client_id) byClient.set(message.client_id, fresh);
    if (hadFocus) focusSafely(fresh);
    updateHiddenCount();
  }

  /** A message the state changed (room-state.js changeMessage), drawn again. @param {number} seq */
  function redraw(seq) {
    const message = st.known.get(seq);
    if (message && bySeq.has(seq)) replaceItem(seq, message);
  }

  // A moderator approved a message: its text comes by history, which the server leaves
  // out for people who muted or blocked its writer.
  /** @param {number} seq */
  function fetchApproved(seq) {
    const had = st.known.get(seq);
    if (!bySeq.has(seq) || (had && had.status === "held")) {
      client.sendFrame({ type: "history", room: st.room, before_seq: expectApproved(st, seq), limit: 1 });
    }
  }

  // A message that may be new, or a newer copy of one shown (approved, redacted).
  /** @param {Message} message */
  function upsert(message) {
    if (bySeq.has(message.seq)) {
      remember(st, message);
      replaceItem(message.seq, message);
      return;
    }
    show(message);
  }

  /** @param {Message} message */
  function show(message) {
    const newest = isNewest(st, message.seq);
    if (message.kind === "system" && newest) onEvent(message);
    const old = bySeq.get(message.seq);
    if (old) {
      const before = st.known.get(message.seq);
      remember(st, message);
      if (old.classList.contains("message-own") && before && before.status === message.status) {
        ownState(old, message.status === "held" ? heldText(st, message.client_id) : _("Sent"));
        return;
      }
      replaceItem(message.seq, message);
      return;
    }
    if (message.kind === "system" && systemText(st, message) === null) {
      track(message.seq);
      return;
    }
    rememberNew(st, message);
    const mine = isMine(st, message);
    let item = mine ? byClient.get(message.client_id) : null;
    if (item) {
      settleDraft(st, message.client_id);
      item.dataset.seq = String(message.seq);
      stamp(item, message.at);
      if (message.status === "held") item.classList.add("message-held");
      ownState(item, message.status === "held" ? heldText(st, message.client_id) : _("Sent"));
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

  // Your message, at the end of the list until the server gives it a seq.
  /** @param {Message} draft */
  function showDraft(draft) {
    const item = render(draft, { own: true, pending: true });
    byClient.set(draft.client_id, item);
    list.append(item);
    renderEmpty();
  }

  /** The server stored your message (an `ack`). @param {import("./realtime.js").Frame} frame */
  function acknowledged(frame) {
    const item = byClient.get(frame.client_id);
    if (!item) return;
    if (!item.dataset.seq) {
      item.dataset.seq = String(frame.seq);
      place(item, frame.seq);
      bySeq.set(frame.seq, item);
      acknowledge(st, frame);
      track(frame.seq);
    }
    stamp(item, frame.at);
    if (frame.status === "held") item.classList.add("message-held");
    if (frame.status === "held" && frame.note) {
      // Said aloud once; after that the words stay under each waiting message.
      const first = holdNote(st, frame.client_id, frame.note);
      if (first) announce(first);
    }
    ownState(item, frame.status === "held" ? heldText(st, frame.client_id) : _("Sent"));
    scroll.keepFollowing();
  }

  /** Your message was refused; returns false when it is not on this page. @param {string | null | undefined} clientId @param {string} why */
  function notSent(clientId, why) {
    const item = clientId ? byClient.get(clientId) : null;
    if (!item) return false;
    ownState(item, _("Not sent. %(why)s", { why }), true);
    return true;
  }

  function renderEmpty() {
    emptyEl.hidden = !st.opened || list.querySelector("li.message") !== null;
  }

  /** @param {number} seq */
  function track(seq) {
    renderEmpty();
    trackSeq(st, seq);
    olderButton.hidden = !(/** @type {number} */ (st.minSeq) > 1);
    scroll.keepFollowing();
    scroll.scheduleRead();
  }

  /** @param {HTMLElement} item @param {string | null | undefined} at */
  function stamp(item, at) {
    const head = item.querySelector(".message-head");
    if (at && head && !head.querySelector("time")) {
      head.append(" ", el("time", { datetime: at, text: timeOf(at) }));
    }
  }

  // A `history` frame: the messages a moderator approved, or a page of earlier ones.
  /** @param {import("./realtime.js").Frame} frame */
  function history(frame) {
    if (takeApproved(st, frame.before_seq)) {
      for (const message of frame.messages) upsert(message);
      return;
    }
    scroll.keepPlace(() => {
      for (const message of frame.messages) show(message);
    });
    olderButton.hidden = !frame.more;
    olderButton.disabled = false;
    if (!frame.more) historyEnds(st); // nothing earlier to read back
    if (!st.opened) scroll.openAtTheRightPlace();
  }

  olderButton.addEventListener("click", () => {
    if (!hasOlder(st)) return;
    olderButton.disabled = true;
    client.sendFrame({ type: "history", room: st.room, before_seq: st.minSeq, limit: HISTORY_PAGE });
  });

  // Only the latest messages came (after a gap): what is shown goes.
  function clear() {
    for (const node of [.../** @type {HTMLCollectionOf<HTMLElement>} */ (list.children)]) {
      if (node.dataset.seq) node.remove();
    }
    scroll.forgetMarker();
    bySeq.clear();
    forgetMessages(st);
    updateHiddenCount();
  }

  return { show, history, redraw, fetchApproved, showDraft, acknowledged, notSent, refilter, renderEmpty, clear };
}
