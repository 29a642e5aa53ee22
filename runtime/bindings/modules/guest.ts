// How a script's default export is called beyond a plain function, as a lazy guest module: the
// Workers module style (`export default { fetch(request, env, ctx), scheduled(event, env, ctx) }`)
// and JSON request bodies, which arrive as text and are parsed on first access of `ctx.request.body`
// (so a Workers-style Request reads the exact text a signature was computed over).
import type { GuestBinding } from "../channel.js";

export const modulesBinding: GuestBinding = {
  name: "modules",
  errorName: "Error",
  lazy: {
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
