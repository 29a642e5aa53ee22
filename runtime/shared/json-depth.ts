// Bounds the nesting depth of JSON text before it is parsed. V8 parses deep nesting fine, but the
// value then breaks every recursive consumer downstream (JSON.stringify when it is handed to a
// sandbox, the sandbox's own parser, Postgres' jsonb): refuse it at the door instead.

/** Deepest nesting of arrays and objects accepted in a JSON body. */
export const JSON_MAX_DEPTH = 128;

/** True when `text` nests arrays/objects deeper than `max` (strings are skipped; the text need not be valid). */
export function jsonTooDeep(text: string, max: number = JSON_MAX_DEPTH): boolean {
  // Nesting `max + 1` deep takes at least that many brackets.
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
    }
  }
  return false;
}
