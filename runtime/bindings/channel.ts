// The one channel between a sandbox and its host. Every SDK call is {binding, op, args}: the binding's
// name, an operation name, and the arguments as JSON text. Results come back as JSON text too.
import type { Limits } from "../shared/limits.js";
import type { WriteOrigin } from "../store/kv.js";

export interface BindingCall {
  readonly binding: string;
  readonly op: string;
  /** JSON text; each binding decides its shape (usually an array of arguments). */
  readonly args: string;
}

/** Serves the asynchronous SDK calls of one invocation; bound to that invocation's app by the caller, never by the guest. */
export type SdkHost = (call: BindingCall) => Promise<string>;

/** What one invocation's host bindings know about it. Nothing here comes from the guest. */
export interface InvocationScope {
  readonly app: string;
  readonly origin: WriteOrigin;
  readonly limits: Limits;
  /** performance.now() by which the invocation's wall time is spent: host work must end before it. */
  readonly deadline: number;
  /** Outbound calls made so far (fetch appends); the invoker shows them in the invocation's detail. */
  readonly outbound: { method: string; host: string; status?: number; error?: string; durationMs: number; at: number }[];
}

/** The host half of a binding for one invocation: runs an operation, resolves to JSON text, rejects with a coded error. */
export type HostOps = (op: string, args: string) => Promise<string>;

/**
 * Synchronous operations that run inside the executor worker, next to the sandbox (pure functions
 * over node: built-ins such as crypto and URL): no thread hop, no app data. Arguments and result are JSON text.
 */
export type WorkerOps = Readonly<Record<string, (args: string) => string>>;

/** A polyfill evaluated in a sandbox the first time a script touches one of its globals. */
export interface LazyModule {
  /** The globals it defines; the prelude resolves them to the module on first access (nothing is evaluated before). */
  readonly globals: readonly string[];
  /** `(function (api) { ...; return { Global1, Global2 }; })` */
  readonly source: string;
}

/** The parts of a binding that live in the sandbox and the executor worker (no store access). */
export interface GuestBinding {
  readonly name: string;
  /** The `name` of errors the host's rejections become in the guest, e.g. "KvError". */
  readonly errorName: string;
  /**
   * Guest source evaluated in every sandbox instance, before the script: `function (api) { ... }`.
   * Keep it small: strict-mode apps compile it on every invocation. Put the bulk in `lazy`.
   */
  readonly guest?: string;
  readonly lazy?: Readonly<Record<string, LazyModule>>;
  readonly worker?: WorkerOps;
}

/** A coded failure of a synchronous worker op: thrown into the guest as an error with this name and `code`. */
export class GuestCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly errorName = "Error",
  ) {
    super(message);
  }
}
