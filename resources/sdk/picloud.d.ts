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
  /**
   * The app's secrets by name (`picloud secrets set NAME --app A`); a missing one is `undefined`.
   * Values are masked as `[secret:NAME]` if they reach a log line or an error message.
   * @example const res = await fetch(url, { headers: { authorization: `Bearer ${ctx.env.API_TOKEN}` } });
   */
  readonly env: PiEnv;
}

/** The app's secrets by name. */
type PiEnv = { readonly [name: string]: string | undefined };

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

// ---------------------------------------------------------------------------------------------
// Workers-style modules: `export default { fetch(request, env, ctx), scheduled(event, env, ctx) }`

/** The third argument of a Workers-style handler: `ctx` plus `waitUntil`. */
interface PiExecutionContext extends PiContext {
  /** Keeps the invocation open until `promise` settles (within the wall-time limit). */
  waitUntil(promise: Promise<unknown>): void;
  /** Accepted for compatibility; does nothing. */
  passThroughOnException(): void;
}

/** A schedule trigger as a Workers `scheduled` handler receives it. */
interface PiScheduledController {
  readonly type: "scheduled";
  /** The trigger's cron expression. */
  readonly cron: string;
  /** ms since the epoch of the tick this run is for. */
  readonly scheduledTime: number;
}

/**
 * A Workers-style module: `fetch` serves HTTP (and test runs), `scheduled` serves schedules.
 * @example
 * export default {
 *   async fetch(request, env, ctx) {
 *     const url = new URL(request.url);
 *     return Response.json({ path: url.pathname, hasKey: env.API_KEY !== undefined });
 *   },
 * } satisfies PiModule;
 */
interface PiModule {
  fetch?(request: Request, env: PiEnv, ctx: PiExecutionContext): Response | Promise<Response>;
  scheduled?(controller: PiScheduledController, env: PiEnv, ctx: PiExecutionContext): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Web-standard APIs (WinterTC minimum common API subset). Bodies are held whole (no streams).

type BufferSource = ArrayBuffer | ArrayBufferView;
type HeadersInit = Headers | [string, string][] | Record<string, string>;
type BodyInit = string | ArrayBuffer | ArrayBufferView | URLSearchParams;

/** The error `fetch` rejects with; `code` is stable (docs/errors.md). Uncaught, it fails the invocation with that code. */
interface FetchError extends Error {
  readonly name: "FetchError";
  readonly code: "FETCH_DENIED" | "FETCH_TIMEOUT" | "FETCH_TOO_LARGE" | "FETCH_LIMIT" | "FETCH_FAILED" | "FETCH_INVALID";
}

declare class DOMException extends Error {
  constructor(message?: string, name?: string);
}

declare class URLSearchParams implements Iterable<[string, string]> {
  constructor(init?: string | [string, string][] | Record<string, string> | URLSearchParams);
  readonly size: number;
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  forEach(callback: (value: string, name: string, parent: URLSearchParams) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
  toString(): string;
}

/**
 * A WHATWG URL (parsed by the host's standard parser).
 * @example const url = new URL(request.url); url.searchParams.get("q");
 */
declare class URL {
  constructor(url: string, base?: string | URL);
  static canParse(url: string, base?: string): boolean;
  static parse(url: string, base?: string): URL | null;
  href: string;
  readonly origin: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  readonly searchParams: URLSearchParams;
  toString(): string;
  toJSON(): string;
}

declare class TextEncoder {
  readonly encoding: "utf-8";
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

/** UTF-8 only. */
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: "utf-8";
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: BufferSource): string;
}

declare function atob(data: string): string;
declare function btoa(data: string): string;
/** Deep copy of plain data, Date, RegExp, Map, Set, ArrayBuffer and typed arrays; functions throw DataCloneError. */
declare function structuredClone<T>(value: T): T;
/** Runs `callback` after `ms`; a delay past the invocation's wall-time limit never fires. */
declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined): void;

declare class Headers implements Iterable<[string, string]> {
  constructor(init?: HeadersInit);
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getSetCookie(): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callback: (value: string, name: string, parent: Headers) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

interface Body {
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
}

interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  /** "follow" (default, at most 10 hops, each checked against the egress policy), "manual" or "error". */
  redirect?: "follow" | "manual" | "error";
}

/** Request and Response share the Body methods (declaration merging). */
interface Request extends Body {}
declare class Request {
  constructor(input: string | URL | Request, init?: RequestInit);
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly redirect: "follow" | "manual" | "error";
  clone(): Request;
}

interface ResponseInit {
  /** 200–599 */
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

/**
 * An HTTP response: what `fetch` resolves to, and what a handler may return.
 * @example return new Response("created", { status: 201, headers: { "x-id": id } });
 */
interface Response extends Body {}
declare class Response {
  constructor(body?: BodyInit | null, init?: ResponseInit);
  static json(data: unknown, init?: ResponseInit): Response;
  static redirect(url: string | URL, status?: 301 | 302 | 303 | 307 | 308): Response;
  static error(): Response;
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly url: string;
  readonly redirected: boolean;
  readonly type: "default" | "basic" | "error";
  clone(): Response;
}

/**
 * An outbound HTTP request, made by the host under the app's egress policy and fetch limits.
 * Rejects with a {@link FetchError} (`FETCH_DENIED`, `FETCH_TIMEOUT`, `FETCH_TOO_LARGE`, ...).
 * @example
 * const res = await fetch("https://api.example.com/items", { method: "POST", body: JSON.stringify(item),
 *   headers: { "content-type": "application/json" } });
 * if (!res.ok) throw new Error(`upstream ${res.status}`);
 */
declare function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;

interface CryptoKey {
  readonly type: "secret";
  readonly extractable: boolean;
  readonly algorithm: { readonly name: "HMAC"; readonly hash: { readonly name: string }; readonly length: number };
  readonly usages: readonly ("sign" | "verify")[];
}

type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

interface SubtleCrypto {
  /** @example const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)); */
  digest(algorithm: HashName | { name: HashName }, data: BufferSource): Promise<ArrayBuffer>;
  /**
   * HMAC keys only ("raw" bytes or an "oct" JWK).
   * @example const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
   */
  importKey(
    format: "raw" | "jwk",
    keyData: BufferSource | { kty: "oct"; k: string },
    algorithm: { name: "HMAC"; hash: HashName | { name: HashName } },
    extractable: boolean,
    usages: ("sign" | "verify")[],
  ): Promise<CryptoKey>;
  exportKey(format: "raw", key: CryptoKey): Promise<ArrayBuffer>;
  sign(algorithm: "HMAC" | { name: "HMAC" }, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  /** Constant-time comparison on the host. */
  verify(algorithm: "HMAC" | { name: "HMAC" }, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
}

declare const crypto: {
  readonly subtle: SubtleCrypto;
  /** Fills an integer typed array (at most 65536 bytes) with random values. */
  getRandomValues<T extends Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array>(array: T): T;
  /** A random v4 UUID. */
  randomUUID(): string;
};
