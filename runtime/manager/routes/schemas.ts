// Schemas shared by several admin routes. Ids carry their patterns here, so the OpenAPI document
// (and a client generated from it) knows them; free text refuses NUL, which PostgreSQL cannot store.
import { type TSchema, Type, type TString, type TStringOptions } from "typebox";
import { ERROR_CODES, type ErrorCode } from "../../shared/errors.js";
import { APP_ID_PATTERN, RECORD_ID_PATTERN, SCRIPT_NAME_PATTERN } from "../../shared/ids.js";

/** Where the admin API lives. */
export const API_PREFIX = "/api/v1";

/** Strings without NUL characters. */
export const NO_NUL_PATTERN = "^[^\\u0000]*$";

/**
 * The schema keyword naming the error code a failed check of this field gets (instead of
 * VALIDATION_FAILED); the error handler reads it. OpenAPI keeps `x-` keywords as extensions.
 */
export const ERROR_CODE_KEYWORD = "x-error-code";

export function coded(code: ErrorCode, options: TStringOptions & { pattern: string }): TString {
  return Type.String({ ...options, [ERROR_CODE_KEYWORD]: code, description: options.description ?? ERROR_CODES[code].message });
}

/** Free text: any string without NUL. */
export const Text = (options: TStringOptions = {}): TString => Type.String({ pattern: NO_NUL_PATTERN, ...options });

export const AppId = coded("APP_INVALID_ID", { pattern: APP_ID_PATTERN, minLength: 1, maxLength: 63 });
export const ScriptName = coded("SCRIPT_INVALID_NAME", { pattern: SCRIPT_NAME_PATTERN, minLength: 1, maxLength: 63 });
export const RecordId = Type.String({
  pattern: RECORD_ID_PATTERN,
  minLength: 32,
  maxLength: 32,
  description: "A record id (32 hex digits)",
});
/** Script versions are PostgreSQL integers. */
export const VersionNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const AppParams = Type.Object({ app: AppId });
export const ScriptParams = Type.Object({ app: AppId, name: ScriptName });
export const VersionParams = Type.Object({ app: AppId, name: ScriptName, version: VersionNumber });
export const IdParams = Type.Object({ id: RecordId });

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: "A stable code from the registry (docs/errors.md)" }),
        message: Type.String(),
      },
      { additionalProperties: true },
    ),
  },
  { $id: "PiCloudError", description: "Every error answer: a stable code and a message" },
);

/** What each documented error status means on the admin API. */
const ERROR_RESPONSES: Record<number, string> = {
  400: "Bad input (VALIDATION_FAILED, INVALID_JSON, or a more specific code)",
  401: "No or a wrong admin token (AUTH_REQUIRED, AUTH_INVALID)",
  404: "No such resource or route",
  405: "Method not allowed on this path (METHOD_NOT_ALLOWED)",
  409: "Conflicts with the current state (e.g. APP_EXISTS, TOKEN_LAST)",
  413: "Body or value too large (BODY_TOO_LARGE, SCRIPT_TOO_LARGE, KV_VALUE_TOO_LARGE)",
  415: "Unsupported content type (UNSUPPORTED_MEDIA_TYPE)",
  429: "Rate limited (RATE_LIMITED)",
  500: "An unexpected fault (INTERNAL); the log has the detail",
  503: "Not available now: the database is unreachable (DATABASE_UNAVAILABLE), another process owns its KV data (DATABASE_OWNED), or the server is closing (SHUTTING_DOWN)",
};

/** Adds the error answers (with the error schema) to a route's response schemas, keeping its own. */
export function withErrorResponses(response: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
    out[status] = { ...Type.Ref("PiCloudError"), description };
  }
  return { ...out, ...response };
}

/** A 204 answer, documented as such. */
export const NoContent: TSchema = Type.Null({ description: "Done; no body" });

/**
 * A string from a fixed set, in answers: documented as an enum (a generated client gets the literal
 * union) but serialized as a plain string, so the bytes on the wire and the cost are a string's.
 */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });

/** A value or null (documented as nullable). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const EventKindSchema = StringEnum(["kv", "schedule", "dead_letter"]);
export const EventStatusSchema = StringEnum(["pending", "running", "done", "dead", "failed"]);

export const LogLineSchema = Type.Object({
  level: StringEnum(["log", "info", "warn", "error", "debug"]),
  message: Type.String(),
  at: Type.Number(),
});

export const InvocationErrorSchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    line: Type.Optional(Type.Integer()),
    column: Type.Optional(Type.Integer()),
    stack: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
