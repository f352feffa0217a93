// @ts-check
// The moderator console (only on the pages of the group's moderators and organisers):
// reports, held messages, crisis alerts, the people in the group with their
// time-outs and bans, the room's settings (slow mode, lock, pinned announcement,
// hold-for-review words) and the audit log.
//
// The server is the truth: the console asks for the queue (`mod.queue`) when the
// room is synced and again whenever it is told the queue changed (`mod.changed`,
// `alert`). Lists are updated in place by key, so a note being typed in one report
// survives another report arriving. Each action announces its outcome (or refusal)
// in the page's polite live region; removing and banning are confirmed first.

import { act, outDialog, redactDialog, rejectDialog, timeoutDialog } from "./dialogs.js";
import { el, excerpt, focusSafely, slowText, timeEl, uid, withNodes } from "./dom.js";
import { _, lang, ngettext } from "./i18n.js";

/** @typedef {import("./realtime.js").Frame} Frame */
/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-menu.js").Person} Person */
/**
 * What room.js gives the console: the menu's api and more (room.js `page`).
 * @typedef {import("./room-menu.js").Api & {
 *   client: import("./realtime.js").RealtimeClient,
 *   me: () => Person | null,
 *   role: () => string,
 *   roleOf: (userId: string) => string,
 *   setRoles: (people: { id?: string, name?: string, role?: string }[]) => void,
 *   message: (seq: number) => Message | undefined,
 * }} Page
 */
/**
 * An entry of the `mod.queue` frame (a report, held message, alert, member, audit
 * entry) or its settings, read as the server sent it (docs/protocol.md).
 * @typedef {{ [field: string]: any }} QueueItem
 */

const QUEUE_GUARD_MS = 10000;

/** @param {number} minutes */
function duration(minutes) {
  if (minutes % 1440 === 0) return ngettext("%(num)s day", "%(num)s days", minutes / 1440);
  if (minutes % 60 === 0) return ngettext("%(num)s hour", "%(num)s hours", minutes / 60);
  return ngettext("%(num)s minute", "%(num)s minutes", minutes);
}

// The parts of a crisis plan a person may share with the group's moderators.
/** @type {Record<string, string>} */
const PLAN_PARTS = {
  early_signs: _("Early signs that I am struggling"),
  what_helps: _("What helps me"),
  what_does_not_help: _("What does not help"),
  who_to_contact: _("Who to contact, and how"),
  dependants: _("People or animals who depend on me"),
};

/**
 * @param {string} person
 * @param {unknown} plan
 */
function planDetails(person, plan) {
  if (!plan || typeof plan !== "object") return null;
  const parts = Object.entries(plan).filter(([, text]) => typeof text === "string" && text.trim());
  if (!parts.length) return null;
  return el(
    "details",
    { className: "console-plan" },
    el("summary", { text: _("%(name)s’s crisis plan (they chose to share it with you)", { name: person }) }),
    el("dl", { className: "summary" }, ...parts.flatMap(([key, text]) => [el("dt", { text: PLAN_PARTS[key] || key }), el("dd", { className: "pre-line", text })])),
  );
}

/** @param {QueueItem} entry */
function auditWhat(entry) {
  const d = entry.detail || {};
  switch (entry.action) {
    case "timeout":
      return d.minutes ? _("Timed out for %(duration)s", { duration: duration(d.minutes) }) : _("Timed out");
    case "timeout.lifted":
      return _("Lifted a time-out");
    case "remove":
      return _("Removed from the group");
    case "ban":
      return _("Banned from the group");
    case "ban.lifted":
      return _("Lifted a ban");
    case "redact":
      return _("Redacted a message");
    case "approve":
      return _("Approved a held message");
    case "reject":
      return _("Rejected a held message");
    case "slow_mode":
      return d.seconds ? _("Slow mode on: %(pace)s", { pace: slowText(d.seconds) }) : _("Slow mode off");
    case "lock":
      return _("Locked the room");
    case "unlock":
      return _("Unlocked the room");
    case "pin":
      return typeof d.text === "string" ? _("Pinned: “%(text)s”", { text: excerpt(d.text, 80) }) : _("Pinned an announcement");
    case "unpin":
      return _("Took down the pinned announcement");
    case "hold_words":
      return ngettext("Saved the hold-for-review list (%(num)s entry)", "Saved the hold-for-review list (%(num)s entries)", Number(d.count) || 0);
    case "report.resolved":
      return d.outcome === "action" ? _("Resolved a report: took action") : _("Resolved a report: no action needed");
    case "alert.seen":
      return _("Saw to a crisis alert");
    case "session.opened":
      return _("Opened the session");
    case "session.closed":
      return _("Closed the session");
    case "room.settings":
      return d.moderator_only ? _("Set the room to open only during sessions") : _("Set the room to open at any time");
    default:
      return entry.action;
  }
}

/** @param {Page} page */
export function startConsole(page) {
  /** The page's element with this id (the console's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const summary = $("queue-summary");
  const reportsEl = $("mod-reports");
  const heldEl = $("mod-held");
  const alertsEl = $("mod-alerts");
  const membersEl = $("mod-members");
  const bannedEl = $("mod-banned");
  const auditEl = $("mod-audit");
  const slowForm = $("slow-form");
  const slowSelect = /** @type {HTMLSelectElement} */ ($("slow-select"));
  const lockForm = $("lock-form");
  const lockState = $("lock-state");
  const lockReason = /** @type {HTMLInputElement} */ ($("lock-reason"));
  const lockButton = $("lock-button");
  const pinForm = $("pin-form");
  const pinCurrent = $("pin-current");
  const pinText = /** @type {HTMLTextAreaElement} */ ($("pin-text"));
  const unpinButton = $("unpin-button");
  const holdForm = $("hold-form");
  const holdWords = /** @type {HTMLTextAreaElement} */ ($("hold-words"));

  let inFlight = false;
  let again = false;
  /** @type {number | null} */
  let guard = null;
  let locked = false;
  let holdDirty = false;
  let slowDirty = false; // chosen but not yet set: a refresh must not undo the choice

  function refresh() {
    if (inFlight) {
      again = true;
      return;
    }
    if (!page.send({ type: "mod.queue", room: page.room })) return;
    inFlight = true;
    clearTimeout(guard);
    // If no answer comes (a dropped connection), the next change asks again.
    guard = setTimeout(() => {
      inFlight = false;
      if (again) {
        again = false;
        refresh();
      }
    }, QUEUE_GUARD_MS);
  }

  // Keep the nodes whose key is unchanged; add, re-order and drop the rest. When
  // the node holding focus goes, focus moves to the one now in its place.
  /**
   * @param {HTMLElement} listEl
   * @param {QueueItem[]} items
   * @param {(item: QueueItem) => unknown} keyOf
   * @param {(item: QueueItem) => HTMLElement} build
   * @param {HTMLElement | null} emptyEl
   * @param {HTMLElement} heading
   */
  function syncList(listEl, items, keyOf, build, emptyEl, heading) {
    const existing = new Map(
      [.../** @type {HTMLCollectionOf<HTMLElement>} */ (listEl.children)].map((node) => /** @type {[string | undefined, HTMLElement]} */ ([node.dataset.key, node])),
    );
    const wanted = items.map((item) => {
      const key = String(keyOf(item));
      const node = existing.get(key) || build(item);
      node.dataset.key = key;
      return node;
    });
    const keep = new Set(wanted);
    let lostAt = -1;
    [.../** @type {HTMLCollectionOf<HTMLElement>} */ (listEl.children)].forEach((node, index) => {
      if (keep.has(node)) return;
      if (node.contains(document.activeElement)) lostAt = index;
      node.remove();
    });
    wanted.forEach((node, index) => {
      if (listEl.children[index] !== node) listEl.insertBefore(node, listEl.children[index] || null);
    });
    if (emptyEl) emptyEl.hidden = items.length > 0;
    if (lostAt >= 0) {
      const next = wanted[Math.min(lostAt, wanted.length - 1)];
      const target = next ? next.querySelector("button") : null;
      focusSafely(target || heading);
    }
  }

  /** @param {...(HTMLElement | null)} buttons */
  function buttonsRow(...buttons) {
    return el("div", { className: "actions console-actions" }, ...buttons.filter(Boolean));
  }

  /**
   * @param {string} text
   * @param {() => unknown} onclick
   * @param {{ secondary?: boolean, danger?: boolean, context?: string }} [options]
   */
  function button(text, onclick, { secondary = false, danger = false, context = "" } = {}) {
    return el(
      "button",
      {
        type: "button",
        className: `button button-small${secondary ? " button-secondary" : ""}${danger ? " button-danger" : ""}`,
        onclick,
      },
      text,
      context ? el("span", { className: "visually-hidden", text: ` ${context}` }) : null,
    );
  }

  /** @param {Message | null | undefined} message */
  function quoted(message) {
    if (!message) return null;
    if (message.status === "redacted" || typeof message.body !== "string") {
      return el("p", { className: "hint", text: _("The message has been removed.") });
    }
    return el("blockquote", { className: "excerpt", text: excerpt(message.body, 300) });
  }

  /** @param {Person | null | undefined} person */
  function canActOn(person) {
    const me = page.me();
    if (!person || (me && person.id === me.id)) return false;
    const theirs = page.roleOf(person.id);
    return page.role() === "organiser" ? theirs !== "organiser" : theirs === "member";
  }

  // --- reports ------------------------------------------------------------------------

  /** @param {QueueItem} report */
  function buildReport(report) {
    const reporter = report.reporter ? report.reporter.name : _("Someone");
    const subject = report.subject;
    const noteId = uid("report-note");
    const names = { reporter, subject: subject ? subject.name : "" };
    const resolve = (/** @type {string} */ outcome) => {
      const note = /** @type {HTMLInputElement} */ (document.getElementById(noteId)).value.trim();
      act(
        page,
        { type: "mod.resolve", room: page.room, report: report.id, outcome, note },
        outcome === "action"
          ? _("Report resolved: you took action. %(reporter)s is told it was handled.", names)
          : _("Report resolved: no action needed. %(reporter)s is told it was handled.", names),
      );
    };
    const message = report.message && report.message.seq ? { ...report.message, kind: "text", sender: subject } : null;
    return el(
      "li",
      { className: "console-item" },
      el("p", { className: "console-item-head" }, el("strong", { text: report.category_text || report.category }), " · ", timeEl(report.at)),
      el("p", { text: subject ? _("%(reporter)s reported %(subject)s.", names) : _("%(reporter)s made a report.", names) }),
      quoted(report.message),
      report.words ? el("p", { className: "console-words" }, ...withNodes(_("In their words: %(words)s"), { words: el("span", { text: report.words }) })) : null,
      el(
        "div",
        { className: "field console-field" },
        el("label", { for: noteId, text: _("Note (optional, for the audit log)") }),
        el("input", { id: noteId, type: "text", maxlength: "500", autocomplete: "off" }),
      ),
      buttonsRow(
        button(_("Took action"), () => resolve("action"), {
          context: subject ? _("on the report by %(reporter)s about %(subject)s", names) : _("on the report by %(reporter)s", names),
        }),
        button(_("No action needed"), () => resolve("no_action"), {
          secondary: true,
          context: subject ? _("for the report by %(reporter)s about %(subject)s", names) : _("for the report by %(reporter)s", names),
        }),
        message && message.body && message.status === "visible"
          ? button(_("Redact the message"), () => redactDialog(message, page), { secondary: true, context: _("reported by %(reporter)s", names) })
          : null,
        subject && canActOn(subject) ? button(_("Time out %(name)s", { name: subject.name }), () => timeoutDialog(subject, page), { secondary: true }) : null,
      ),
    );
  }

  // --- held messages and alerts --------------------------------------------------------------

  /** @param {QueueItem} held */
  function buildHeld(held) {
    const sender = held.sender || { id: "", name: _("Someone") };
    const message = { seq: held.seq, kind: "text", sender, body: held.body, status: "held" };
    return el(
      "li",
      { className: "console-item" },
      el("p", { className: "console-item-head" }, el("strong", { text: sender.name }), " · ", timeEl(held.at)),
      el("blockquote", { className: "excerpt", text: excerpt(held.body || "", 300) }),
      buttonsRow(
        button(
          _("Approve"),
          () =>
            act(
              page,
              { type: "mod.approve", room: page.room, seq: held.seq },
              _("Approved: everyone can now see %(name)s’s message.", { name: sender.name }),
            ),
          { context: _("%(name)s’s message", { name: sender.name }) },
        ),
        button(_("Reject"), () => rejectDialog(message, page), { secondary: true, context: _("%(name)s’s message", { name: sender.name }) }),
      ),
    );
  }

  /** @param {QueueItem} alert */
  function buildAlert(alert) {
    const person = alert.person ? alert.person.name : _("Someone");
    return el(
      "li",
      { className: "console-item console-alert" },
      el("p", { className: "console-item-head" }, el("strong", { text: _("%(name)s may need support", { name: person }) }), " · ", timeEl(alert.at)),
      quoted(alert.message),
      el("p", { className: "hint", text: _("%(name)s was offered crisis contacts. A kind word from a moderator may help.", { name: person }) }),
      planDetails(person, alert.crisis_plan),
      alert.opened_by
        ? el("p", { className: "hint", text: _("%(name)s is on it.", { name: alert.opened_by.name }) })
        : el("p", { className: "hint", text: _("If nobody opens it soon, it is passed on to the organisers.") }),
      /** @type {HTMLElement} */ (
        buttonsRow(
          alert.opened_by
            ? null
            : button(
                _("I’m on it"),
                () =>
                  act(
                    page,
                    { type: "mod.alert_open", room: page.room, alert: alert.id },
                    _("You are on it: the alert about %(name)s will not be passed on.", { name: person }),
                  ),
                { context: `(${person})` },
              ),
          el(
            "a",
            { className: "button button-small button-secondary", href: `/duty/alerts/${encodeURIComponent(alert.id)}` },
            _("Record what was done"),
            el("span", { className: "visually-hidden", text: ` (${person})` }),
          ),
        )
      ),
    );
  }

  // --- people ------------------------------------------------------------------------------

  /** @param {QueueItem} member */
  function buildMember(member) {
    const me = page.me();
    const person = { id: member.id, name: member.name };
    const status = [];
    if (member.role === "moderator") status.push(_("moderator"));
    else if (member.role === "organiser") status.push(_("organiser"));
    if (me && member.id === me.id) status.push(_("you"));
    const item = el(
      "li",
      { className: "console-person" },
      el("p", { className: "console-person-name" }, el("strong", { text: member.name }), status.length ? ` (${new Intl.ListFormat(lang, { type: "unit" }).format(status)})` : ""),
    );
    if (member.timed_out_until) {
      item.append(el("p", { className: "console-state" }, ...withNodes(_("Timed out until %(when)s."), { when: timeEl(member.timed_out_until) })));
    }
    if (canActOn(person)) {
      item.append(
        buttonsRow(
          member.timed_out_until
            ? button(
                _("Lift time-out"),
                () =>
                  act(
                    page,
                    { type: "mod.untimeout", room: page.room, user: member.id },
                    _("%(name)s’s time-out is lifted.", { name: member.name }),
                  ),
                { secondary: true, context: _("for %(name)s", { name: member.name }) },
              )
            : button(_("Time out"), () => timeoutDialog(person, page), { secondary: true, context: member.name }),
          button(_("Remove"), () => outDialog(person, page, { ban: false }), { secondary: true, context: member.name }),
          button(_("Ban"), () => outDialog(person, page, { ban: true }), { danger: true, context: member.name }),
        ),
      );
    }
    return item;
  }

  /** @param {QueueItem} person */
  function buildBanned(person) {
    return el(
      "li",
      { className: "console-person" },
      el("p", { className: "console-person-name" }, el("strong", { text: person.name })),
      buttonsRow(
        button(
          _("Lift the ban"),
          () =>
            act(
              page,
              { type: "mod.unban", room: page.room, user: person.id },
              _("%(name)s’s ban is lifted: they may join the group again.", { name: person.name }),
            ),
          { secondary: true, context: _("on %(name)s", { name: person.name }) },
        ),
      ),
    );
  }

  // --- the room's settings and the audit log ---------------------------------------------------

  /** @param {QueueItem} settings */
  function showSettings(settings) {
    const slow = String(settings.slow_mode_seconds || 0);
    if (![...slowSelect.options].some((o) => o.value === slow)) {
      slowSelect.append(el("option", { value: slow, text: _("Now: %(pace)s", { pace: slowText(Number(slow)) }) }));
    }
    if (!slowDirty && document.activeElement !== slowSelect) slowSelect.value = slow;

    locked = Boolean(settings.locked);
    lockState.textContent = locked ? _("The room is locked: members can read but not write.") : _("The room is open for members to write.");
    lockButton.textContent = locked ? _("Unlock the room") : _("Lock the room");

    const pinned = settings.pinned;
    pinCurrent.replaceChildren(...(pinned ? withNodes(_("Pinned now: %(text)s"), { text: el("q", { text: pinned }) }) : [_("Nothing is pinned.")]));
    unpinButton.hidden = !pinned;

    if (!holdDirty && document.activeElement !== holdWords) holdWords.value = (settings.hold_words || []).join("\n");

    // Why members' first messages appear here (the group's form sets it).
    const firstOnes = Number(settings.newcomer_messages) || 0;
    const newcomers = $("held-newcomers");
    newcomers.hidden = !firstOnes;
    newcomers.textContent = firstOnes
      ? firstOnes === 1
        ? _("A new member’s first message waits here too, until a moderator has read it (the group’s setting).")
        : ngettext(
            "A new member’s first %(num)s message waits here too, until a moderator has read it (the group’s setting).",
            "A new member’s first %(num)s messages wait here too, until a moderator has read them (the group’s setting).",
            firstOnes,
          )
      : "";
  }

  /** @param {QueueItem[]} entries */
  function showAudit(entries) {
    auditEl.replaceChildren(
      ...entries.map((entry) =>
        el(
          "tr",
          {},
          el("td", {}, timeEl(entry.at)),
          el("td", { text: entry.actor ? entry.actor.name : "—" }),
          el("td", { text: auditWhat(entry) }),
          el("td", { text: entry.subject ? entry.subject.name : "—" }),
          el("td", { className: "break-anywhere", text: entry.reason || "—" }),
        ),
      ),
    );
    if (!entries.length) auditEl.append(el("tr", {}, el("td", { colspan: "5", text: _("Nothing yet.") })));
  }

  /** @param {Frame} queue the `mod.queue` frame */
  function show(queue) {
    page.setRoles(queue.members);
    syncList(reportsEl, queue.reports, (r) => `${r.id}|${r.message ? r.message.status : ""}`, buildReport, $("reports-empty"), $("reports-title"));
    syncList(heldEl, queue.held, (h) => h.seq, buildHeld, $("held-empty"), $("held-title"));
    syncList(alertsEl, queue.alerts, (a) => `${a.id}|${a.message ? a.message.status : ""}|${a.crisis_plan ? JSON.stringify(a.crisis_plan).length : 0}`, buildAlert, $("alerts-empty"), $("alerts-title"));
    syncList(membersEl, queue.members, (m) => `${m.id}|${m.role}|${m.timed_out_until || ""}`, buildMember, null, $("people-title"));
    syncList(bannedEl, queue.banned, (b) => b.id, buildBanned, $("banned-empty"), $("banned-title"));
    $("reports-count").textContent = String(queue.reports.length);
    $("held-count").textContent = String(queue.held.length);
    $("alerts-count").textContent = String(queue.alerts.length);
    // Each count on its own first (the extractor finds no call nested in another's arguments).
    const reports = ngettext("%(num)s report", "%(num)s reports", queue.reports.length);
    const held = ngettext("%(num)s held message", "%(num)s held messages", queue.held.length);
    const alerts = ngettext("%(num)s crisis alert", "%(num)s crisis alerts", queue.alerts.length);
    summary.textContent = _("Waiting: %(reports)s, %(held)s, %(alerts)s.", { reports, held, alerts });
    showSettings(queue.settings || {});
    showAudit(queue.audit || []);
  }

  // --- frames ------------------------------------------------------------------------------

  page.client.addEventListener("frame", (event) => {
    const frame = /** @type {CustomEvent<Frame>} */ (event).detail;
    if (frame.room && frame.room !== page.room) return;
    switch (frame.type) {
      case "synced":
        refresh();
        break;
      case "mod.changed":
        if (frame.what === "report") page.notify(_("A new report is waiting in the moderator console."));
        else if (frame.what === "held") page.notify(_("A message is waiting for review in the moderator console."));
        refresh();
        break;
      case "alert":
        page.notify(
          _("%(name)s may need support. See “Crisis alerts” in the moderator console.", {
            name: frame.sender ? frame.sender.name : _("Someone"),
          }),
        );
        refresh();
        break;
      case "mod.queue":
        inFlight = false;
        clearTimeout(guard);
        show(frame);
        if (again) {
          again = false;
          refresh();
        }
        break;
      default:
        break;
    }
  });

  // --- the forms ---------------------------------------------------------------------------

  slowSelect.addEventListener("change", () => {
    slowDirty = true;
  });
  slowForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const seconds = Number(slowSelect.value);
    const ok = await act(
      page,
      { type: "mod.slow", room: page.room, seconds },
      seconds ? _("Slow mode is on: %(pace)s for members.", { pace: slowText(seconds) }) : _("Slow mode is off."),
    );
    if (ok) slowDirty = false;
  });

  lockForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = !locked;
    const ok = await act(
      page,
      { type: "mod.lock", room: page.room, locked: next, reason: lockReason.value.trim() },
      next ? _("The room is locked: members can read but not write.") : _("The room is unlocked: members can write again."),
    );
    if (ok) lockReason.value = "";
  });

  pinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = pinText.value.trim();
    if (!text) {
      page.notify(_("Write the announcement first."));
      pinText.focus();
      return;
    }
    if (await act(page, { type: "mod.pin", room: page.room, text }, _("The announcement is pinned at the top of the room."))) pinText.value = "";
  });

  unpinButton.addEventListener("click", async () => {
    await act(page, { type: "mod.unpin", room: page.room }, _("The pinned announcement was taken down."));
    pinText.focus();
  });

  holdWords.addEventListener("input", () => {
    holdDirty = true;
  });
  holdForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = await act(
      page,
      { type: "mod.hold_words", room: page.room, words: holdWords.value },
      (done) =>
        ngettext(
          "Saved: %(num)s word or phrase now holds messages for review.",
          "Saved: %(num)s words or phrases now hold messages for review.",
          Number(done.count) || 0,
        ),
    );
    if (ok) holdDirty = false;
  });

  return { refresh };
}
