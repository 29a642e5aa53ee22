// How a script's default export is called beyond a plain function, as a lazy guest module: the
// Workers module style (`export default { fetch(request, env, ctx), scheduled(event, env, ctx) }`)
// and JSON request bodies, which arrive as text and are parsed on first access of `ctx.request.body`
// (so a Workers-style Request reads the exact text a signature was computed over).
import type { GuestBinding } from "../channel.js";

export const modulesBinding: GuestBinding = {
  name: "modules",
  errorName: "Error",
  lazy: {
    // ctx for a plain handler: the context JSON is parsed on the handler's first look at ctx (any
    // operation: a property, `in`, keys, spread, ...), so a handler that never reads it never pays for
    // it. Each trap fills the target from the text once, then forwards to it, so ctx behaves exactly as
    // the parsed object would. The handler object (the traps' `this`) holds the text.
    ctx: {
      globals: [],
      source: `(function (api) {
  "use strict";
  const hydrate = (h, target) => {
    if (h.json !== undefined) {
      const parsed = JSON.parse(h.json);
      h.json = undefined;
      for (const key of Object.keys(parsed)) target[key] = parsed[key];
    }
    return target;
  };
  const LAZY_CTX = Object.freeze({
    __proto__: null,
    get(t, k, r) { return Reflect.get(hydrate(this, t), k, r); },
    set(t, k, v, r) { return Reflect.set(hydrate(this, t), k, v, r); },
    has(t, k) { return Reflect.has(hydrate(this, t), k); },
    ownKeys(t) { return Reflect.ownKeys(hydrate(this, t)); },
    getOwnPropertyDescriptor(t, k) { return Reflect.getOwnPropertyDescriptor(hydrate(this, t), k); },
    defineProperty(t, k, d) { return Reflect.defineProperty(hydrate(this, t), k, d); },
    deleteProperty(t, k) { return Reflect.deleteProperty(hydrate(this, t), k); },
    getPrototypeOf(t) { return Reflect.getPrototypeOf(hydrate(this, t)); },
    setPrototypeOf(t, p) { return Reflect.setPrototypeOf(hydrate(this, t), p); },
    isExtensible(t) { return Reflect.isExtensible(hydrate(this, t)); },
    preventExtensions(t) { return Reflect.preventExtensions(hydrate(this, t)); },
  });
  api.lazyCtx = (json) => new Proxy({}, { __proto__: LAZY_CTX, json: json });
  return {};
})`,
    },
    modules: {
      globals: [],
      source: `(function (api) {
  "use strict";
  api.jsonBody = (request) => {
    const raw = request.rawBody;
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
    return raw;
  };

  api.callModule = async (handler, ctx, raw) => {
    const hasFetch = handler !== null && typeof handler === "object" && typeof handler.fetch === "function";
    const hasScheduled = handler !== null && typeof handler === "object" && typeof handler.scheduled === "function";
    if (!hasFetch && !hasScheduled) throw { name: "TypeError", code: "SCRIPT_NO_HANDLER", message: "The default export is not a function." };
    const env = ctx.env === undefined ? {} : ctx.env;
    const waits = [];
    const execution = Object.assign({}, ctx, { waitUntil: (p) => void waits.push(p), passThroughOnException() {} });
    let result;
    if (ctx.request && hasFetch) {
      api.load("fetch-api");
      result = await handler.fetch(api.request(ctx.request, raw), env, execution);
    } else if (ctx.event && ctx.event.type === "schedule" && hasScheduled) {
      const event = { type: "scheduled", cron: ctx.event.schedule, scheduledTime: Date.parse(ctx.event.scheduledAt) };
      result = await handler.scheduled(event, env, execution);
    } else {
      throw { name: "TypeError", code: "SCRIPT_NO_HANDLER", message: "The default export has no handler for this trigger: fetch() serves HTTP, scheduled() serves schedules." };
    }
    await Promise.allSettled(waits);
    return result;
  };
  return {};
})`,
    },
  },
};
