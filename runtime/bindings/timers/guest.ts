// setTimeout / clearTimeout in the sandbox: the host keeps the clock (a guest cannot block), and a
// timer never outlives its invocation: delays are capped by the wall-time limit, and a callback
// armed by an earlier invocation of a warm instance never runs in a later one.
import type { GuestBinding } from "../channel.js";

/** Pending timers per invocation: beyond this, setTimeout throws (a runaway loop, not a real need). */
export const MAX_TIMERS = 1_000;

export const timersBinding: GuestBinding = {
  name: "timers",
  errorName: "Error",
  lazy: {
    timers: {
      globals: ["setTimeout", "clearTimeout"],
      source: `(function (api) {
  "use strict";
  let generation = 0;
  let nextId = 1;
  const live = new Map();
  api.onInvocation(() => {
    generation++;
    live.clear();
  });
  function setTimeout(callback, delay, ...args) {
    if (typeof callback !== "function") throw new TypeError("setTimeout takes a function.");
    if (live.size >= ${1_000}) throw new RangeError("Too many pending timers.");
    const id = nextId++;
    const armed = generation;
    const ms = Math.max(0, Math.min(Number(delay) || 0, 2147483647));
    live.set(id, true);
    api.call("timers", "sleep", "[" + ms + "]").then(() => {
      if (armed !== generation || !live.delete(id)) return;
      callback(...args);
    });
    return id;
  }
  function clearTimeout(id) {
    live.delete(id);
  }
  return { setTimeout: setTimeout, clearTimeout: clearTimeout };
})`,
    },
  },
};
