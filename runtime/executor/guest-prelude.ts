import { transformSync } from "esbuild";

// Guest-side JavaScript evaluated in every sandbox instance before the script: the `console` and
// `kv` globals and the invocation wrapper. It receives the single host function (`hostCall`) as an
// argument, so the script can never reach it; everything crossing the boundary is JSON text.
export const GUEST_PRELUDE = `(function (hostCall) {
  "use strict";
  let logs = [];
  let logBytes = 0;
  let logLimit = 65536;
  let logFull = false;
  let startedAt = 0;

  function format(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.name + ": " + value.message;
    try {
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch (e) {
      return String(value);
    }
  }

  function record(level, args) {
    if (logFull) return;
    let message = "";
    for (let i = 0; i < args.length; i++) message += (i ? " " : "") + format(args[i]);
    logBytes += message.length + 32;
    if (logBytes > logLimit) {
      logFull = true;
      logs.push({ level: "warn", message: "[picloud] log limit reached; further output dropped", at: Date.now() - startedAt });
      return;
    }
    logs.push({ level: level, message: message, at: Date.now() - startedAt });
  }

  // One function literal per concern: QuickJS compiles every literal for every new instance.
  const console = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) console[level] = (...args) => record(level, args);
  Object.freeze(console);

  class KvError extends Error {
    constructor(code, message) {
      super(message);
      this.name = "KvError";
      this.code = code;
    }
  }

  // Thrown by a triggered handler to skip the remaining retries and dead-letter the event at once.
  class NonRetriableError extends Error {
    constructor(message) {
      super(message);
      this.name = "NonRetriableError";
    }
  }

  function checkKey(key) {
    if (typeof key !== "string" || key.length === 0) {
      throw new KvError("KV_INVALID_KEY", "Invalid key: keys are non-empty strings.");
    }
  }

  async function call(op, collection, key, valueJson, optionsJson) {
    const json = await hostCall(op, collection, key, valueJson, optionsJson);
    return JSON.parse(json);
  }

  function collection(name) {
    if (typeof name !== "string" || name.length === 0) {
      throw new KvError("KV_INVALID_COLLECTION", "Invalid collection name: use a non-empty string.");
    }
    const keyed = (op) => async (key) => {
      checkKey(key);
      return call(op, name, key);
    };
    return Object.freeze({
      name: name,
      get: keyed("get"),
      has: keyed("has"),
      delete: keyed("delete"),
      async set(key, value) {
        checkKey(key);
        const json = JSON.stringify(value);
        if (json === undefined) throw new KvError("KV_INVALID_VALUE", "Values must be JSON-serialisable (got " + typeof value + ").");
        await call("set", name, key, json);
      },
      async list(options) {
        const opts = options === undefined ? {} : options;
        if (opts === null || typeof opts !== "object") throw new KvError("VALIDATION_FAILED", "list() takes an options object.");
        return call("list", name, undefined, undefined, JSON.stringify(opts));
      },
    });
  }

  Object.defineProperty(globalThis, "console", { value: console, writable: true, configurable: true });
  Object.defineProperty(globalThis, "NonRetriableError", { value: NonRetriableError, writable: true, configurable: true });
  Object.defineProperty(globalThis, "kv", { value: Object.freeze({ collection: collection }), writable: true, configurable: true });

  function describeError(e) {
    if (e !== null && typeof e === "object") {
      return {
        name: String(e.name || "Error"),
        message: String(e.message === undefined ? e : e.message),
        code: typeof e.code === "string" ? e.code : undefined,
        stack: typeof e.stack === "string" ? e.stack : undefined,
      };
    }
    return { name: "Error", message: String(e) };
  }

  // Returns JSON text: {ok:true, result?, logs} or {ok:false, error, logs}.
  return async function run(handler, contextJson, maxLogBytes) {
    logs = [];
    logBytes = 0;
    logFull = false;
    logLimit = maxLogBytes;
    startedAt = Date.now();
    let outcome;
    try {
      if (typeof handler !== "function") {
        outcome = { ok: false, error: { name: "TypeError", code: "SCRIPT_NO_HANDLER", message: "The default export is not a function." } };
      } else {
        const result = await handler(JSON.parse(contextJson));
        outcome = { ok: true, result: result };
      }
    } catch (e) {
      outcome = { ok: false, error: describeError(e) };
    }
    outcome.logs = logs;
    try {
      return JSON.stringify(outcome);
    } catch (e) {
      return JSON.stringify({ ok: false, error: { name: "TypeError", code: "SCRIPT_BAD_RESPONSE", message: "The return value cannot be serialised as JSON: " + describeError(e).message }, logs: logs });
    }
  };
})`;

let minified: string | undefined;

/**
 * The prelude as the sandbox evaluates it: minified once per process, since QuickJS compiles it for
 * every new instance (strict mode: every invocation) and compiling is most of an instance's cost.
 */
export function preludeForSandbox(): string {
  if (minified === undefined) {
    // Assigning the expression keeps the minifier from dropping it as unused.
    const code = transformSync(`__prelude = ${GUEST_PRELUDE};`, { minify: true, target: "es2020", charset: "utf8" }).code.trim();
    minified = code.replace(/^__prelude=/, "").replace(/;$/, "");
  }
  return minified;
}
