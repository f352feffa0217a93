// For `make jscheck` only (tsconfig.json); the browser never loads this file.
// peerhub/static/js keeps "no timer yet" as null and clears it without looking, as
// browsers allow: clearTimeout(null) and clearInterval(null) do nothing (HTML's
// timer steps take the missing or null handle as 0, which names no timer). TypeScript's
// DOM types want a number or undefined; these overloads say what browsers do.
declare function clearTimeout(id: number | null | undefined): void;
declare function clearInterval(id: number | null | undefined): void;
