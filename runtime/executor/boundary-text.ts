// Text crossing the sandbox boundary. The engine moves strings as NUL-terminated UTF-8: a NUL
// truncates them and a lone surrogate comes back as three U+FFFD. So everything that crosses is
// JSON text in a form that survives exactly: the guest sends pure ASCII (its prelude escapes every
// other character as \uXXXX), and the host escapes NUL and lone surrogates before handing text in.

type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };

const UNSAFE_FOR_GUEST = /[\0\ud800-\udfff]/g;

const escapeUnit = (unit: string): string => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** JSON text the engine imports exactly. Only valid for JSON text: escapes are JSON escapes. */
export function jsonForGuest(json: string): string {
  if ((json as unknown as WellFormed).isWellFormed() && !json.includes("\0")) return json;
  return json.replace(UNSAFE_FOR_GUEST, escapeUnit);
}

/** Plain text (an error message) for the guest: what cannot cross exactly is replaced, not dropped. */
export function textForGuest(text: string): string {
  return (text.replaceAll("\0", "\\0") as unknown as WellFormed).toWellFormed();
}
