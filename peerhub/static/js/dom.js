// @ts-check
// Small DOM helpers shared by the room's modules. Text always goes in as text
// (textContent or text nodes), never as HTML; no inline styles (the CSP blocks them).

import { _, lang, ngettext } from "./i18n.js";

/**
 * A new element: `props` are attributes, except className, text (its textContent),
 * dataset and on<event> (a listener); null, undefined and false are left out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

let counter = 0;
// A unique id for elements made on the fly (labels need them).
/** @param {string} prefix */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

// Times follow the page's language (<html lang>, "en-GB": 24-hour), not the browser's
// own default, which is often US English whatever the person chose on PeerHub.
/** @param {Intl.DateTimeFormatOptions} options */
function formatter(options) {
  try {
    return new Intl.DateTimeFormat(lang, options);
  } catch (err) {
    return new Intl.DateTimeFormat("en-GB", options); // an unknown tag: the site's own
  }
}
const TIME = formatter({ hour: "2-digit", minute: "2-digit" });
const DAY = formatter({ day: "numeric", month: "long" });

/** @param {string} iso */
export function timeOf(iso) {
  return TIME.format(new Date(iso));
}

// "18:40" today, "18:40 on 4 November" another day.
/** @param {string} iso */
export function whenText(iso) {
  const when = new Date(iso);
  const now = new Date();
  const time = timeOf(iso);
  if (when.toDateString() === now.toDateString()) return time;
  return _("%(time)s on %(day)s", { time, day: DAY.format(when) });
}

// A <time> element showing whenText.
/** @param {string} iso @param {string} [text] */
export function timeEl(iso, text = whenText(iso)) {
  return el("time", { datetime: iso, text });
}

// Keep at most `limit` characters of a text, cut at a word where possible.
/** @param {unknown} text @param {number} [limit] */
export function excerpt(text, limit = 160) {
  if (typeof text !== "string") return "";
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= limit) return flat;
  const cut = flat.slice(0, limit);
  const space = cut.lastIndexOf(" ");
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

// Put focus somewhere sensible when the element that had it is about to go.
/** @param {HTMLElement | null | undefined} target */
export function focusSafely(target) {
  if (!target || !target.isConnected) return;
  if (!target.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
}

// Slow mode's pace in words: "one message every 30 seconds", "one message a minute"
// (said after a colon in whole translated sentences: "Slow mode is on: %(pace)s.").
/** @param {number} seconds */
export function slowText(seconds) {
  if (seconds === 60) return _("one message a minute");
  if (seconds % 60 === 0) {
    return ngettext("one message every %(num)s minute", "one message every %(num)s minutes", seconds / 60);
  }
  return ngettext("one message every %(num)s second", "one message every %(num)s seconds", seconds);
}

// A translated sentence with elements in it: `withNodes(_("Timed out until %(when)s."),
// { when: timeEl(iso) })` gives text and nodes in the translation's own order, to append.
/**
 * @param {string} text
 * @param {Record<string, Node | string>} nodes
 * @returns {(Node | string)[]}
 */
export function withNodes(text, nodes) {
  /** @type {(Node | string)[]} */
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/%\((\w+)\)s/g)) {
    if (!Object.hasOwn(nodes, match[1])) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(nodes[match[1]]);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
