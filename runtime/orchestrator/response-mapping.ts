// How a handler's return value becomes an HTTP response:
//   plain value -> JSON 200; string -> text/plain 200; undefined -> 204;
//   { status, headers?, body? } (only those keys, numeric status) -> as given.
import { ERROR_CODES, isErrorCode } from "../shared/errors.js";
import type { GuestResponse } from "../shared/wire.js";
import type { InvocationError } from "../store/invocations.js";

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | null;
}

const RESPONSE_KEYS = new Set(["status", "headers", "body"]);
export const JSON_TYPE = "application/json; charset=utf-8";
export const TEXT_TYPE = "text/plain; charset=utf-8";
/** Headers a script may not set: they are the server's to manage. */
const FORBIDDEN_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"]);

export class BadResponseError extends Error {}

function isResponseObject(value: unknown): value is { status: unknown; headers?: unknown; body?: unknown } {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.includes("status") && typeof (value as { status: unknown }).status === "number" && keys.every((k) => RESPONSE_KEYS.has(k));
}

/** RFC 9110 §5.1 token: a header name. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9110 §5.5 field-value (after trimming SP/HTAB at the ends): visible ASCII, obs-text (0x80-0xFF), SP, HTAB. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A short, printable rendering of what a script sent (for the error message). */
const shown = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== "object" || Array.isArray(headers)) throw new BadResponseError("'headers' must be an object of strings.");
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!FIELD_NAME.test(name)) throw new BadResponseError(`${shown(name)} is not a valid header name (RFC 9110 token).`);
    if (typeof value !== "string" && typeof value !== "number") throw new BadResponseError(`Header '${name}' must be a string.`);
    const text = String(value).replace(/^[\t ]+|[\t ]+$/g, "");
    if (!FIELD_VALUE.test(text)) {
      throw new BadResponseError(
        `Header '${name}' has an invalid value ${shown(text)}: use visible characters, spaces and tabs; no control characters or characters above U+00FF.`,
      );
    }
    if (FORBIDDEN_HEADERS.has(name.toLowerCase())) continue;
    out[name.toLowerCase()] = text;
  }
  return out;
}

/** `resultJson` is the handler's return value as JSON text (undefined when it returned nothing). */
export function mapResult(resultJson: string | undefined): HttpResponse {
  if (resultJson === undefined) return { status: 204, headers: {}, body: null };
  // Fast path: only objects can be response objects; other values need no parse.
  const first = resultJson.charCodeAt(0);
  if (first === 34 /* " */) return { status: 200, headers: { "content-type": TEXT_TYPE }, body: JSON.parse(resultJson) as string };
  if (first !== 123 /* { */ || !resultJson.includes('"status"')) {
    return { status: 200, headers: { "content-type": JSON_TYPE }, body: resultJson };
  }
  const value: unknown = JSON.parse(resultJson);
  if (!isResponseObject(value)) return { status: 200, headers: { "content-type": JSON_TYPE }, body: resultJson };
  const status = value.status as number;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new BadResponseError(`'status' must be an integer from 200 to 599 (got ${status}).`);
  }
  const headers = checkHeaders(value.headers);
  const { body } = value;
  if (body === undefined || body === null) return { status, headers, body: null };
  if (typeof body === "string") return { status, headers: { "content-type": TEXT_TYPE, ...headers }, body };
  return { status, headers: { "content-type": JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

/**
 * Maps a successful HTTP invocation's return value to its response, enforcing the response size
 * limit; a value that cannot be sent becomes a failed invocation (so its record says so too).
 */
export function toHttpResponse(
  resultJson: string | undefined,
  responseBytes: number,
): { response: HttpResponse } | { error: InvocationError } {
  // The limit is in bytes as sent (UTF-8); a string cannot be more than 3 bytes per UTF-16 unit.
  const bytes = resultJson === undefined || resultJson.length * 3 <= responseBytes ? 0 : Buffer.byteLength(resultJson);
  if (bytes > responseBytes) {
    return {
      error: { code: "SCRIPT_RESPONSE_TOO_LARGE", message: `The response is ${bytes} bytes; the limit is ${responseBytes}.` },
    };
  }
  try {
    return { response: mapResult(resultJson) };
  } catch (error) {
    if (!(error instanceof BadResponseError)) throw error;
    return { error: { code: "SCRIPT_BAD_RESPONSE", message: `Bad response: ${error.message}` } };
  }
}

/** A `Response` object the handler returned: its status, headers and body (text or bytes) as given. */
export function fromGuestResponse(returned: GuestResponse, responseBytes: number): { response: HttpResponse } | { error: InvocationError } {
  const body = returned.base64 !== undefined ? Buffer.from(returned.base64, "base64") : (returned.text ?? null);
  const size = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
  if (size > responseBytes) {
    return { error: { code: "SCRIPT_RESPONSE_TOO_LARGE", message: `The response is ${size} bytes; the limit is ${responseBytes}.` } };
  }
  try {
    const { status } = returned;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new BadResponseError(`'status' must be an integer from 200 to 599 (got ${status}).`);
    }
    return { response: { status, headers: checkHeaders(returned.headers), body } };
  } catch (error) {
    if (!(error instanceof BadResponseError)) throw error;
    return { error: { code: "SCRIPT_BAD_RESPONSE", message: `Bad response: ${error.message}` } };
  }
}

export function errorResponse(error: InvocationError, invocationId: string): HttpResponse {
  const status = isErrorCode(error.code) ? ERROR_CODES[error.code].status : 500;
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.line !== undefined && { line: error.line }),
      ...(error.column !== undefined && { column: error.column }),
      invocation: invocationId,
    },
  };
  return { status, headers: { "content-type": JSON_TYPE }, body: JSON.stringify(body) };
}
