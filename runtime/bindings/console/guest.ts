// `console` in the sandbox: output is captured per invocation (bounded by the logBytes limit) and
// returned with the outcome, never written to the host's own log. A lazy module: a script that never
// logs never compiles it.
import type { GuestBinding } from "../channel.js";

export const consoleBinding: GuestBinding = {
  name: "console",
  errorName: "Error",
  lazy: {
    console: {
      globals: ["console"],
      source: `(function (api) {
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

  function reset(invocation) {
    logs = [];
    logBytes = 0;
    logFull = false;
    logLimit = invocation ? invocation.maxLogBytes : 65536;
    startedAt = invocation ? invocation.startedAt : Date.now();
  }
  // Loaded during an invocation: capture from now on; later invocations reset at their start.
  reset(api.current);
  api.onInvocation(reset, (outcome) => {
    outcome.logs = logs;
  });

  // One function literal per concern: QuickJS compiles every literal for every new instance.
  const console = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) console[level] = (...args) => record(level, args);
  return { console: Object.freeze(console) };
})`,
    },
  },
};
