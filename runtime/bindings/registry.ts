// Every binding's sandbox-side parts, in the order the prelude installs them. The executor worker
// imports this (guest sources, worker ops, error names); host halves are in host-registry.ts so
// the worker never loads store or network code. To add a binding: see docs/architecture.md.
import type { GuestBinding, LazyModule, WorkerOps } from "./channel.js";
import { consoleBinding } from "./console/guest.js";
import { cryptoBinding } from "./crypto/guest.js";
import { eventsBinding } from "./events/guest.js";
import { fetchGuest } from "./fetch/guest.js";
import { kvGuest } from "./kv/guest.js";
import { modulesBinding } from "./modules/guest.js";
import { timersBinding } from "./timers/guest.js";
import { webBinding } from "./web/guest.js";

export const GUEST_BINDINGS: readonly GuestBinding[] = [
  consoleBinding,
  kvGuest,
  eventsBinding,
  modulesBinding,
  webBinding,
  cryptoBinding,
  timersBinding,
  fetchGuest,
];

/** binding name -> the guest error name its host rejections carry. */
export const ERROR_NAMES: ReadonlyMap<string, string> = new Map(GUEST_BINDINGS.map((b) => [b.name, b.errorName]));

/** binding name -> synchronous in-worker operations. */
export const WORKER_OPS: ReadonlyMap<string, WorkerOps> = new Map(
  GUEST_BINDINGS.flatMap((b) => (b.worker ? [[b.name, b.worker] as const] : [])),
);

/** module name -> lazily evaluated polyfill. */
export const LAZY_MODULES: ReadonlyMap<string, LazyModule> = new Map(GUEST_BINDINGS.flatMap((b) => Object.entries(b.lazy ?? {})));
