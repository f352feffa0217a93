// Modal dialogs for the room's reports, confirmations and moderator actions.
//
// A native <dialog> opened with showModal(): the rest of the page is inert, focus
// starts in the dialog and stays there, Escape cancels, and focus goes back to
// where it was (or to a fallback when that element has gone, e.g. a message that
// was re-drawn). A refusal from the server is shown inside the dialog, which stays
// open so nothing typed is lost.

import { el, excerpt, focusSafely, uid } from "./dom.js";

export const REPORT_CATEGORIES = [
  ["unkind", "Unkind, bullying or harassing"],
  ["unsafe", "Worried about someone’s safety"],
  ["discrimination", "Hate or discrimination"],
  ["privacy", "Shares someone’s private information"],
  ["spam", "Advertising, spam or selling"],
  ["other", "Something else"],
];

export const TIMEOUT_CHOICES = [
  [5, "5 minutes"],
  [15, "15 minutes"],
  [60, "1 hour"],
  [1440, "1 day"],
];

// Thrown by a dialog's submit function when what was entered is not usable.
export class Invalid extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

// host: where the dialog element goes; submit(form) may return a Promise; when it
// resolves the dialog closes, when it throws the message is shown in the dialog.
export function openDialog({ host, title, intro = [], fields = [], submitLabel, danger = false, submit, fallbackFocus }) {
  const titleId = uid("dialog-title");
  const opener = document.activeElement;
  const error = el("p", { className: "error-message dialog-error", role: "alert" });
  const submitButton = el("button", { type: "submit", className: danger ? "button button-danger" : "button", text: submitLabel });
  const dialog = el("dialog", { className: "dialog", "aria-labelledby": titleId });
  const form = el(
    "form",
    { className: "dialog-form", novalidate: true },
    el("h2", { id: titleId, className: "dialog-title", text: title }),
    ...intro,
    ...fields,
    error,
    el(
      "div",
      { className: "actions" },
      submitButton,
      el("button", { type: "button", className: "button button-secondary", text: "Cancel", onclick: () => dialog.close("cancel") }),
    ),
  );
  dialog.append(form);
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    error.textContent = "";
    busy = true;
    submitButton.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await submit(form);
      dialog.close("done");
    } catch (err) {
      error.textContent = (err && err.message) || "Something went wrong. Please try again.";
      if (err instanceof Invalid && err.field) err.field.focus();
    } finally {
      busy = false;
      submitButton.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected && opener !== document.body) opener.focus();
    else if (typeof fallbackFocus === "function") focusSafely(fallbackFocus());
  });
  (host || document.body).append(dialog);
  dialog.showModal();
  const first = form.querySelector("input:checked") || form.querySelector("input, textarea, select");
  if (first) first.focus();
  return dialog;
}

export function radioGroup(name, legend, options, checked) {
  const group = el("fieldset", { className: "radios dialog-radios" }, el("legend", { text: legend }));
  for (const [value, label] of options) {
    const id = uid(`${name}-${value}`);
    group.append(
      el(
        "div",
        { className: "check" },
        el("input", { type: "radio", id, name, value: String(value), checked: String(value) === String(checked) }),
        el("label", { for: id, text: label }),
      ),
    );
  }
  return group;
}

export function textField({ name, label, hint, multiline = false, maxlength = 500, value = "" }) {
  const id = uid(name);
  const hintId = hint ? uid(`${name}-hint`) : null;
  const input = multiline
    ? el("textarea", { id, name, rows: "3", maxlength: String(maxlength), "aria-describedby": hintId })
    : el("input", { id, name, type: "text", maxlength: String(maxlength), autocomplete: "off", "aria-describedby": hintId });
  input.value = value;
  return el("div", { className: "field" }, el("label", { for: id, text: label }), hintId ? el("p", { id: hintId, className: "hint", text: hint }) : null, input);
}

function quote(message) {
  const name = message.sender ? message.sender.name : "Someone";
  return el(
    "figure",
    { className: "dialog-quote" },
    el("figcaption", { text: `${name} wrote:` }),
    el("blockquote", { text: excerpt(message.body || "", 200) }),
  );
}

// --- members ------------------------------------------------------------------------

export function reportDialog(message, api) {
  const name = message.sender ? message.sender.name : "this person";
  return openDialog({
    host: api.root,
    title: "Report this message",
    fallbackFocus: api.fallbackFocus,
    intro: [
      quote(message),
      el("p", { text: `Only the group’s moderators see your report. ${name} is not told who reported it.` }),
    ],
    fields: [
      radioGroup("category", "What is the problem?", REPORT_CATEGORIES, null),
      textField({ name: "words", label: "Anything you want to add (optional)", multiline: true, maxlength: 1000 }),
    ],
    submitLabel: "Send report",
    submit: async (form) => {
      const chosen = form.querySelector('input[name="category"]:checked');
      if (!chosen) throw new Invalid("Choose what the problem is.", form.querySelector('input[name="category"]'));
      const words = form.elements.words.value.trim();
      await api.request({
        type: "report.create",
        room: api.room,
        seq: message.seq,
        category: chosen.value,
        ...(words ? { words } : {}),
      });
      api.notify("Your report reached the group's moderators.");
    },
  });
}

export function blockDialog(person, api) {
  return openDialog({
    host: api.root,
    title: `Block ${person.name}?`,
    fallbackFocus: api.fallbackFocus,
    intro: [
      el("p", { text: `You will not see ${person.name}’s messages in any room, and matching will never put you in a group together.` }),
      el("p", { text: `${person.name} is not told. You can unblock them later under “Your mutes and blocks”.` }),
    ],
    submitLabel: `Block ${person.name}`,
    danger: true,
    submit: async () => {
      await api.request({ type: "me.block", user: person.id });
      api.notify(`You have blocked ${person.name}.`);
    },
  });
}

// --- moderators ------------------------------------------------------------------------

export function redactDialog(message, api) {
  return openDialog({
    host: api.root,
    title: "Redact this message",
    fallbackFocus: api.fallbackFocus,
    intro: [quote(message), el("p", { text: "Its text is removed for everyone. Members see “Removed by a moderator” with your reason." })],
    fields: [textField({ name: "reason", label: "Reason (members see it)", maxlength: 500 })],
    submitLabel: "Redact",
    danger: true,
    submit: async (form) => {
      await api.request({ type: "mod.redact", room: api.room, seq: message.seq, reason: form.elements.reason.value.trim() });
      api.notify("The message was redacted.");
    },
  });
}

export function timeoutDialog(person, api) {
  return openDialog({
    host: api.root,
    title: `Time out ${person.name}`,
    fallbackFocus: api.fallbackFocus,
    intro: [el("p", { text: `${person.name} can still read, but cannot write in this room until the time-out ends.` })],
    fields: [
      radioGroup("minutes", "For how long?", TIMEOUT_CHOICES, 15),
      textField({ name: "reason", label: `Reason (only ${person.name} and the moderators see it)`, maxlength: 500 }),
    ],
    submitLabel: "Time out",
    submit: async (form) => {
      const minutes = Number(form.querySelector('input[name="minutes"]:checked').value);
      const done = await api.request({
        type: "mod.timeout",
        room: api.room,
        user: person.id,
        minutes,
        reason: form.elements.reason.value.trim(),
      });
      const until = done.until ? ` until ${api.whenText(done.until)}` : "";
      api.notify(`${person.name} is timed out${until}.`);
    },
  });
}

// Remove or ban: destructive, so always confirmed here, with an optional reason.
export function outDialog(person, api, { ban }) {
  return openDialog({
    host: api.root,
    title: ban ? `Ban ${person.name} from the group?` : `Remove ${person.name} from the group?`,
    fallbackFocus: api.fallbackFocus,
    intro: [
      el("p", {
        text: ban
          ? `${person.name} leaves the group at once and cannot join it again unless the ban is lifted.`
          : `${person.name} leaves the group at once. They could ask to join again.`,
      }),
    ],
    fields: [textField({ name: "reason", label: "Reason (for the audit log)", maxlength: 500 })],
    submitLabel: ban ? `Ban ${person.name}` : `Remove ${person.name}`,
    danger: true,
    submit: async (form) => {
      await api.request({ type: ban ? "mod.ban" : "mod.remove", room: api.room, user: person.id, reason: form.elements.reason.value.trim() });
      api.notify(ban ? `${person.name} is banned from the group.` : `${person.name} was removed from the group.`);
    },
  });
}

export function rejectDialog(message, api) {
  return openDialog({
    host: api.root,
    title: "Reject this held message",
    fallbackFocus: api.fallbackFocus,
    intro: [quote(message), el("p", { text: "It will not be posted. Its writer is told a moderator decided not to post it." })],
    fields: [textField({ name: "reason", label: "Reason (for the audit log, optional)", maxlength: 500 })],
    submitLabel: "Reject",
    danger: true,
    submit: async (form) => {
      await api.request({ type: "mod.reject", room: api.room, seq: message.seq, reason: form.elements.reason.value.trim() });
      api.notify("The held message was rejected.");
    },
  });
}

// A request outside a dialog (approve, lift a time-out...): announces the outcome
// or the refusal.
export async function act(api, frame, success) {
  try {
    const done = await api.request(frame);
    api.notify(typeof success === "function" ? success(done) : success);
    return true;
  } catch (err) {
    api.notify(`Not done: ${(err && err.message) || "something went wrong."}`);
    return false;
  }
}
