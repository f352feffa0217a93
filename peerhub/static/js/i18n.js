// @ts-check
// The browser's strings in the page's language (peerhub/i18n.py, js_catalogue).
// Scripts write `_("Send")` or `ngettext("%(num)s new message", "%(num)s new messages", n)`
// with British English as the key; `make messages` extracts them into
// peerhub/locale/js.pot and translators translate them in each language's js.po.
const root = document.documentElement;
export const lang = root.lang || "en-GB";
export const dir = root.dir || "ltr";

/** @type {Record<string, string | Record<string, string>>} msgid -> translation, or plural forms by CLDR category */
let messages = {};
if (lang !== "en-GB") {
  try {
    const response = await fetch(`/i18n/${encodeURIComponent(lang)}.json`, {
      credentials: "same-origin",
    });
    if (response.ok) messages = (await response.json()).messages || {};
  } catch {
    // Offline or failing: the scripts still work, in English.
  }
}

const plurals = new Intl.PluralRules(lang);
const numbers = new Intl.NumberFormat(lang);

/**
 * @param {string} text
 * @param {Record<string, unknown>} [values]
 */
function fill(text, values) {
  if (!values) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/**
 * `text` in the page's language, with `%(name)s` filled from `values`.
 * @param {string} text
 * @param {Record<string, unknown>} [values]
 */
export function _(text, values) {
  const found = messages[text];
  return fill(typeof found === "string" ? found : text, values);
}

/**
 * The plural form CLDR chooses for `n`; `%(num)s` is `n` written in the page's language.
 * @param {string} singular
 * @param {string} plural
 * @param {number} n
 * @param {Record<string, unknown>} [values]
 */
export function ngettext(singular, plural, n, values) {
  const forms = messages[singular];
  let text = n === 1 ? singular : plural;
  if (forms && typeof forms === "object") {
    text = forms[plurals.select(n)] ?? forms.other ?? text;
  }
  return fill(text, { num: numbers.format(n), ...values });
}

/**
 * A moment in the page's language (24-hour where the language writes it so).
 * @param {Date | number} date
 * @param {Intl.DateTimeFormatOptions} [options]
 */
export function formatTime(date, options = { hour: "2-digit", minute: "2-digit" }) {
  return new Intl.DateTimeFormat(lang, options).format(date);
}

/**
 * @param {Date | number} date
 * @param {Intl.DateTimeFormatOptions} [options]
 */
export function formatDateTime(date, options = { dateStyle: "medium", timeStyle: "short" }) {
  return new Intl.DateTimeFormat(lang, options).format(date);
}
