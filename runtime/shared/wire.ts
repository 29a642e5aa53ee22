// Shapes that cross role and thread boundaries.
import type { InvocationError, LogLine, TriggerKind } from "../store/invocations.js";
import type { Limits } from "./limits.js";

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
}

export interface InvokeRequest {
  readonly app: string;
  readonly script: string;
  readonly version: number;
  /** Compiled module source of that version. */
  readonly source: string;
  readonly context: ScriptContext;
  readonly limits: Limits;
  /** Fresh sandbox per invocation. */
  readonly strict: boolean;
  readonly trigger: TriggerKind;
}

export type InvokeOutcome =
  | {
      readonly ok: true;
      /** JSON text of the handler's return value; undefined when it returned undefined. */
      readonly resultJson: string | undefined;
      readonly logs: LogLine[];
      readonly durationMs: number;
      /** Guest CPU time, when the executor measures it. */
      readonly cpuMs?: number;
    }
  | {
      readonly ok: false;
      readonly error: InvocationError;
      readonly logs: LogLine[];
      readonly durationMs: number;
      readonly cpuMs?: number;
    };
