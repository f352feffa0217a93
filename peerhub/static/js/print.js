// @ts-check
// The "Print this page" buttons on the recovery-words pages. Without JavaScript the
// buttons stay hidden and the page says how to use the browser's own Print command;
// with it, a button does the same thing.
for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".js-print"))) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
for (const hint of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".print-hint"))) hint.hidden = true;
