// @ts-check
// The composer: a box that grows with what is typed and sends on Enter (Shift+Enter for
// a new line), a count of the characters left near the limit, typing notices to the
// others, and the reason it will not send now (a time-out, a locked room, slow mode),
// with what was typed kept in the box. And the ground rules, which a person accepts
// before they can write.

import { _, lang, ngettext } from "./i18n.js";
import { addDraft, canWrite, noteSent, refusal } from "./room-state.js";

/** @typedef {import("./room-state.js").RoomState} RoomState */
/**
 * @typedef {object} ComposerDeps
 * @property {RoomState} st
 * @property {import("./realtime.js").RealtimeClient} client
 * @property {(text: string) => void} announce
 * @property {ReturnType<typeof import("./room-messages.js").setupMessages>} messages
 * @property {ReturnType<typeof import("./room-scroll.js").setupScroll>} scroll
 */

const MAX_BODY = 4000;
const TYPING_EVERY_MS = 3000;

/** @param {ComposerDeps} deps */
export function setupComposer({ st, client, announce, messages, scroll }) {
  /** The page's element with this id (the room's template always has it). @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const form = /** @type {HTMLFormElement} */ ($("composer"));
  const input = /** @type {HTMLTextAreaElement} */ ($("message-input"));
  const sendButton = /** @type {HTMLButtonElement} */ ($("send-button"));
  const counter = $("composer-count");
  const composerError = $("composer-error");
  const rulesEl = $("rules");
  const rulesText = $("rules-text");
  const rulesLanguage = $("rules-language");
  const rulesButton = /** @type {HTMLButtonElement} */ ($("rules-accept"));

  let lastTyping = 0;

  function refresh() {
    const ok = canWrite(st, client.isOpen());
    input.disabled = !ok;
    sendButton.disabled = !ok;
  }

  /** @param {string} text */
  function showError(text) {
    composerError.textContent = _("Not sent. %(why)s", { why: text });
    composerError.hidden = false;
    announce(composerError.textContent);
  }

  function clearError() {
    composerError.textContent = "";
    composerError.hidden = true;
  }

  // The box grows with what is typed, up to a few lines (then it scrolls itself).
  function fitInput() {
    input.style.height = "auto";
    if (input.value) input.style.height = `${Math.min(input.scrollHeight + 4, 160)}px`;
  }

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    fitInput();
    if (!composerError.hidden) clearError();
    const left = MAX_BODY - input.value.length;
    counter.textContent = left < 200 ? ngettext("%(num)s character left", "%(num)s characters left", left) : "";
    const now = Date.now();
    if (input.value && now - lastTyping > TYPING_EVERY_MS && !refusal(st)) {
      lastTyping = now;
      client.sendFrame({ type: "typing", room: st.room });
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
    const why = refusal(st);
    if (why) {
      // What was typed stays in the box.
      showError(why);
      return;
    }
    clearError();
    const clientId = client.sendMessage(st.room, body);
    noteSent(st);
    messages.showDraft(addDraft(st, body, clientId));
    scroll.toNewest();
    input.value = "";
    fitInput();
    counter.textContent = "";
    lastTyping = 0;
  });

  // --- the ground rules ---------------------------------------------------------------

  // The rules as the room's state has them: shown until they are accepted.
  function showRules() {
    const rules = st.rules;
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
    refresh();
  }

  rulesButton.addEventListener("click", () => {
    if (st.rules) client.sendFrame({ type: "rules.accept", room: st.room, version: st.rules.version });
  });

  return {
    refresh,
    clearError,
    showRules,
    focus: () => input.focus(),
  };
}
