// Shapes that cross role and thread boundaries.
import type { Limits } from "./limits.js";

export type TriggerKind = "http" | "kv" | "schedule" | "dead_letter" | "test";

export interface LogLine {
  readonly level: "log" | "info" | "warn" | "error" | "debug";
  readonly message: string;
  /** ms since the invocation started */
  readonly at: number;
}

export interface InvocationError {
  readonly code: string;
  readonly message: string;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly stack?: string | undefined;
  /** False when the script threw a NonRetriableError: the event dead-letters at once. */
  readonly retriable?: boolean | undefined;
}

/** A Response object a handler returned, as the guest hands it over: a text body or a base64 one. */
export interface GuestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text?: string;
  readonly base64?: string;
}

export interface HttpRequestContext {
  readonly method: string;
  /** The full request path, e.g. /shop/orders/42 */
  readonly path: string;
  /** The part after /{app}/{script}, always starting with '/', e.g. /42 */
  readonly subpath: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string>;
  /** Parsed JSON for JSON requests, text otherwise, null when empty. */
  readonly body: unknown;
  /** Path and query as received (the Request URL of a Workers-style handler). */
  readonly url?: string;
  /**
   * Set by the ingress for JSON bodies: the body travels as its text (`rawBody`) and the guest
   * parses it on first access of `body`, so a Workers-style handler can verify a signature over the exact bytes.
   */
  readonly bodyJson?: true;
  readonly rawBody?: string;
}

/** What a script sees as `ctx` (besides the SDK globals). */
export interface ScriptContext {
  readonly app: string;
  readonly script: string;
  readonly request?: HttpRequestContext;
  readonly event?: Record<string, unknown>;
  readonly attempt?: number;
  readonly eventId?: string;
  readonly isDeadLetterHandler?: boolean;
  /** The app's secrets, by name (also the `env` argument of Workers-style handlers). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface InvokeRequest {
  readonly app: string;
  readonly script: string;
  readonly version: number;
  /** Compiled module source of that version. */
  readonly source: string;
  /** Tells apart code deployed under a version number used before (a script deleted and deployed anew). */
  readonly revision?: string;
  readonly context: ScriptContext;
  readonly limits: Limits;
  /** Fresh sandbox per invocation. */
  readonly strict: boolean;
  readonly trigger: TriggerKind;
  /** Chain depth of the events this run's KV writes create (0, the default, for runs not triggered by an event). */
  readonly chainDepth?: number;
  /** Called when the run leaves the queue for a worker: its wall time starts there. */
  readonly onStart?: () => void;
  /**
   * A deploy's check (executor/validate.ts): in a fresh sandbox on a worker thread, under `limits`,
   * evaluate the module's top level and report what its default export is (`resultJson`: a JSON string,
   * see ExportKind); no handler is called, and host calls are not served (as at any module load).
   */
  readonly validate?: true;
}

export type InvokeOutcome =
  | {
      readonly ok: true;
      /** JSON text of the handler's return value; undefined when it returned undefined. */
      readonly resultJson: string | undefined;
      /** Set when the handler returned a Response object (then resultJson is undefined). */
      readonly response?: GuestResponse | undefined;
      readonly logs: LogLine[];
      readonly durationMs: number;
      /** Guest CPU time, when the executor measures it. */
      readonly cpuMs?: number;
      /** Time spent waiting for a free executor before the run started (not part of `durationMs`). */
      readonly queuedMs?: number;
    }
  | {
      readonly ok: false;
      readonly error: InvocationError;
      readonly logs: LogLine[];
      readonly durationMs: number;
      readonly cpuMs?: number;
      readonly queuedMs?: number;
    };
