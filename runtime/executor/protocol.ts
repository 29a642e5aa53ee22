// Messages between the executor pool (main thread) and its worker threads.
import type { Limits } from "../shared/limits.js";
import type { RawOutcome } from "./guest-errors.js";

export interface WorkerSettings {
  readonly instanceMaxUses: number;
  readonly instanceMaxAgeMs: number;
  /** The guest prelude's source, prepared once by the pool. */
  readonly prelude: string;
  /** Lazy guest modules (polyfills evaluated on first use): name -> source, prepared once by the pool. */
  readonly lazyModules: Readonly<Record<string, string>>;
  /** The worker's BusyMarker cells (see busy-marker.ts), read by the pool's watchdog. */
  readonly busyBuffer: SharedArrayBuffer;
}

export type ToWorker =
  | {
      readonly t: "invoke";
      readonly id: number;
      readonly app: string;
      readonly script: string;
      readonly version: number;
      /** Omitted when the pool believes the worker already holds this version's source. */
      readonly source?: string | undefined;
      readonly contextJson: string;
      readonly limits: Limits;
      readonly strict: boolean;
      /** The pool's estimate of the thread time this run takes (ms), learned from earlier runs. */
      readonly expectedMs: number;
    }
  | { readonly t: "call-result"; readonly callId: number; readonly ok: true; readonly json: string }
  | { readonly t: "call-result"; readonly callId: number; readonly ok: false; readonly code: string; readonly message: string }
  | { readonly t: "forget"; readonly app: string }
  | { readonly t: "stats" };

export type FromWorker =
  | { readonly t: "ready" }
  | { readonly t: "need-source"; readonly id: number }
  /** A binding call from the sandbox: {binding, op, args} with JSON text args. */
  | {
      readonly t: "call";
      readonly id: number;
      readonly callId: number;
      readonly binding: string;
      readonly op: string;
      readonly args: string;
    }
  /**
   * `runMs`: from the worker taking the invocation up to its end (the pool derives queue time from it).
   * `loadMs` (building a new sandbox, part of `outcome.cpuMs`) and `hostCalls` (binding calls made)
   * tell the pool whether the version may run inline (inline-policy.ts).
   */
  | {
      readonly t: "done";
      readonly id: number;
      readonly outcome: RawOutcome;
      readonly runMs: number;
      readonly loadMs: number;
      readonly hostCalls: number;
    }
  | {
      readonly t: "stats";
      readonly instancesCreated: number;
      readonly idleInstances: number;
      /** The worker's V8 heap, resident bytes. */
      readonly heapBytes: number;
      /** Its QuickJS modules' WebAssembly memories, allocated bytes. */
      readonly engineBytes: number;
    };
