// @ts-check
// The notices around the messages: the connection's status; what moderators have set
// (a pinned announcement, a locked room, slow mode) and your own time-out, which ends by
// itself; the newcomer's notice (a moderator reads your first messages); the outcome of
// your reports; and the crisis contacts ("You are not alone") when a message of yours
// was flagged. What they show is in the room's state (room-state.js).

import { el, slowText, timeEl, whenText, withNodes } from "./dom.js";
import { _, ngettext } from "./i18n.js";
import { isStaff, refusal, setTimedOut, timedOut } from "./room-state.js";

/** @typedef {import("./realtime.js").Frame} Frame */
/** @typedef {import("./room-state.js").RoomState} RoomState */
/**
 * @typedef {object} NoticesDeps
 * @property {RoomState} st
 * @property {(text: string) => void} announce
 * @property {ReturnType<typeof import("./room-composer.js").setupComposer>} composer
 */

/** @param {NoticesDeps} deps */
export function setupNotices({ st, announce, composer }) {
  /** The page's element with this id (the room's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const statusEl = $("room-status");
  const pinnedEl = $("pinned");
  const pinnedText = $("pinned-text");
  const timeoutNotice = $("timeout-notice");
  const lockNotice = $("lock-notice");
  const slowNotice = $("slow-notice");
  const reportNotices = $("report-notices");
  const newcomerNotice = $("newcomer-notice");
  const supportEl = $("support");

  /** @type {number | null} */
  let timeoutTimer = null;

  // --- the connection -------------------------------------------------------------------

  /** The client's `status` event. @param {{ state: string, [field: string]: any }} detail */
  function showConnection({ state: connection, code, reason, retryIn }) {
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
  }

  function showSynced() {
    statusEl.textContent = _("Connected.");
  }

  // --- moderation: pinned, locked, slow mode, your time-out -------------------------------

  // until: ISO time or null; reason: text, or null to keep the one known for this until.
  /** @param {string | null} until @param {string | null} reason */
  function timeOut(until, reason) {
    clearTimeout(timeoutTimer);
    const wait = setTimedOut(st, until, reason);
    if (wait === null) return;
    timeoutTimer = setTimeout(() => {
      setTimedOut(st, null, null);
      renderModeration();
      announce(_("Your time-out has ended. You can write again."));
    }, wait);
  }

  function renderModeration() {
    const mod = st.mod;
    pinnedEl.hidden = !mod.pinned;
    pinnedText.textContent = mod.pinned ? mod.pinned.text : "";

    const staff = isStaff(st);
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
    if (!staff && timedOut(st)) {
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
    if (!refusal(st)) composer.clearError();
  }

  // A `sanction` frame: a moderator timed you out, or lifted it.
  /** @param {Frame} frame */
  function sanction(frame) {
    if (frame.kind === "timeout") {
      timeOut(frame.until, frame.reason || "");
      renderModeration();
      announce(
        frame.reason
          ? _("A moderator has paused your messages until %(when)s. Reason: %(reason)s", { when: whenText(frame.until), reason: frame.reason })
          : _("A moderator has paused your messages until %(when)s.", { when: whenText(frame.until) }),
      );
    } else if (frame.kind === "lifted") {
      timeOut(null, null);
      renderModeration();
      announce(_("A moderator lifted your time-out. You can write again."));
    }
  }

  function renderNewcomer() {
    const newcomer = st.newcomer;
    const show = newcomer !== null && !isStaff(st) && newcomer.seen < newcomer.messages;
    newcomerNotice.hidden = !show;
    newcomerNotice.textContent =
      show && newcomer
        ? newcomer.messages === 1
          ? _("Welcome. Because you are new here, a moderator reads your first message before everyone sees it.")
          : ngettext(
              "Welcome. Because you are new here, a moderator reads your first %(num)s message before everyone sees it.",
              "Welcome. Because you are new here, a moderator reads your first %(num)s messages before everyone sees them.",
              newcomer.messages,
            )
        : "";
  }

  // --- your reports -----------------------------------------------------------------------

  // A report of yours was handled: a notice until dismissed; returns what it says.
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
          composer.focus();
        },
      }),
    );
    reportNotices.append(entry);
    reportNotices.hidden = false;
    return text;
  }

  // --- the crisis contacts ------------------------------------------------------------------

  /** A `support` frame. @param {Frame} frame */
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
          composer.focus();
        },
      }),
    );
    supportEl.hidden = false;
    /** @type {HTMLElement} */ (document.getElementById("support-title")).focus();
  }

  return {
    showConnection,
    showSynced,
    setTimedOut: timeOut,
    renderModeration,
    sanction,
    renderNewcomer,
    reportHandled,
    showSupport,
  };
}
