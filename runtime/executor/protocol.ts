// Messages between the executor pool (main thread) and its worker threads.
import type { Limits } from "../shared/limits.js";
import type { KvCall } from "../shared/wire.js";
import type { RawOutcome } from "./guest-errors.js";

export interface WorkerSettings {
  readonly instanceMaxUses: number;
  readonly instanceMaxAgeMs: number;
  /** The guest prelude's source, prepared once by the pool. */
  readonly prelude: string;
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
    }
  | { readonly t: "kv-result"; readonly callId: number; readonly ok: true; readonly json: string }
  | { readonly t: "kv-result"; readonly callId: number; readonly ok: false; readonly code: string; readonly message: string }
  | { readonly t: "forget"; readonly app: string };

export type FromWorker =
  | { readonly t: "ready" }
  | { readonly t: "need-source"; readonly id: number }
  | { readonly t: "kv"; readonly id: number; readonly callId: number; readonly call: KvCall }
  | { readonly t: "done"; readonly id: number; readonly outcome: RawOutcome };
