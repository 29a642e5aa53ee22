// Parsing what people type into JSON fields, with an error that says where.
export type JsonInput = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJsonInput(text: string, options: { emptyAs?: unknown } = {}): JsonInput {
  if (text.trim() === "" && "emptyAs" in options) return { ok: true, value: options.emptyAs };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    if (position === undefined) return { ok: false, error: `Invalid JSON: ${message}` };
    const before = text.slice(0, Number(position));
    const line = before.split("\n").length;
    const column = Number(position) - before.lastIndexOf("\n");
    return { ok: false, error: `Invalid JSON at line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, "")}` };
  }
}

/** A JSON object (not an array or null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JSON object whose values are all strings (headers). */
export function isStringRecord(value: unknown): value is Record<string, string> {
  return isJsonObject(value) && Object.values(value).every((v) => typeof v === "string");
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "undefined";
}
