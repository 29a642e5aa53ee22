// JSON parsing with a nesting bound. V8's JSON.parse accepts any depth, but what comes after it
// (JSON.stringify, structured clone, schema checks, PostgreSQL's jsonb) recurses and throws a
// RangeError far below 100,000 levels: a bounded parse turns that into a coded 400 at the door.
import secureJson from "secure-json-parse";
import { PiCloudError } from "./errors.js";

/** The deepest nesting of objects and arrays accepted in a request body. */
export const MAX_JSON_DEPTH = 128;

/** The nesting depth of JSON text, or `Infinity` once it exceeds `limit` (strings are skipped). One pass, no allocation. */
export function jsonDepth(text: string, limit: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return Number.POSITIVE_INFINITY;
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return deepest;
}

/**
 * Parses a JSON request body: nesting bounded, `__proto__` and `constructor.prototype` keys refused.
 * Throws `INVALID_JSON` (400) for anything else than acceptable JSON.
 */
export function parseJsonBody(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (text.trim() === "") throw new PiCloudError("INVALID_JSON", "The body is empty; send JSON or no content-type.");
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new PiCloudError("INVALID_JSON", `The body is nested deeper than ${maxDepth} levels.`);
  }
  try {
    return secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch (error) {
    throw new PiCloudError("INVALID_JSON", `The body is not valid JSON: ${(error as Error).message}`);
  }
}
