// One registry of error codes: every coded failure in PiCloud comes from here.
// `fault` says who is to blame: the caller (4xx), the script (5xx, script's fault) or the system.

export type Fault = "caller" | "script" | "system";

interface ErrorSpec {
  readonly status: number;
  readonly fault: Fault;
  readonly message: string;
}

function spec(status: number, fault: Fault, message: string): ErrorSpec {
  return { status, fault, message };
}

export const ERROR_CODES = {
  // Request and validation
  BAD_REQUEST: spec(400, "caller", "The request is malformed."),
  VALIDATION_FAILED: spec(400, "caller", "A field has a wrong type or value."),
  INVALID_JSON: spec(400, "caller", "The body is not valid JSON."),
  BODY_TOO_LARGE: spec(413, "caller", "The request body exceeds the size limit."),
  UNSUPPORTED_MEDIA_TYPE: spec(415, "caller", "The content type is not accepted here."),
  RATE_LIMITED: spec(429, "caller", "Too many requests; slow down."),
  NOT_FOUND: spec(404, "caller", "No such route."),
  METHOD_NOT_ALLOWED: spec(405, "caller", "This method is not allowed on this path."),
  REQUEST_TIMEOUT: spec(408, "caller", "The request (headers and body) did not arrive within the request timeout."),
  HEADERS_TOO_LARGE: spec(431, "caller", "The request headers exceed the size limit."),
  // Auth
  AUTH_REQUIRED: spec(401, "caller", "An admin token is required: send 'Authorization: Bearer <token>'."),
  AUTH_INVALID: spec(401, "caller", "The admin token is not valid."),
  APP_KEY_REQUIRED: spec(401, "caller", "This endpoint requires an app key."),
  // Apps and scripts
  APP_INVALID_ID: spec(400, "caller", "App ids are lowercase slugs: a-z, 0-9 and '-', 1 to 63 characters."),
  APP_RESERVED_ID: spec(400, "caller", "This app id is reserved."),
  APP_NOT_FOUND: spec(404, "caller", "No such app."),
  APP_EXISTS: spec(409, "caller", "An app with this id already exists."),
  SCRIPT_INVALID_NAME: spec(400, "caller", "Script names are slugs: a-z, 0-9, '-' and '_', 1 to 63 characters."),
  SCRIPT_NOT_FOUND: spec(404, "caller", "No such script."),
  SCRIPT_SETTINGS_INVALID: spec(400, "caller", "Not a per-script setting: memoryMiB, concurrency and queue apply to the whole app."),
  VERSION_NOT_FOUND: spec(404, "caller", "No such script version."),
  SCRIPT_SYNTAX: spec(400, "caller", "The script does not parse."),
  SCRIPT_NO_DEFAULT_EXPORT: spec(400, "caller", "The script must default-export an async handler function."),
  SCRIPT_BAD_DEFAULT_EXPORT: spec(
    400,
    "caller",
    "The script's default export is not a handler: a function (not a class), or an object with a fetch() (or scheduled()) method.",
  ),
  SCRIPT_INIT_FAILED: spec(400, "caller", "The script's top-level code threw or exceeded a limit when the deploy ran it."),
  SCRIPT_IMPORT_UNSUPPORTED: spec(400, "caller", "Scripts cannot import modules; use the global SDK."),
  SCRIPT_TOO_LARGE: spec(413, "caller", "The script source exceeds the size limit."),
  TOKEN_NOT_FOUND: spec(404, "caller", "No such token."),
  TOKEN_LAST: spec(409, "caller", "The last admin token cannot be deleted: create another one first."),
  // Script execution
  SCRIPT_ERROR: spec(500, "script", "The script threw an error."),
  SCRIPT_NO_HANDLER: spec(500, "script", "The script's default export is not a function."),
  SCRIPT_BAD_RESPONSE: spec(500, "script", "The script returned a value that cannot be sent as a response."),
  SCRIPT_RESPONSE_TOO_LARGE: spec(500, "script", "The script's response exceeds the response size limit."),
  SCRIPT_TIMEOUT: spec(504, "script", "The script exceeded its CPU time limit."),
  SCRIPT_WALL_TIMEOUT: spec(504, "script", "The script exceeded its wall-time limit."),
  SCRIPT_MEMORY: spec(500, "script", "The script exceeded its memory limit."),
  SCRIPT_STACK: spec(500, "script", "The script exceeded its stack depth limit."),
  ENGINE_FAULT: spec(500, "system", "The script engine failed; the sandbox was replaced."),
  EXECUTOR_UNAVAILABLE: spec(503, "system", "The executor is shutting down or restarting."),
  OVERLOADED: spec(
    503,
    "system",
    "The server is busy: too many invocations are waiting for an executor. Retry after the 'retry-after' seconds.",
  ),
  // KV
  KV_INVALID_COLLECTION: spec(
    400,
    "caller",
    "Collection names are 1-128 characters: letters, digits, '_', '-', '.'; not starting with '.' or '-'.",
  ),
  KV_INVALID_KEY: spec(400, "caller", "Keys are non-empty strings of at most 512 bytes without NUL characters or lone surrogates."),
  KV_VALUE_TOO_LARGE: spec(413, "caller", "The value exceeds the KV value size limit."),
  KV_INVALID_VALUE: spec(400, "caller", "Values must be JSON-serialisable."),
  KV_INVALID_CURSOR: spec(400, "caller", "The cursor is malformed."),
  KV_KEY_NOT_FOUND: spec(404, "caller", "No such key."),
  // Outbound fetch, egress policy and secrets
  FETCH_DENIED: spec(403, "script", "The egress policy does not allow this destination."),
  FETCH_TIMEOUT: spec(504, "script", "The outbound request did not complete within its time limit."),
  FETCH_TOO_LARGE: spec(502, "script", "The outbound response exceeds the fetch response size limit."),
  FETCH_LIMIT: spec(429, "script", "The invocation made more outbound requests than its limit allows."),
  FETCH_FAILED: spec(502, "script", "The outbound request failed (connection, TLS or protocol error)."),
  FETCH_INVALID: spec(400, "script", "The outbound request is malformed (URL, method, headers or scheme)."),
  EGRESS_INVALID_PATTERN: spec(
    400,
    "caller",
    "Egress patterns are a host, host:port, *.domain, an IP address or a CIDR; a host name may not end in a number.",
  ),
  SECRET_INVALID_NAME: spec(400, "caller", "Secret names are 1-64 letters, digits and '_', not starting with a digit."),
  SECRET_INVALID_VALUE: spec(400, "caller", "Secret values are non-empty strings of at most 64 KiB."),
  SECRET_NOT_FOUND: spec(404, "caller", "No such secret."),
  SECRETS_KEY_MISSING: spec(500, "system", "No secrets key is configured: set PICLOUD_SECRETS_KEY or PICLOUD_SECRETS_KEY_FILE."),
  SECRETS_KEY_WRONG: spec(500, "system", "The secrets key does not decrypt the stored secrets (was it rotated without re-encrypting?)."),
  // Events
  TRIGGER_INVALID: spec(400, "caller", "The trigger definition is invalid."),
  TRIGGER_NOT_FOUND: spec(404, "caller", "No such trigger."),
  TRIGGER_EXISTS: spec(409, "caller", "An equivalent trigger already exists."),
  EVENT_NOT_FOUND: spec(404, "caller", "No such event."),
  DEAD_LETTER_NOT_FOUND: spec(404, "caller", "No such dead letter."),
  EVENT_CHAIN_TOO_DEEP: spec(500, "script", "This write would trigger a handler chain deeper than the limit (a trigger loop?)."),
  // System
  DATA_DIR_LOCKED: spec(500, "system", "Another PiCloud process is using this data directory."),
  CONFIG_INVALID: spec(500, "system", "The configuration is invalid."),
  PORT_IN_USE: spec(500, "system", "The port is already in use: start on another one with --port."),
  DATABASE_UNAVAILABLE: spec(503, "system", "The database is unreachable; retry shortly."),
  DATABASE_OWNED: spec(
    503,
    "system",
    "Another PiCloud process (a single-node 'picloud serve') owns this database's KV data; this process may not write KV to it.",
  ),
  SHUTTING_DOWN: spec(503, "system", "The server is shutting down; retry shortly (or on another node)."),
  SCHEMA_TOO_NEW: spec(500, "system", "The database schema is newer than this PiCloud version: upgrade this process."),
  NODE_NAME_TAKEN: spec(500, "system", "A running node already has this name."),
  ADMIN_API_ON_MANAGER: spec(
    404,
    "caller",
    "This process is a node ('picloud node'): it serves script endpoints only. The admin API and the dashboard are on the manager (or the cluster's front door).",
  ),
  INTERNAL: spec(500, "system", "Internal error."),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PiCloudError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fault: Fault;
  /** Extra data safe to show to the caller (e.g. line and column of a syntax error). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    const registered = ERROR_CODES[code];
    super(message ?? registered.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PiCloudError";
    this.code = code;
    this.status = registered.status;
    this.fault = registered.fault;
    this.details = options?.details;
  }

  toJSON(): { code: ErrorCode; message: string } & Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

/** The one place unknown throwables become coded errors. */
export function coerceError(error: unknown): PiCloudError {
  if (error instanceof PiCloudError) return error;
  return new PiCloudError("INTERNAL", undefined, { cause: error });
}
