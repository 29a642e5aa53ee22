// Messages between the executor pool (main thread) and its worker threads.
import type { Limits } from "../shared/limits.js";
import type { RawOutcome } from "./guest-errors.js";
import type { WorkerKvSettings } from "./worker-kv.js";

export interface WorkerSettings {
  readonly instanceMaxUses: number;
  readonly instanceMaxAgeMs: number;
  /** The guest prelude's source, prepared once by the pool. */
  readonly prelude: string;
  /** Lazy guest modules (polyfills evaluated on first use): name -> source, prepared once by the pool. */
  readonly lazyModules: Readonly<Record<string, string>>;
  /** The worker's BusyMarker cells (see busy-marker.ts), read by the pool's watchdog. */
  readonly busyBuffer: SharedArrayBuffer;
  /** False: strict runs build a fresh instance each instead of restoring a snapshot (strict-template.ts). */
  readonly strictSnapshots?: boolean;
  /** Overrides of the strict-template policy (STRICT_TEMPLATE_DEFAULTS below). */
  readonly strictTemplates?: Partial<StrictTemplatePolicy>;
}

/** When a worker builds an app's strict-mode template, and how many it keeps (docs/limits.md). */
export interface StrictTemplatePolicy {
  /** Strict runs of an app in this worker within `windowMs` before its template is built. */
  readonly afterRuns: number;
  readonly windowMs: number;
  /**
   * Templates kept per worker. Past it a new one replaces the least recently used if that one has been
   * idle `evictAfterIdleMs`; else none is built (the run builds an instance, as without templates).
   */
  readonly max: number;
  readonly evictAfterIdleMs: number;
  /** A template whose module grew more than this past its size when built is dropped after its run. */
  readonly growthBytes: number;
}

/**
 * A template costs a module of its own and a build (~2.7 fresh runs of CPU) and saves ~90% of each
 * run after: built only for an app that has shown repeat use in the worker, at most `max` of them kept
 * (docs/architecture.md, strict mode).
 */
export const STRICT_TEMPLATE_DEFAULTS: StrictTemplatePolicy = {
  afterRuns: 4,
  windowMs: 60_000,
  max: 32,
  evictAfterIdleMs: 5_000,
  growthBytes: 8 * 1024 * 1024,
};

/**
 * Why a worker let a strict-mode template go: `faulted` (the engine failed in it, or a run had to retire
 * its module), `grown` (a run grew it past `growthBytes`), `evicted` (replaced by another app's at `max`),
 * `idle` (unused for the instance age limit), `app_changed` (its app was changed or deleted).
 */
export type TemplateDropReason = "faulted" | "grown" | "evicted" | "idle" | "app_changed";

/** A script version as a worker runs it: what it keeps per version key between invocations. */
export interface WorkerVersion {
  readonly app: string;
  readonly script: string;
  readonly version: number;
  readonly source: string;
  readonly limits: Limits;
}

/**
 * The hot messages travel packed (message-batcher.ts), a fixed number of fields each, in this order:
 * - to a worker, an invocation of a version the worker holds, not strict:
 *   `id, key, contextJson, expectedMs` (the `invoke` message's fields; anything else goes as an object);
 * - from a worker, a run that succeeded with a plain result, no logs and a reusable instance:
 *   `id, resultJson (or undefined), runMs, cpuMs, loadMs, hostCalls` (the `done` message's fields).
 * A batch is read objects first, then the packed ones: an object that brings a version comes before
 * the packed invocations of the same turn that need it.
 */
export const PACKED_INVOKE_FIELDS = 4;
export const PACKED_DONE_FIELDS = 6;

export type ToWorker =
  /**
   * Few fields, since one is structured-cloned per invocation: the version travels only with its first
   * invocation on a worker, after a `need-source`, and when its limits changed.
   */
  | {
      readonly t: "invoke";
      readonly id: number;
      /** `app/script@version#revision` (worker-pool.ts versionKey). */
      readonly key: string;
      readonly contextJson: string;
      /** The pool's estimate of the thread time this run takes (ms), learned from earlier runs. */
      readonly expectedMs: number;
      /** Present (true) for a fresh sandbox per invocation. */
      readonly strict?: true;
      /** Present for triggered runs: the chain depth of the events their KV writes create (0 when absent). */
      readonly chainDepth?: number;
      /** Present (true) for a deploy's check: load the module in a fresh sandbox, report its default export's kind (InvokeRequest.validate). */
      readonly validate?: true;
      readonly version?: WorkerVersion;
    }
  | { readonly t: "call-result"; readonly callId: number; readonly ok: true; readonly json: string }
  | { readonly t: "call-result"; readonly callId: number; readonly ok: false; readonly code: string; readonly message: string }
  | { readonly t: "forget"; readonly app: string }
  /** Serve kv calls in the worker from now on (Postgres without a KV read cache; see worker-kv.ts). */
  | { readonly t: "kv-direct"; readonly settings: WorkerKvSettings }
  /** The app's triggers changed ("*": every app's): drop the worker's copy. */
  | { readonly t: "kv-triggers"; readonly app: string }
  | { readonly t: "stats" };

export type FromWorker =
  | { readonly t: "ready" }
  /** A kv write served in the worker committed trigger events: wake this process's dispatcher. */
  | { readonly t: "kv-events" }
  /** A kv call served in the worker failed unexpectedly (the script saw INTERNAL): for the log. */
  | { readonly t: "kv-failed"; readonly message: string; readonly stack?: string }
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
      /** Strict-mode templates it holds (built). */
      readonly strictTemplates: number;
      /** Their engine modules' WebAssembly memories, allocated bytes (also counted in engineBytes). */
      readonly strictTemplateEngineBytes: number;
      /** Their snapshots: the bytes each keeps to restore before every strict run. */
      readonly strictTemplateSnapshotBytes: number;
      /** Templates built since the worker started. */
      readonly strictTemplatesBuilt: number;
      /** Templates dropped since the worker started, by why. */
      readonly strictTemplatesDropped: Readonly<Record<TemplateDropReason, number>>;
    };
