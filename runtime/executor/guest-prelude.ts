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

/**
 * Lazy globals cost one Proxy per sandbox, not a getter each: the global object's prototype answers
 * for names no own global has yet, and evaluates their module on first access. Which module defines a
 * name the host answers (hostSync "pending", from the registry's table, sandbox-instance.ts): QuickJS
 * compiles every token of the prelude again in each fresh instance (strict mode), and a lookup only
 * runs for a name the global object does not have.
 */
function lazyResolver(): string {
  return `// The module that defines a lazy global not loaded yet, or "".
  const pending = (name) => (typeof name === "string" ? hostSync("prelude", "pending", name) : "");
  Object.setPrototypeOf(
    globalThis,
    new Proxy(Object.getPrototypeOf(globalThis), {
      has: (target, name) => pending(name) !== "" || Reflect.has(target, name),
      get(target, name, receiver) {
        const module = pending(name);
        if (module !== "") {
          load(module);
          if (Object.prototype.hasOwnProperty.call(globalThis, name)) return globalThis[name];
        }
        return Reflect.get(target, name, receiver);
      },
    }),
  );`;
}

function preludeSource(bindings: readonly GuestBinding[]): string {
  const parts = bindings.flatMap((b) => (b.guest ? [b.guest] : [])).join(",\n");
  // global name -> lazy module that defines it
  const lazyGlobals: Record<string, string> = {};
  for (const b of bindings)
    for (const [module, spec] of Object.entries(b.lazy ?? {})) for (const name of spec.globals) lazyGlobals[name] = module;
  return `(function (hostCall, hostSync) {
  "use strict";
  const starts = [];
  const finishes = [];
  const loaded = {};
  // What binding modules get: \`current\` is the running invocation ({maxLogBytes, startedAt}), for a
  // module loaded in the middle of one; the rest (call, sync, define, load, onInvocation) comes from the
  // "binding-api" module (BINDING_API_MODULE below), evaluated with the first module an instance loads,
  // so a fresh instance whose script touches no binding never compiles it.
  const api = { current: undefined };
  let define;
  const bindingApi = () => define || (define = hostSync("prelude", "load", "binding-api")(api, hostCall, hostSync, load, starts, finishes));
  function load(module) {
    if (!loaded[module]) {
      loaded[module] = true;
      bindingApi();
      const exported = hostSync("prelude", "load", module)(api);
      for (const name of Object.keys(exported)) define(name, exported[name]);
    }
  }
  ${Object.keys(lazyGlobals).length === 0 ? "" : lazyResolver()}
  ${parts === "" ? "" : `bindingApi();\n  for (const install of [${parts}]) install(api);`}

  // Taken before the script runs, so a script that replaces Promise.resolve changes nothing here.
  const PromiseResolve = Promise.resolve.bind(Promise);
  const PromiseReject = Promise.reject.bind(Promise);

  // The run protocol is the lazy module "run" (RUN_MODULE below): a warm instance evaluates it once; a
  // fresh instance (strict mode) only when the host cannot run its invocation itself, which it does for a
  // plain handler in an instance that loaded no binding, with the four functions after protocol() here
  // (sandbox-instance.ts). protocol() returns [begin, settle, fail, later, badResult].
  let steps;
  const protocol = () => steps || (steps = hostSync("prelude", "load", "run")(api, load, starts, finishes, PromiseResolve, PromiseReject));
  return [protocol, PromiseResolve, PromiseReject, (text) => JSON.parse(text), (value) => JSON.stringify(value), load];
})`;
}

/** JSON text -> pure ASCII JSON text, exact: every other code unit becomes a \\uXXXX escape (guest source). */
const WIRE = `  const NON_ASCII = /[^\\x20-\\x7e]/g;
  const escapeUnit = (c) => "\\\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4);
  function wire(json) {
    NON_ASCII.lastIndex = 0;
    return NON_ASCII.test(json) ? json.replace(NON_ASCII, escapeUnit) : json;
  }`;

/**
 * The prelude's run protocol, a lazy module ("run"): see the end of the prelude. Its arguments are the
 * prelude's own closures; it returns [begin, settle, fail, later, badResult].
 */
const RUN_MODULE = `(function (api, load, starts, finishes, PromiseResolve, PromiseReject) {
  "use strict";
${WIRE}
  // Errors are the rare path: how one is described is a lazy module (OUTCOME_MODULE below), so a run
  // that succeeds never compiles it.
  const describeError = (e) => (load("outcome"), api.describeError(e));

  function finish(outcome) {
    outcome.logs = [];
    for (let i = 0; i < finishes.length; i++) finishes[i](outcome);
    return outcome;
  }

  // The outcome as JSON text, or, for a plain result with no logs, "=" and the result's JSON when that
  // is pure ASCII: exactly the text the host would get re-serialising it, so it takes it as it is.
  function report(outcome) {
    try {
      finish(outcome);
      if (outcome.ok && outcome.response === undefined && outcome.logs.length === 0) {
        const json = JSON.stringify(outcome.result);
        if (json === undefined) return "=";
        NON_ASCII.lastIndex = 0;
        return NON_ASCII.test(json) ? wire('{"ok":true,"logs":[],"result":' + json + "}") : "=" + json;
      }
      return wire(JSON.stringify(outcome));
    } catch (e) {
      return badResult(e);
    }
  }

  // The outcome of a result JSON.stringify threw on.
  function badResult(e) {
    return wire(JSON.stringify(finish({ ok: false, error: (load("outcome"), api.badResult(e)) })));
  }

  // One invocation, in two steps the host drives (sandbox-instance.ts):
  //   begin(handler, contextJson, maxLogBytes, lazyCtx) -> a promise of the handler's result (never
  //     throws for the script's own errors: they reject it). Everything a plain handler does not need
  //     (JSON bodies, Workers modules, Response) is in lazy modules; so is the lazily parsed ctx
  //     (modules/guest.ts), which a warm instance loads once and a strict one (one run, lazyCtx false)
  //     never compiles.
  //   then, when that promise is already settled and no job is queued (nothing else would run before
  //     an \`await\` resumed), the host calls settle(value) or fail(error) at once; otherwise it calls
  //     later(promise) and drains the job queue, which awaits it exactly as an async wrapper would.
  // Each returns JSON text: {ok:true, result?, response?, logs} or {ok:false, error, logs}.
  function begin(handler, contextJson, maxLogBytes, lazyCtx) {
    const invocation = (api.current = { maxLogBytes: maxLogBytes, startedAt: Date.now() });
    for (let i = 0; i < starts.length; i++) starts[i](invocation);
    try {
      // lazyCtx is false when there is a JSON body too: the host looks for its flag, the exact text
      // '"bodyJson":true' (JSON.stringify escapes the quotes of any string that contains it), in V8.
      if (lazyCtx && typeof handler === "function") {
        load("ctx");
        return PromiseResolve(handler(api.lazyCtx(contextJson)));
      }
      const ctx = JSON.parse(contextJson);
      let raw;
      if (ctx.request !== undefined && ctx.request.bodyJson === true) {
        load("modules");
        raw = api.jsonBody(ctx.request);
      }
      return PromiseResolve(typeof handler === "function" ? handler(ctx) : (load("modules"), api.callModule(handler, ctx, raw)));
    } catch (e) {
      return PromiseReject(e);
    }
  }

  function settle(result) {
    let outcome;
    try {
      const response = api.response === undefined ? undefined : api.response(result);
      outcome = response === undefined ? { ok: true, result: result } : { ok: true, response: response };
    } catch (e) {
      outcome = { ok: false, error: describeError(e) };
    }
    return report(outcome);
  }

  function fail(e) {
    return report({ ok: false, error: describeError(e) });
  }

  async function later(promise) {
    let result;
    try {
      result = await promise;
    } catch (e) {
      return fail(e);
    }
    return settle(result);
  }

  return [begin, settle, fail, later, badResult];
})`;

/** The prelude's own lazy module: the functions binding modules get on \`api\` (see the prelude). */
const BINDING_API_MODULE = `(function (api, hostCall, hostSync, load, starts, finishes) {
  "use strict";
${WIRE}
  // A run the host started itself (no begin) has no api.current yet: the host tells, as JSON text.
  if (api.current === undefined) {
    const current = JSON.parse(hostSync("prelude", "current", "null"));
    if (current !== null) api.current = current;
  }
  const define = (name, value) => Object.defineProperty(globalThis, name, { value: value, writable: true, configurable: true });
  api.call = (binding, op, args) => hostCall(binding, op, wire(args));
  api.sync = (binding, op, args) => hostSync(binding, op, wire(args));
  api.define = define;
  api.load = load;
  api.onInvocation = (start, finish) => {
    if (start) starts.push(start);
    if (finish) finishes.push(finish);
  };
  return define;
})`;

/** The prelude's own lazy module: the error path of a run (loaded as "outcome"; it defines no global). */
const OUTCOME_MODULE = `(function (api) {
  "use strict";
  const describeError = (api.describeError = (e) => {
    if (e !== null && typeof e === "object") {
      return {
        name: String(e.name || "Error"),
        message: String(e.message === undefined ? e : e.message),
        code: typeof e.code === "string" ? e.code : undefined,
        stack: typeof e.stack === "string" ? e.stack : undefined,
      };
    }
    return { name: "Error", message: String(e) };
  });
  api.badResult = (e) => ({ name: "TypeError", code: "SCRIPT_BAD_RESPONSE", message: "The return value cannot be serialised as JSON: " + describeError(e).message });
  return {};
})`;

export const GUEST_PRELUDE = preludeSource(GUEST_BINDINGS);

function minify(expression: string): string {
  // Assigning the expression keeps the minifier from dropping it as unused.
  const code = transformSync(`__prelude = ${expression};`, { minify: true, target: "es2022", charset: "utf8" }).code.trim();
  return code.replace(/^__prelude=/, "").replace(/;$/, "");
}

/** The minified prelude of a chosen set of bindings (the bench compares the plain path with and without some). */
export function preludeForBindings(bindings: readonly GuestBinding[]): string {
  return minify(preludeSource(bindings));
}

/**
 * The bundle (scripts/build-runtime.mjs) carries both already minified: minifying here starts esbuild's
 * service synchronously, ~0.1 s of a start. Sources (tsx, tests) minify on first use.
 */
declare const __PICLOUD_BUILT_PRELUDE__: string | undefined;
const built: { prelude: string; lazyModules: Record<string, string> } | undefined =
  typeof __PICLOUD_BUILT_PRELUDE__ === "string" ? JSON.parse(__PICLOUD_BUILT_PRELUDE__) : undefined;

let minified: string | undefined = built?.prelude;
let lazyMinified: Record<string, string> | undefined = built?.lazyModules;

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
  lazyMinified ??= Object.fromEntries(
    [...LAZY_MODULES.entries()]
      .map(([name, module]): [string, string] => [name, module.source])
      .concat([
        ["run", RUN_MODULE],
        ["binding-api", BINDING_API_MODULE],
        ["outcome", OUTCOME_MODULE],
      ])
      .map(([name, source]) => [name, minify(source)]),
  );
  return lazyMinified;
}
