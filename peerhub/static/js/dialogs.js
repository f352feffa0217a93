// @ts-check
// Modal dialogs for the room's reports, confirmations and moderator actions.
//
// A native <dialog> opened with showModal(): the rest of the page is inert, focus
// starts in the dialog and stays there, Escape cancels, and focus goes back to
// where it was (or to a fallback when that element has gone, e.g. a message that
// was re-drawn). A refusal from the server is shown inside the dialog, which stays
// open so nothing typed is lost.

import { el, excerpt, focusSafely, uid } from "./dom.js";
import { _, ngettext } from "./i18n.js";

/** @typedef {import("./room-menu.js").Api} Api */
/** @typedef {import("./room-menu.js").Message} Message */
/** @typedef {import("./room-menu.js").Person} Person */
/** @typedef {import("./realtime.js").Frame} Frame */
/**
 * A dialog's form: its fields by name (form.elements.reason).
 * @typedef {HTMLFormElement & { elements: HTMLFormControlsCollection & Record<string, HTMLInputElement> }} DialogForm
 */

/** @type {[string, string][]} */
export const REPORT_CATEGORIES = [
  ["unkind", _("Unkind, bullying or harassing")],
  ["unsafe", _("Worried about someone’s safety")],
  ["discrimination", _("Hate or discrimination")],
  ["privacy", _("Shares someone’s private information")],
  ["spam", _("Advertising, spam or selling")],
  ["other", _("Something else")],
];

/** @type {[number, string][]} */
export const TIMEOUT_CHOICES = [
  [5, ngettext("%(num)s minute", "%(num)s minutes", 5)],
  [15, ngettext("%(num)s minute", "%(num)s minutes", 15)],
  [60, ngettext("%(num)s hour", "%(num)s hours", 1)],
  [1440, ngettext("%(num)s day", "%(num)s days", 1)],
];

// Thrown by a dialog's submit function when what was entered is not usable.
export class Invalid extends Error {
  /**
   * @param {string} message
   * @param {HTMLElement | null} [field]
   */
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

// host: where the dialog element goes; submit(form) may return a Promise; when it
// resolves the dialog closes, when it throws the message is shown in the dialog.
/**
 * @param {object} options
 * @param {HTMLElement | null} [options.host]
 * @param {string} options.title
 * @param {Node[]} [options.intro]
 * @param {Node[]} [options.fields]
 * @param {string} options.submitLabel
 * @param {boolean} [options.danger]
 * @param {(form: DialogForm) => unknown} options.submit
 * @param {() => HTMLElement | null | undefined} [options.fallbackFocus]
 */
export function openDialog({ host, title, intro = [], fields = [], submitLabel, danger = false, submit, fallbackFocus }) {
  const titleId = uid("dialog-title");
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
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
      el("button", { type: "button", className: "button button-secondary", text: _("Cancel"), onclick: () => dialog.close("cancel") }),
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
      await submit(/** @type {DialogForm} */ (form));
      dialog.close("done");
    } catch (/** @type {any} */ err) {
      error.textContent = (err && err.message) || _("Something went wrong. Please try again.");
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
  const first = /** @type {HTMLElement | null} */ (form.querySelector("input:checked") || form.querySelector("input, textarea, select"));
  if (first) first.focus();
  return dialog;
}

/**
 * @param {string} name
 * @param {string} legend
 * @param {ReadonlyArray<readonly [string | number, string]>} options
 * @param {string | number | null} checked
 */
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

/**
 * @param {object} options
 * @param {string} options.name
 * @param {string} options.label
 * @param {string} [options.hint]
 * @param {boolean} [options.multiline]
 * @param {number} [options.maxlength]
 * @param {string} [options.value]
 */
export function textField({ name, label, hint, multiline = false, maxlength = 500, value = "" }) {
  const id = uid(name);
  const hintId = hint ? uid(`${name}-hint`) : null;
  const input = multiline
    ? el("textarea", { id, name, rows: "3", maxlength: String(maxlength), "aria-describedby": hintId })
    : el("input", { id, name, type: "text", maxlength: String(maxlength), autocomplete: "off", "aria-describedby": hintId });
  input.value = value;
  return el("div", { className: "field" }, el("label", { for: id, text: label }), hintId ? el("p", { id: hintId, className: "hint", text: hint }) : null, input);
}

/** @param {Message} message */
function quote(message) {
  return el(
    "figure",
    { className: "dialog-quote" },
    el("figcaption", { text: message.sender ? _("%(name)s wrote:", { name: message.sender.name }) : _("Someone wrote:") }),
    el("blockquote", { text: excerpt(message.body || "", 200) }),
  );
}

// --- members ------------------------------------------------------------------------

/**
 * @param {Message} message
 * @param {Api} api
 */
export function reportDialog(message, api) {
  return openDialog({
    host: api.root,
    title: _("Report this message"),
    fallbackFocus: api.fallbackFocus,
    intro: [
      quote(message),
      el("p", {
        text: message.sender
          ? _("Only the group’s moderators see your report. %(name)s is not told who reported it.", { name: message.sender.name })
          : _("Only the group’s moderators see your report. This person is not told who reported it."),
      }),
    ],
    fields: [
      radioGroup("category", _("What is the problem?"), REPORT_CATEGORIES, null),
      textField({ name: "words", label: _("Anything you want to add (optional)"), multiline: true, maxlength: 1000 }),
    ],
    submitLabel: _("Send report"),
    submit: async (form) => {
      const chosen = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name="category"]:checked'));
      if (!chosen) throw new Invalid(_("Choose what the problem is."), /** @type {HTMLInputElement | null} */ (form.querySelector('input[name="category"]')));
      const words = form.elements.words.value.trim();
      await api.request({
        type: "report.create",
        room: api.room,
        seq: message.seq,
        category: chosen.value,
        ...(words ? { words } : {}),
      });
      api.notify(_("Your report reached the group's moderators."));
    },
  });
}

/**
 * @param {Person} person
 * @param {Api} api
 */
export function blockDialog(person, api) {
  return openDialog({
    host: api.root,
    title: _("Block %(name)s?", { name: person.name }),
    fallbackFocus: api.fallbackFocus,
    intro: [
      el("p", {
        text: _("You will not see %(name)s’s messages in any room, and matching will never put you in a group together.", {
          name: person.name,
        }),
      }),
      el("p", { text: _("%(name)s is not told. You can unblock them later under “Your mutes and blocks”.", { name: person.name }) }),
    ],
    submitLabel: _("Block %(name)s", { name: person.name }),
    danger: true,
    submit: async () => {
      await api.request({ type: "me.block", user: person.id });
      api.notify(_("You have blocked %(name)s.", { name: person.name }));
    },
  });
}

// --- moderators ------------------------------------------------------------------------

/**
 * @param {Message} message
 * @param {Api} api
 */
export function redactDialog(message, api) {
  return openDialog({
    host: api.root,
    title: _("Redact this message"),
    fallbackFocus: api.fallbackFocus,
    intro: [quote(message), el("p", { text: _("Its text is removed for everyone. Members see “Removed by a moderator” with your reason.") })],
    fields: [textField({ name: "reason", label: _("Reason (members see it)"), maxlength: 500 })],
    submitLabel: _("Redact"),
    danger: true,
    submit: async (form) => {
      await api.request({ type: "mod.redact", room: api.room, seq: message.seq, reason: form.elements.reason.value.trim() });
      api.notify(_("The message was redacted."));
    },
  });
}

/**
 * @param {Person} person
 * @param {Api} api
 */
export function timeoutDialog(person, api) {
  return openDialog({
    host: api.root,
    title: _("Time out %(name)s", { name: person.name }),
    fallbackFocus: api.fallbackFocus,
    intro: [el("p", { text: _("%(name)s can still read, but cannot write in this room until the time-out ends.", { name: person.name }) })],
    fields: [
      radioGroup("minutes", _("For how long?"), TIMEOUT_CHOICES, 15),
      textField({ name: "reason", label: _("Reason (only %(name)s and the moderators see it)", { name: person.name }), maxlength: 500 }),
    ],
    submitLabel: _("Time out"),
    submit: async (form) => {
      const minutes = Number(/** @type {HTMLInputElement} */ (form.querySelector('input[name="minutes"]:checked')).value);
      const done = await api.request({
        type: "mod.timeout",
        room: api.room,
        user: person.id,
        minutes,
        reason: form.elements.reason.value.trim(),
      });
      api.notify(
        done.until
          ? _("%(name)s is timed out until %(when)s.", { name: person.name, when: api.whenText(done.until) })
          : _("%(name)s is timed out.", { name: person.name }),
      );
    },
  });
}

// Remove or ban: destructive, so always confirmed here, with an optional reason.
/**
 * @param {Person} person
 * @param {Api} api
 * @param {{ ban: boolean }} options
 */
export function outDialog(person, api, { ban }) {
  return openDialog({
    host: api.root,
    title: ban
      ? _("Ban %(name)s from the group?", { name: person.name })
      : _("Remove %(name)s from the group?", { name: person.name }),
    fallbackFocus: api.fallbackFocus,
    intro: [
      el("p", {
        text: ban
          ? _("%(name)s leaves the group at once and cannot join it again unless the ban is lifted.", { name: person.name })
          : _("%(name)s leaves the group at once. They could ask to join again.", { name: person.name }),
      }),
    ],
    fields: [textField({ name: "reason", label: _("Reason (for the audit log)"), maxlength: 500 })],
    submitLabel: ban ? _("Ban %(name)s", { name: person.name }) : _("Remove %(name)s", { name: person.name }),
    danger: true,
    submit: async (form) => {
      await api.request({ type: ban ? "mod.ban" : "mod.remove", room: api.room, user: person.id, reason: form.elements.reason.value.trim() });
      api.notify(
        ban
          ? _("%(name)s is banned from the group.", { name: person.name })
          : _("%(name)s was removed from the group.", { name: person.name }),
      );
    },
  });
}

/**
 * @param {Message} message
 * @param {Api} api
 */
export function rejectDialog(message, api) {
  return openDialog({
    host: api.root,
    title: _("Reject this held message"),
    fallbackFocus: api.fallbackFocus,
    intro: [quote(message), el("p", { text: _("It will not be posted. Its writer is told a moderator decided not to post it.") })],
    fields: [textField({ name: "reason", label: _("Reason (for the audit log, optional)"), maxlength: 500 })],
    submitLabel: _("Reject"),
    danger: true,
    submit: async (form) => {
      await api.request({ type: "mod.reject", room: api.room, seq: message.seq, reason: form.elements.reason.value.trim() });
      api.notify(_("The held message was rejected."));
    },
  });
}

// A request outside a dialog (approve, lift a time-out...): announces the outcome
// or the refusal.
/**
 * @param {Api} api
 * @param {Record<string, unknown>} frame
 * @param {string | ((done: Frame) => string)} success
 */
export async function act(api, frame, success) {
  try {
    const done = await api.request(frame);
    api.notify(typeof success === "function" ? success(done) : success);
    return true;
  } catch (/** @type {any} */ err) {
    const error = (err && err.message) || _("something went wrong.");
    api.notify(_("Not done: %(error)s", { error }));
    return false;
  }
}
