/**
 * PiCloud script SDK — the globals available inside every script.
 *
 * A script is an ES module whose default export is an async handler:
 *
 * ```js
 * export default async function (ctx) {
 *   const visits = kv.collection("visits");
 *   await visits.set(ctx.request.path, Date.now());
 *   return { hello: "world" };
 * }
 * ```
 */

/** A JSON value: what KV stores and what handlers usually return. */
type PiJson = string | number | boolean | null | PiJson[] | { [key: string]: PiJson };

/** The HTTP request that invoked the script (direct ingress and test runs). */
interface PiRequest {
  /** Upper-case method, e.g. "POST". */
  readonly method: string;
  /** Full request path, e.g. "/shop/orders/42". */
  readonly path: string;
  /** The part after /{app}/{script}, always starting with "/", e.g. "/42". */
  readonly subpath: string;
  /** Query parameters; repeated parameters become arrays. */
  readonly query: { readonly [name: string]: string | string[] };
  /** Request headers, lower-case names. */
  readonly headers: { readonly [name: string]: string };
  /** Parsed JSON for JSON requests, text otherwise, null when empty. */
  readonly body: unknown;
}

/** A KV change event: `value` is the new value on insert/update and null on delete. */
interface PiKvEvent {
  readonly type: "kv";
  readonly op: "insert" | "update" | "delete";
  readonly collection: string;
  readonly key: string;
  readonly value: PiJson | null;
}

/** A scheduled run. */
interface PiScheduleEvent {
  readonly type: "schedule";
  /** The trigger's cron expression. */
  readonly schedule: string;
  /** ISO time of the tick this run is for. */
  readonly scheduledAt: string;
}

/** A dead letter handed to the app's dead-letter handler. */
interface PiDeadLetterEvent {
  readonly type: "dead_letter";
  readonly deadLetterId: string;
  /** Id of the event that failed. */
  readonly eventId: string;
  /** The original event that failed for good. */
  readonly event: PiKvEvent | PiScheduleEvent;
  /** The script that failed to handle it, and its version at the last attempt. */
  readonly script: string;
  readonly version: number | null;
  readonly attempts: readonly {
    readonly attempt: number;
    readonly at: string;
    readonly error: { readonly code: string; readonly message: string; readonly line?: number };
  }[];
  readonly firstAttemptAt: string | null;
  readonly deadAt: string;
}

type PiEvent = PiKvEvent | PiScheduleEvent | PiDeadLetterEvent;

/** What the handler receives. Direct HTTP calls have `request` and no `event` key: test `"event" in ctx`. */
interface PiContext {
  /** The app this script belongs to (set by the host, never by the caller). */
  readonly app: string;
  /** This script's name. */
  readonly script: string;
  /** Present for HTTP ingress and test runs. */
  readonly request?: PiRequest;
  /** Present only for triggered runs (KV change, schedule, dead letter). */
  readonly event?: PiEvent;
  /** Delivery attempt of the event, from 1 (triggered runs only). */
  readonly attempt?: number;
  /** Stable id of the event across retries: use it to make handlers idempotent. */
  readonly eventId?: string;
  /** True when this run is the app's dead-letter handler (triggered runs only). */
  readonly isDeadLetterHandler?: boolean;
}

/**
 * The full-control response shape. Any other return value is sent as JSON (status 200), a string
 * as text/plain, and `undefined` as 204 No Content.
 */
interface PiResponse {
  /** 200–599 */
  status: number;
  headers?: { [name: string]: string };
  /** A string is sent as text (unless you set content-type), anything else as JSON. */
  body?: unknown;
}

/** The error KV calls reject with; `code` is stable (see docs/errors.md). */
interface KvError extends Error {
  readonly name: "KvError";
  readonly code:
    | "KV_INVALID_COLLECTION"
    | "KV_INVALID_KEY"
    | "KV_INVALID_VALUE"
    | "KV_VALUE_TOO_LARGE"
    | "KV_INVALID_CURSOR"
    | "VALIDATION_FAILED"
    | string;
}

interface KvListOptions {
  /** Page size, 1–1000 (default 50). */
  limit?: number;
  /** The `cursor` of the previous page; omit or null for the first page. */
  cursor?: string | null;
  /** Only keys that start with this. */
  prefix?: string;
}

// Collections are untyped by default, like JSON.parse: plain JavaScript such as
// `((await c.get("n")) ?? 0) + 1` type-checks. Name a type to have values checked:
// `kv.collection<Cart>("carts")`.
interface KvPage<T = any> {
  /** Entries in key order (bytewise). */
  items: { key: string; value: T }[];
  /** Pass to the next `list` call; null on the last page. */
  cursor: string | null;
}

/** A named collection of JSON values in the current app. */
interface KvCollection<T = any> {
  readonly name: string;
  /**
   * The value stored under `key`, or null when there is none.
   * @example const cart = await kv.collection("carts").get(userId);
   */
  get(key: string): Promise<T | null>;
  /**
   * Stores a JSON value (at most 1 MiB serialised) under `key` (1–512 bytes).
   * @example await kv.collection("carts").set(userId, { items: [] });
   */
  set(key: string, value: T): Promise<void>;
  /** Whether `key` exists. */
  has(key: string): Promise<boolean>;
  /** Deletes `key`; resolves to whether it was present. */
  delete(key: string): Promise<boolean>;
  /**
   * One page of entries in key order. Stable under concurrent writes: no key is skipped or
   * repeated across pages.
   * @example
   * let cursor = null;
   * do {
   *   const page = await kv.collection("carts").list({ limit: 100, cursor });
   *   for (const { key, value } of page.items) console.log(key, value);
   *   cursor = page.cursor;
   * } while (cursor);
   */
  list(options?: KvListOptions): Promise<KvPage<T>>;
}

interface PiKv {
  /**
   * A handle on a collection of this app. Names: 1–128 letters, digits, `_`, `-`, `.`, not
   * starting with `.` or `-`. No argument can reach another app's data.
   * @example const widgets = kv.collection("widgets");
   */
  collection<T = any>(name: string): KvCollection<T>;
}

/** Key-value storage of the current app. */
declare const kv: PiKv;

/** Captured into the invocation's log (size-capped); see `picloud logs`. */
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
};

/**
 * Throw from a triggered handler to skip the remaining retries: the event becomes a dead letter
 * at once.
 * @example if (!ctx.event.value.address) throw new NonRetriableError("order has no address");
 */
declare class NonRetriableError extends Error {
  constructor(message?: string);
  readonly name: "NonRetriableError";
}
