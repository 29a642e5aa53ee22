// What a stored invocation record keeps of the run's input and output: the HTTP request and the
// response it got, or a triggered run's return value. Built only for runs the recorder stores in
// full (the recorder calls this lazily), so the hot path of sampled-out successes serialises nothing.
// Credentials never reach a record: Authorization, Cookie, the app key and similar headers and query
// parameters are replaced, and every occurrence of an app secret is masked (secret-redaction.ts).
// Bodies and return values are cut to a documented size (docs/http-api.md#invocation-records).
import type { HttpRequestContext, InvokeOutcome } from "../shared/wire.js";
import type { InvocationDetails, RecordedRequest, RecordedResponse, RecordedText } from "../store/invocations.js";
import { APP_KEY_HEADER } from "./ingress.js";
import type { HttpResponse } from "./response-mapping.js";

/** The request body and a triggered run's return value are kept up to this many UTF-8 bytes. */
export const RECORDED_BODY_BYTES = 4096;
export const RECORDED_RESULT_BYTES = 4096;
/** Header and query values are kept up to this many characters each, and at most this many headers. */
export const RECORDED_VALUE_CHARS = 1024;
export const RECORDED_HEADERS_MAX = 64;
/** What a redacted header or query value reads as. */
export const REDACTED = "[redacted]";

/** Headers that carry credentials, whatever their value. */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", APP_KEY_HEADER, "x-api-key"]);
/** Names that say "credential": `x-auth-token`, `api_key`, `access_token`, `client-secret`, `password`, `x-hub-signature`, `?key=`... */
const CREDENTIAL_NAME =
  /^(?:key|apikey|sig)$|(?:^|[-_.])(?:auth|session|api[-_]?key|access[-_]?key)(?:$|[-_.])|token|secret|passw|signature|credential/i;

export const isCredentialName = (name: string): boolean => CREDENTIAL_HEADERS.has(name.toLowerCase()) || CREDENTIAL_NAME.test(name);

type Redact = ((text: string) => string) | undefined;

const clip = (text: string) => (text.length > RECORDED_VALUE_CHARS ? `${text.slice(0, RECORDED_VALUE_CHARS)}…` : text);

/** `text` cut to at most `limit` UTF-8 bytes, on a character boundary. */
export function truncateUtf8(text: string, limit: number): RecordedText {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no encoding to know they fit.
  if (text.length * 3 <= limit) return { text, bytes: Buffer.byteLength(text), truncated: false };
  const bytes = Buffer.byteLength(text);
  if (bytes <= limit) return { text, bytes, truncated: false };
  const cut = Buffer.from(text).subarray(0, limit);
  // Drop a character the cut split: find the last lead byte and see whether all its bytes made it.
  let end = cut.length;
  let lead = end - 1;
  while (lead >= 0 && ((cut[lead] as number) & 0xc0) === 0x80) lead--;
  if (lead >= 0) {
    const first = cut[lead] as number;
    const size = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : 2;
    if (lead + size > end) end = lead;
  }
  return { text: cut.subarray(0, end).toString("utf8"), bytes, truncated: true };
}

/** Secrets masked first (so a cut cannot leave half a secret); `bytes` is the size as sent. */
function recordText(text: string, limit: number, redact: Redact): RecordedText {
  if (!redact) return truncateUtf8(text, limit);
  return { ...truncateUtf8(redact(text), limit), bytes: Buffer.byteLength(text) };
}

function recordHeaders(headers: Readonly<Record<string, string>>, redact: Redact): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (count++ >= RECORDED_HEADERS_MAX) break;
    out[name] = isCredentialName(name) ? REDACTED : clip(redact ? redact(value) : value);
  }
  return out;
}

function recordQuery(query: Readonly<Record<string, string | string[]>>, redact: Redact): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const one = (value: string) => clip(redact ? redact(value) : value);
  for (const [name, value] of Object.entries(query)) {
    if (isCredentialName(name)) out[name] = REDACTED;
    else out[name] = Array.isArray(value) ? value.slice(0, RECORDED_HEADERS_MAX).map(one) : one(String(value));
  }
  return out;
}

/** The request as recorded: the body is the text the script received (JSON as sent), secrets masked before cutting. */
export function recordRequest(request: HttpRequestContext, redact: Redact): RecordedRequest {
  // Ingress hands JSON over as its text; a test run's sample body may be a value.
  const raw =
    request.rawBody ??
    (typeof request.body === "string"
      ? request.body
      : request.body === null || request.body === undefined
        ? null
        : JSON.stringify(request.body));
  return {
    method: request.method,
    path: redact ? redact(request.path) : request.path,
    query: recordQuery(request.query ?? {}, redact),
    headers: recordHeaders(request.headers ?? {}, redact),
    body: raw === null || raw === "" ? null : recordText(raw, RECORDED_BODY_BYTES, redact),
  };
}

export function recordResponse(response: Pick<HttpResponse, "status" | "headers">, redact: Redact): RecordedResponse {
  return { status: response.status, headers: recordHeaders(response.headers, redact) };
}

/** A triggered run's return value as JSON text (a returned Response as its status and headers). */
export function recordResult(outcome: InvokeOutcome & { ok: true }, redact: Redact): NonNullable<InvocationDetails["result"]> {
  const json =
    outcome.resultJson ??
    (outcome.response ? JSON.stringify({ status: outcome.response.status, headers: outcome.response.headers }) : undefined);
  if (json === undefined) return { text: "", bytes: 0, truncated: false, returned: false };
  return { ...recordText(json, RECORDED_RESULT_BYTES, redact), returned: true };
}

/**
 * The details of one run: request and response for HTTP runs (`response` is the mapped answer, or
 * the error answer for a failed run), the return value for successful runs without a request.
 */
export function invocationDetails(
  input: { request?: HttpRequestContext | undefined },
  outcome: InvokeOutcome,
  response: Pick<HttpResponse, "status" | "headers"> | undefined,
  redact: Redact,
): InvocationDetails {
  if (input.request) {
    return {
      request: recordRequest(input.request, redact),
      response: response ? recordResponse(response, redact) : null,
      result: null,
    };
  }
  return { request: null, response: null, result: outcome.ok ? recordResult(outcome, redact) : null };
}
