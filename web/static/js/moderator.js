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
import { el, excerpt, focusSafely, plural, slowText, timeEl, uid } from "./dom.js";

const QUEUE_GUARD_MS = 10000;

function duration(minutes) {
  if (minutes % 1440 === 0) return plural(minutes / 1440, "day");
  if (minutes % 60 === 0) return plural(minutes / 60, "hour");
  return plural(minutes, "minute");
}

// The parts of a crisis plan a person may share with the group's moderators.
const PLAN_PARTS = {
  early_signs: "Early signs that I am struggling",
  what_helps: "What helps me",
  what_does_not_help: "What does not help",
  who_to_contact: "Who to contact, and how",
  dependants: "People or animals who depend on me",
};

function planDetails(person, plan) {
  if (!plan || typeof plan !== "object") return null;
  const parts = Object.entries(plan).filter(([, text]) => typeof text === "string" && text.trim());
  if (!parts.length) return null;
  return el(
    "details",
    { className: "console-plan" },
    el("summary", { text: `${person}’s crisis plan (they chose to share it with you)` }),
    el("dl", { className: "summary" }, ...parts.flatMap(([key, text]) => [el("dt", { text: PLAN_PARTS[key] || key }), el("dd", { className: "pre-line", text })])),
  );
}

function auditWhat(entry) {
  const d = entry.detail || {};
  switch (entry.action) {
    case "timeout":
      return `Timed out${d.minutes ? ` for ${duration(d.minutes)}` : ""}`;
    case "timeout.lifted":
      return "Lifted a time-out";
    case "remove":
      return "Removed from the group";
    case "ban":
      return "Banned from the group";
    case "ban.lifted":
      return "Lifted a ban";
    case "redact":
      return "Redacted a message";
    case "approve":
      return "Approved a held message";
    case "reject":
      return "Rejected a held message";
    case "slow_mode":
      return d.seconds ? `Slow mode on: ${slowText(d.seconds)}` : "Slow mode off";
    case "lock":
      return "Locked the room";
    case "unlock":
      return "Unlocked the room";
    case "pin":
      return typeof d.text === "string" ? `Pinned: “${excerpt(d.text, 80)}”` : "Pinned an announcement";
    case "unpin":
      return "Took down the pinned announcement";
    case "hold_words":
      return `Saved the hold-for-review list (${plural(Number(d.count) || 0, "entry", "entries")})`;
    case "report.resolved":
      return `Resolved a report: ${d.outcome === "action" ? "took action" : "no action needed"}`;
    case "alert.seen":
      return "Saw to a crisis alert";
    case "session.opened":
      return "Opened the session";
    case "session.closed":
      return "Closed the session";
    case "room.settings":
      return d.moderator_only ? "Set the room to open only during sessions" : "Set the room to open at any time";
    default:
      return entry.action;
  }
}

export function startConsole(page) {
  const $ = (id) => document.getElementById(id);
  const summary = $("queue-summary");
  const reportsEl = $("mod-reports");
  const heldEl = $("mod-held");
  const alertsEl = $("mod-alerts");
  const membersEl = $("mod-members");
  const bannedEl = $("mod-banned");
  const auditEl = $("mod-audit");
  const slowForm = $("slow-form");
  const slowSelect = $("slow-select");
  const lockForm = $("lock-form");
  const lockState = $("lock-state");
  const lockReason = $("lock-reason");
  const lockButton = $("lock-button");
  const pinForm = $("pin-form");
  const pinCurrent = $("pin-current");
  const pinText = $("pin-text");
  const unpinButton = $("unpin-button");
  const holdForm = $("hold-form");
  const holdWords = $("hold-words");

  let inFlight = false;
  let again = false;
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
  function syncList(listEl, items, keyOf, build, emptyEl, heading) {
    const existing = new Map([...listEl.children].map((node) => [node.dataset.key, node]));
    const wanted = items.map((item) => {
      const key = String(keyOf(item));
      const node = existing.get(key) || build(item);
      node.dataset.key = key;
      return node;
    });
    const keep = new Set(wanted);
    let lostAt = -1;
    [...listEl.children].forEach((node, index) => {
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

  function buttonsRow(...buttons) {
    return el("div", { className: "actions console-actions" }, ...buttons.filter(Boolean));
  }

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

  function quoted(message) {
    if (!message) return null;
    if (message.status === "redacted" || typeof message.body !== "string") {
      return el("p", { className: "hint", text: "The message has been removed." });
    }
    return el("blockquote", { className: "excerpt", text: excerpt(message.body, 300) });
  }

  function canActOn(person) {
    const me = page.me();
    if (!person || (me && person.id === me.id)) return false;
    const theirs = page.roleOf(person.id);
    return page.role() === "organiser" ? theirs !== "organiser" : theirs === "member";
  }

  // --- reports ------------------------------------------------------------------------

  function buildReport(report) {
    const reporter = report.reporter ? report.reporter.name : "Someone";
    const subject = report.subject;
    const noteId = uid("report-note");
    const context = `the report by ${reporter}${subject ? ` about ${subject.name}` : ""}`;
    const resolve = (outcome) => {
      const note = document.getElementById(noteId).value.trim();
      act(
        page,
        { type: "mod.resolve", room: page.room, report: report.id, outcome, note },
        outcome === "action"
          ? `Report resolved: you took action. ${reporter} is told it was handled.`
          : `Report resolved: no action needed. ${reporter} is told it was handled.`,
      );
    };
    const message = report.message && report.message.seq ? { ...report.message, kind: "text", sender: subject } : null;
    return el(
      "li",
      { className: "console-item" },
      el("p", { className: "console-item-head" }, el("strong", { text: report.category_text || report.category }), " · ", timeEl(report.at)),
      el("p", { text: subject ? `${reporter} reported ${subject.name}.` : `${reporter} made a report.` }),
      quoted(report.message),
      report.words ? el("p", { className: "console-words" }, el("span", { className: "console-label", text: "In their words: " }), report.words) : null,
      el(
        "div",
        { className: "field console-field" },
        el("label", { for: noteId, text: "Note (optional, for the audit log)" }),
        el("input", { id: noteId, type: "text", maxlength: "500", autocomplete: "off" }),
      ),
      buttonsRow(
        button("Took action", () => resolve("action"), { context: `on ${context}` }),
        button("No action needed", () => resolve("no_action"), { secondary: true, context: `for ${context}` }),
        message && message.body && message.status === "visible"
          ? button("Redact the message", () => redactDialog(message, page), { secondary: true, context: `reported by ${reporter}` })
          : null,
        subject && canActOn(subject) ? button(`Time out ${subject.name}`, () => timeoutDialog(subject, page), { secondary: true }) : null,
      ),
    );
  }

  // --- held messages and alerts --------------------------------------------------------------

  function buildHeld(held) {
    const sender = held.sender || { id: "", name: "Someone" };
    const message = { seq: held.seq, kind: "text", sender, body: held.body, status: "held" };
    return el(
      "li",
      { className: "console-item" },
      el("p", { className: "console-item-head" }, el("strong", { text: sender.name }), " · ", timeEl(held.at)),
      el("blockquote", { className: "excerpt", text: excerpt(held.body || "", 300) }),
      buttonsRow(
        button(
          "Approve",
          () => act(page, { type: "mod.approve", room: page.room, seq: held.seq }, `Approved: everyone can now see ${sender.name}’s message.`),
          { context: `${sender.name}’s message` },
        ),
        button("Reject", () => rejectDialog(message, page), { secondary: true, context: `${sender.name}’s message` }),
      ),
    );
  }

  function buildAlert(alert) {
    const person = alert.person ? alert.person.name : "Someone";
    return el(
      "li",
      { className: "console-item console-alert" },
      el("p", { className: "console-item-head" }, el("strong", { text: `${person} may need support` }), " · ", timeEl(alert.at)),
      quoted(alert.message),
      el("p", { className: "hint", text: `${person} was offered crisis contacts. A kind word from a moderator may help.` }),
      planDetails(person, alert.crisis_plan),
      buttonsRow(
        button(
          "I’ve seen to this",
          () => act(page, { type: "mod.alert_done", room: page.room, alert: alert.id }, `Marked as seen to: the alert about ${person}.`),
          { context: `(${person})` },
        ),
      ),
    );
  }

  // --- people ------------------------------------------------------------------------------

  function buildMember(member) {
    const me = page.me();
    const person = { id: member.id, name: member.name };
    const status = [];
    if (member.role !== "member") status.push(member.role);
    if (me && member.id === me.id) status.push("you");
    const item = el(
      "li",
      { className: "console-person" },
      el("p", { className: "console-person-name" }, el("strong", { text: member.name }), status.length ? ` (${status.join(", ")})` : ""),
    );
    if (member.timed_out_until) {
      item.append(el("p", { className: "console-state" }, "Timed out until ", timeEl(member.timed_out_until), "."));
    }
    if (canActOn(person)) {
      item.append(
        buttonsRow(
          member.timed_out_until
            ? button(
                "Lift time-out",
                () => act(page, { type: "mod.untimeout", room: page.room, user: member.id }, `${member.name}’s time-out is lifted.`),
                { secondary: true, context: `for ${member.name}` },
              )
            : button("Time out", () => timeoutDialog(person, page), { secondary: true, context: member.name }),
          button("Remove", () => outDialog(person, page, { ban: false }), { secondary: true, context: member.name }),
          button("Ban", () => outDialog(person, page, { ban: true }), { danger: true, context: member.name }),
        ),
      );
    }
    return item;
  }

  function buildBanned(person) {
    return el(
      "li",
      { className: "console-person" },
      el("p", { className: "console-person-name" }, el("strong", { text: person.name })),
      buttonsRow(
        button(
          "Lift the ban",
          () => act(page, { type: "mod.unban", room: page.room, user: person.id }, `${person.name}’s ban is lifted: they may join the group again.`),
          { secondary: true, context: `on ${person.name}` },
        ),
      ),
    );
  }

  // --- the room's settings and the audit log ---------------------------------------------------

  function showSettings(settings) {
    const slow = String(settings.slow_mode_seconds || 0);
    if (![...slowSelect.options].some((o) => o.value === slow)) {
      slowSelect.append(el("option", { value: slow, text: `Now: ${slowText(Number(slow))}` }));
    }
    if (!slowDirty && document.activeElement !== slowSelect) slowSelect.value = slow;

    locked = Boolean(settings.locked);
    lockState.textContent = locked ? "The room is locked: members can read but not write." : "The room is open for members to write.";
    lockButton.textContent = locked ? "Unlock the room" : "Lock the room";

    const pinned = settings.pinned;
    pinCurrent.replaceChildren(...(pinned ? ["Pinned now: ", el("q", { text: pinned })] : ["Nothing is pinned."]));
    unpinButton.hidden = !pinned;

    if (!holdDirty && document.activeElement !== holdWords) holdWords.value = (settings.hold_words || []).join("\n");

    // Why members' first messages appear here (the group's form sets it).
    const firstOnes = Number(settings.newcomer_messages) || 0;
    const newcomers = $("held-newcomers");
    newcomers.hidden = !firstOnes;
    newcomers.textContent = firstOnes
      ? firstOnes === 1
        ? "A new member’s first message waits here too, until a moderator has read it (the group’s setting)."
        : `A new member’s first ${firstOnes} messages wait here too, until a moderator has read them (the group’s setting).`
      : "";
  }

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
    if (!entries.length) auditEl.append(el("tr", {}, el("td", { colspan: "5", text: "Nothing yet." })));
  }

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
    summary.textContent = `Waiting: ${plural(queue.reports.length, "report")}, ${plural(queue.held.length, "held message")}, ${plural(
      queue.alerts.length,
      "crisis alert",
    )}.`;
    showSettings(queue.settings || {});
    showAudit(queue.audit || []);
  }

  // --- frames ------------------------------------------------------------------------------

  page.client.addEventListener("frame", (event) => {
    const frame = event.detail;
    if (frame.room && frame.room !== page.room) return;
    switch (frame.type) {
      case "synced":
        refresh();
        break;
      case "mod.changed":
        if (frame.what === "report") page.notify("A new report is waiting in the moderator console.");
        else if (frame.what === "held") page.notify("A message is waiting for review in the moderator console.");
        refresh();
        break;
      case "alert":
        page.notify(`${frame.sender ? frame.sender.name : "Someone"} may need support. See “Crisis alerts” in the moderator console.`);
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
      seconds ? `Slow mode is on: ${slowText(seconds)} for members.` : "Slow mode is off.",
    );
    if (ok) slowDirty = false;
  });

  lockForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = !locked;
    const ok = await act(
      page,
      { type: "mod.lock", room: page.room, locked: next, reason: lockReason.value.trim() },
      next ? "The room is locked: members can read but not write." : "The room is unlocked: members can write again.",
    );
    if (ok) lockReason.value = "";
  });

  pinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = pinText.value.trim();
    if (!text) {
      page.notify("Write the announcement first.");
      pinText.focus();
      return;
    }
    if (await act(page, { type: "mod.pin", room: page.room, text }, "The announcement is pinned at the top of the room.")) pinText.value = "";
  });

  unpinButton.addEventListener("click", async () => {
    await act(page, { type: "mod.unpin", room: page.room }, "The pinned announcement was taken down.");
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
      (done) => `Saved: ${plural(Number(done.count) || 0, "word or phrase", "words or phrases")} now hold messages for review.`,
    );
    if (ok) holdDirty = false;
  });

  return { refresh };
}
