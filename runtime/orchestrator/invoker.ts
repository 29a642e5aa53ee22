// Runs one invocation of a resolved script and records it: the single path every trigger takes.
import type { InvocationScope } from "../bindings/channel.js";
import type { OutboundCall, Resolver } from "../bindings/fetch/host.js";
import { type BindingDeps, createSdkHost } from "../bindings/host-registry.js";
import type { Executor } from "../executor/executor.js";
import { type Clock, isoTime } from "../shared/clock.js";
import { newId } from "../shared/ids.js";
import type { HttpRequestContext, InvokeOutcome, ScriptContext } from "../shared/wire.js";
import type { LogLine, TriggerKind } from "../store/invocations.js";
import type { KvStore } from "../store/kv.js";
import type { InvocationRecorder } from "./invocation-recorder.js";
import type { ResolvedScript } from "./script-cache.js";
import type { AppBindingsCache } from "./app-bindings-cache.js";
import { redactOutcome, secretRedactor } from "./secret-redaction.js";
import { errorResponse, fromGuestResponse, type HttpResponse, toHttpResponse } from "./response-mapping.js";
import { invocationDetails } from "./invocation-details.js";

export interface InvocationInput {
  readonly trigger: TriggerKind;
  readonly request?: HttpRequestContext;
  readonly event?: Record<string, unknown>;
  readonly attempt?: number;
  readonly eventId?: string;
  /** Depth of the event being handled; writes made by this run create events one level deeper. */
  readonly chainDepth?: number;
  readonly isDeadLetterHandler?: boolean;
}

export interface InvocationResult {
  readonly id: string;
  readonly version: number;
  readonly outcome: InvokeOutcome;
  /** Whether a full record is stored under `id` (otherwise the run is only in the aggregates and the live stream). */
  readonly stored: boolean;
  /** For runs with a request: the HTTP response the return value maps to (when the outcome is ok). */
  readonly response?: HttpResponse;
}

/** An outbound call as a line of the invocation's log: method, host, status or error code, duration. */
function outboundLine(call: OutboundCall): LogLine {
  return {
    level: "info",
    message: `[fetch] ${call.method} ${call.host} -> ${call.status ?? call.error} (${call.durationMs} ms)`,
    at: call.at,
  };
}

export class Invoker {
  private readonly bindingDeps: BindingDeps;

  constructor(
    private readonly deps: {
      executor: Executor;
      kv: KvStore;
      recorder: InvocationRecorder;
      clock: Clock;
      appBindings: AppBindingsCache;
      /** DNS for outbound fetch (tests inject one). */
      resolver?: Resolver | undefined;
    },
  ) {
    this.bindingDeps = { kv: deps.kv, egress: (app) => deps.appBindings.egressFor(app), resolver: deps.resolver };
  }

  async run(target: ResolvedScript, input: InvocationInput): Promise<InvocationResult> {
    const startedAt = this.deps.clock.now();
    const id = newId(startedAt);
    // `event` is only present for triggered runs, so scripts can test `"event" in ctx`.
    const env = await this.deps.appBindings.envFor(target.app);
    // Assigned, not spread: this runs for every request.
    const context: { -readonly [K in keyof ScriptContext]: ScriptContext[K] } = { app: target.app, script: target.script, env };
    if (input.request) context.request = input.request;
    if (input.event) {
      context.event = input.event;
      context.attempt = input.attempt ?? 1;
      context.eventId = input.eventId;
      context.isDeadLetterHandler = input.isDeadLetterHandler ?? false;
    }
    // Host bindings get the run's wall deadline, which starts when the run leaves the executor queue.
    const scope: InvocationScope & { deadline: number } = {
      app: target.app,
      origin: { chainDepth: input.event ? (input.chainDepth ?? 0) + 1 : 0 },
      limits: target.limits,
      deadline: performance.now() + target.limits.wallMs,
      outbound: [],
    };
    let outcome = await this.deps.executor.invoke(
      {
        app: target.app,
        script: target.script,
        version: target.version,
        source: target.compiled,
        revision: target.revision,
        context,
        limits: target.limits,
        strict: target.strict,
        trigger: input.trigger,
        chainDepth: scope.origin.chainDepth,
        onStart: () => {
          scope.deadline = performance.now() + target.limits.wallMs;
        },
      },
      createSdkHost(this.bindingDeps, scope),
    );
    if (scope.outbound.length > 0) outcome = { ...outcome, logs: [...outcome.logs, ...scope.outbound.map(outboundLine)] };
    const redact = secretRedactor(env);
    if (redact) outcome = redactOutcome(outcome, redact);
    // A return value that cannot be sent as a response fails the invocation, and is recorded so.
    let response: HttpResponse | undefined;
    if (input.request && outcome.ok) {
      const mapped = outcome.response
        ? fromGuestResponse(outcome.response, target.limits.responseBytes)
        : toHttpResponse(outcome.resultJson, target.limits.responseBytes);
      if ("error" in mapped) {
        const { resultJson: _result, response: _response, ...timing } = outcome;
        outcome = { ...timing, ok: false, error: mapped.error };
      } else response = mapped.response;
    }
    const stored = this.deps.recorder.record(
      {
        id,
        app: target.app,
        script: target.script,
        version: target.version,
        trigger: input.trigger,
        status: outcome.ok ? "ok" : "error",
        startedAt: isoTime(startedAt),
        durationMs: Math.round(outcome.durationMs * 1000) / 1000,
        logs: outcome.logs,
        error: outcome.ok ? null : outcome.error,
        eventId: input.eventId ?? null,
        queuedMs: outcome.queuedMs === undefined ? null : Math.round(outcome.queuedMs * 1000) / 1000,
      },
      {
        sampleRate: target.recordSampleRate,
        startedAtMs: startedAt,
        // Given as it is, not spread in when defined: a spread is an allocation and a generic copy per run.
        cpuMs: outcome.cpuMs,
        // Built only if the run is stored in full: the request, the answer it got, or the return value.
        details: () => {
          const answered = input.request && (outcome.ok ? response : errorResponse(outcome.error, id));
          return invocationDetails(input, outcome, answered, redact);
        },
      },
    );
    return response ? { id, version: target.version, outcome, stored, response } : { id, version: target.version, outcome, stored };
  }
}
