import { transformSync } from "esbuild";
import type { GuestBinding } from "../bindings/channel.js";
import { GUEST_BINDINGS, LAZY_MODULES } from "../bindings/registry.js";

// Guest-side JavaScript evaluated in every sandbox instance before the script: the binding channel,
// each binding's guest part (console, kv, ...) and the invocation wrapper. It receives the two host
// functions as arguments, so the script can never reach them; everything crossing is JSON text, sent
// as pure ASCII (boundary-text.ts: the engine's string export truncates at NUL and mangles lone
// surrogates, while \uXXXX escapes survive exactly).
//   hostCall(binding, op, argsJson) -> Promise<json>   asynchronous, served on the main thread
//   hostSync(binding, op, argsJson) -> json            synchronous, served in the executor worker
// hostSync("prelude", "load", name) returns the factory of a lazy module (see bindings/channel.ts).
function preludeSource(bindings: readonly GuestBinding[]): string {
  const parts = bindings.flatMap((b) => (b.guest ? [b.guest] : [])).join(",\n");
  return `(function (hostCall, hostSync) {
  "use strict";
  const starts = [];
  const finishes = [];
  const define = (name, value) => Object.defineProperty(globalThis, name, { value: value, writable: true, configurable: true });
  const loaded = {};
  function load(module) {
    if (!loaded[module]) {
      loaded[module] = true;
      const exported = hostSync("prelude", "load", module)(api);
      for (const name of Object.keys(exported)) define(name, exported[name]);
    }
  }
  // JSON text -> pure ASCII JSON text, exact: every other code unit becomes a \\uXXXX escape.
  const NON_ASCII = /[^\\x20-\\x7e]/g;
  const escapeUnit = (c) => "\\\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4);
  function wire(json) {
    NON_ASCII.lastIndex = 0;
    return NON_ASCII.test(json) ? json.replace(NON_ASCII, escapeUnit) : json;
  }

  const api = {
    call: (binding, op, args) => hostCall(binding, op, wire(args)),
    sync: (binding, op, args) => hostSync(binding, op, wire(args)),
    define: define,
    // Globals whose implementation is evaluated on first access, so the plain path never pays for it.
    lazy(module, names) {
      for (const name of names) {
        Object.defineProperty(globalThis, name, {
          get() {
            load(module);
            return globalThis[name];
          },
          set(value) {
            define(name, value);
          },
          configurable: true,
        });
      }
    },
    load: load,
    onInvocation(start, finish) {
      if (start) starts.push(start);
      if (finish) finishes.push(finish);
    },
  };

  // Thrown by a triggered handler to skip the remaining retries and dead-letter the event at once.
  class NonRetriableError extends Error {
    constructor(message) {
      super(message);
      this.name = "NonRetriableError";
    }
  }
  define("NonRetriableError", NonRetriableError);

  for (const install of [${parts}]) install(api);

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

  function finish(outcome) {
    for (let i = 0; i < finishes.length; i++) finishes[i](outcome);
    return outcome;
  }

  // A JSON request body arrives as text and is parsed on first access (a Workers-style Request reads the text).
  function prepare(ctx) {
    const request = ctx.request;
    let raw;
    if (request && request.bodyJson === true) {
      raw = request.rawBody;
      delete request.rawBody;
      delete request.bodyJson;
      let parsed;
      let done = false;
      Object.defineProperty(request, "body", {
        get() {
          if (!done) {
            parsed = JSON.parse(raw);
            done = true;
          }
          return parsed;
        },
        enumerable: true,
        configurable: true,
      });
    }
    if (ctx.env === undefined) ctx.env = {};
    return raw;
  }

  // export default { fetch(request, env, ctx), scheduled(event, env, ctx) }: the Workers module style.
  async function callModule(handler, ctx, raw) {
    const waits = [];
    const execution = Object.assign({}, ctx, { waitUntil: (p) => void waits.push(p), passThroughOnException() {} });
    let result;
    if (ctx.request && typeof handler.fetch === "function") {
      api.load("fetch-api");
      result = await handler.fetch(api.request(ctx.request, raw), ctx.env, execution);
    } else if (ctx.event && ctx.event.type === "schedule" && typeof handler.scheduled === "function") {
      const event = { type: "scheduled", cron: ctx.event.schedule, scheduledTime: Date.parse(ctx.event.scheduledAt) };
      result = await handler.scheduled(event, ctx.env, execution);
    } else {
      throw { name: "TypeError", code: "SCRIPT_NO_HANDLER", message: "The default export has no handler for this trigger: fetch() serves HTTP, scheduled() serves schedules." };
    }
    await Promise.allSettled(waits);
    return result;
  }

  // Returns JSON text: {ok:true, result?, response?, logs} or {ok:false, error, logs}.
  return async function run(handler, contextJson, maxLogBytes) {
    const invocation = { maxLogBytes: maxLogBytes, startedAt: Date.now() };
    for (let i = 0; i < starts.length; i++) starts[i](invocation);
    let outcome;
    try {
      const ctx = JSON.parse(contextJson);
      const raw = prepare(ctx);
      let result;
      if (typeof handler === "function") result = await handler(ctx);
      else if (handler !== null && typeof handler === "object" && (typeof handler.fetch === "function" || typeof handler.scheduled === "function")) {
        result = await callModule(handler, ctx, raw);
      } else {
        throw { name: "TypeError", code: "SCRIPT_NO_HANDLER", message: "The default export is not a function." };
      }
      const response = api.response === undefined ? undefined : api.response(result);
      outcome = response === undefined ? { ok: true, result: result } : { ok: true, response: response };
    } catch (e) {
      outcome = { ok: false, error: describeError(e) };
    }
    try {
      return wire(JSON.stringify(finish(outcome)));
    } catch (e) {
      return wire(JSON.stringify(finish({ ok: false, error: { name: "TypeError", code: "SCRIPT_BAD_RESPONSE", message: "The return value cannot be serialised as JSON: " + describeError(e).message } })));
    }
  };
})`;
}

export const GUEST_PRELUDE = preludeSource(GUEST_BINDINGS);

function minify(expression: string): string {
  // Assigning the expression keeps the minifier from dropping it as unused.
  const code = transformSync(`__prelude = ${expression};`, { minify: true, target: "es2022", charset: "utf8" }).code.trim();
  return code.replace(/^__prelude=/, "").replace(/;$/, "");
}

let minified: string | undefined;
let lazyMinified: Record<string, string> | undefined;

/**
 * The prelude as the sandbox evaluates it: minified once per process, since QuickJS compiles it for
 * every new instance (strict mode: every invocation) and compiling is most of an instance's cost.
 */
export function preludeForSandbox(): string {
  minified ??= minify(GUEST_PRELUDE);
  return minified;
}

/** The lazy modules' sources, minified once per process: module name -> function expression. */
export function lazyModulesForSandbox(): Record<string, string> {
  lazyMinified ??= Object.fromEntries([...LAZY_MODULES].map(([name, module]) => [name, minify(module.source)]));
  return lazyMinified;
}
