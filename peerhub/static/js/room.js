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
//
// This is the entry point the room's template loads: it keeps the room's state
// (room-state.js), sets up the views (room-messages.js, room-scroll.js,
// room-composer.js, room-notices.js, room-session.js, room-people.js) and hands each
// of the server's frames to the state and the views it concerns.

import { RealtimeClient } from "./realtime.js";
import { whenText } from "./dom.js";
import { _ } from "./i18n.js";
import { setupPersonal } from "./personal.js";
import { startConsole } from "./moderator.js";
import { setupComposer } from "./room-composer.js";
import { setupMessages } from "./room-messages.js";
import { setupNotices } from "./room-notices.js";
import { setupPeople } from "./room-people.js";
import { setupScroll } from "./room-scroll.js";
import { setupSession } from "./room-session.js";
import {
  applyEvent,
  applyModeration,
  applySubscribed,
  changePresence,
  createRoomState,
  hideSender,
  holdSending,
  isStaff,
  roleOf,
  setLocked,
  setMe,
  setRoles,
  setRoomState,
  setRulesAccepted,
  timedOut,
} from "./room-state.js";

/** @typedef {import("./realtime.js").Frame} Frame */
/** @typedef {import("./room-menu.js").Message} Message */

const root = document.getElementById("room");
if (root) start(root);

/** @param {HTMLElement} rootEl */
function start(rootEl) {
  const st = createRoomState(/** @type {string} */ (rootEl.dataset.room), rootEl.dataset.role || "member");
  const room = st.room;
  /** The page's element with this id (the room's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const logEl = /** @type {HTMLElement} */ ($("messages").parentElement);
  const announcer = $("room-announcer");
  const panelToggle = $("panel-toggle");
  const sidePanel = $("room-side");

  const client = new RealtimeClient();

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
      hideSender(st, userId);
      messages.refilter();
    },
    fallbackFocus: () => logEl,
    me: () => st.me,
    role: () => st.role,
    roleOf: (userId) => roleOf(st, userId),
    setRoles: (people) => setRoles(st, people),
    message: (seq) => st.known.get(seq),
  };

  const personal = setupPersonal(page, () => messages.refilter());

  function viewer() {
    return {
      ...(st.me || {}),
      role: st.role,
      moderator: isStaff(st),
      roleOf: page.roleOf,
      isMuted: personal.isMuted,
      isBlocked: personal.isBlocked,
    };
  }

  // The views, each with what it needs of the others.
  const scroll = setupScroll({ st, client, onOpened: () => messages.renderEmpty() });
  const messages = setupMessages({
    st,
    client,
    page,
    personal,
    viewer,
    announce,
    focusComposer: () => composer.focus(),
    onEvent: applyRoomEvent,
    scroll,
  });
  const composer = setupComposer({ st, client, announce, messages, scroll });
  const notices = setupNotices({ st, announce, composer });
  const session = setupSession({ st, client, announce, onChange: () => composer.refresh() });
  const people = setupPeople({ st });

  // A room event changes what is on the page (once, in seq order).
  /** @param {Message} message */
  function applyRoomEvent(message) {
    const effect = applyEvent(st, message);
    if (!effect) return;
    if (effect.changed !== undefined) messages.redraw(effect.changed);
    if (effect.newcomer) notices.renderNewcomer();
    if (effect.approved !== undefined) messages.fetchApproved(effect.approved);
    if (effect.timeout) notices.setTimedOut(effect.timeout.until, null);
    notices.renderModeration();
  }

  /** @param {{ [field: string]: any } | null | undefined} extra */
  function subscribedExtra(extra) {
    if (!extra) return;
    const m = extra.moderation;
    if (m) {
      applyModeration(st, m);
      notices.setTimedOut(m.timed_out_until || null, null);
      notices.renderNewcomer();
    }
    if (extra.personal) personal.update(extra.personal);
    for (const item of extra.reports_handled || []) notices.reportHandled(item);
    notices.renderModeration();
  }

  // --- frames ------------------------------------------------------------------------------

  client.addEventListener("frame", (event) => {
    const frame = /** @type {CustomEvent<Frame>} */ (event).detail;
    if (frame.room && frame.room !== room) return;
    switch (frame.type) {
      case "welcome":
        setMe(st, frame.user);
        break;
      case "subscribed":
        if (frame.limited) messages.clear();
        applySubscribed(st, frame);
        composer.showRules();
        session.show();
        people.renderPresence();
        subscribedExtra(frame.extra);
        break;
      case "synced":
        notices.showSynced();
        composer.refresh();
        scroll.openAtTheRightPlace();
        scroll.keepFollowing();
        break;
      case "message":
        // System lines (time-outs, redactions...) are read out by the log itself.
        messages.show(frame);
        break;
      case "history":
        messages.history(frame);
        break;
      case "ack":
        messages.acknowledged(frame);
        break;
      case "error": {
        if (frame.ref) break; // answers a request(): whoever asked shows it
        if (frame.code === "timed_out" && typeof frame.retry_after === "number") {
          if (!timedOut(st)) notices.setTimedOut(new Date(Date.now() + frame.retry_after * 1000).toISOString(), null);
          notices.renderModeration();
        } else if (frame.code === "locked") {
          setLocked(st);
          notices.renderModeration();
        } else if (frame.code === "slow_mode" && typeof frame.retry_after === "number") {
          holdSending(st, frame.retry_after);
        }
        if (messages.notSent(frame.client_id, frame.message)) {
          announce(_("Your message was not sent. %(why)s", { why: frame.message }));
        } else {
          announce(frame.message);
        }
        if (frame.code === "rules_not_accepted" && st.rules) {
          setRulesAccepted(st, false);
          composer.showRules();
        }
        break;
      }
      case "room":
        setRoomState(st, frame.state);
        session.show();
        break;
      case "rules.accepted":
        setRulesAccepted(st, true);
        composer.showRules();
        announce(_("Thank you. You can write now."));
        composer.focus();
        break;
      case "presence":
        changePresence(st, frame.joined, frame.left);
        people.renderPresence();
        break;
      case "typing":
        people.typingFrom(frame.user);
        break;
      case "support":
        notices.showSupport(frame);
        break;
      case "sanction":
        notices.sanction(frame);
        break;
      case "me.controls":
        personal.update(frame);
        break;
      case "report.handled":
        announce(notices.reportHandled(frame));
        break;
      default:
        break;
    }
  });

  client.addEventListener("status", (event) => {
    notices.showConnection(/** @type {CustomEvent<{ state: string, [field: string]: any }>} */ (event).detail);
    composer.refresh();
  });

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
      if (scroll.following()) scroll.toNewest();
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

  composer.refresh();
  client.follow(room, null);
  client.start();
  window.addEventListener("pagehide", () => client.stop());
}
