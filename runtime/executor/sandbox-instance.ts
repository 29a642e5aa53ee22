// One warm sandbox: a QuickJS runtime + context with the prelude and one script version loaded.
// It runs one invocation at a time, so CPU accounting and captured logs are exact.
import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import type { Limits } from "../shared/limits.js";
import { type BindingCall, GuestCallError } from "../bindings/channel.js";
import type { GuestResponse } from "../shared/wire.js";
import { ERROR_NAMES, LAZY_MODULES, WORKER_OPS } from "../bindings/registry.js";
import type { LogLine } from "../store/invocations.js";
import { jsonForGuest, textForGuest } from "./boundary-text.js";
import { EngineCalls, PROMISE_FULFILLED, PROMISE_REJECTED, type ValuePtr } from "./engine-calls.js";
import type { EngineModule } from "./engine-module.js";
import { classifyGuestError, engineFault, type GuestError } from "./guest-errors.js";

export type { RawOutcome } from "./guest-errors.js";
import type { RawOutcome } from "./guest-errors.js";

export type HostCall = (call: BindingCall) => Promise<string>;

/** Lazy global -> the lazy module that defines it (the prelude asks, see lazyResolver in guest-prelude.ts). */
const LAZY_GLOBALS: ReadonlyMap<string, string> = new Map(
  [...LAZY_MODULES].flatMap(([module, spec]) => spec.globals.map((name): [string, string] => [name, module])),
);

/** With processCpu, the CPU (ms) the process must use past a stretch's wall deadline before it is stopped. */
const CONFIRM_CPU_MS = 2;

/**
 * How far (ms) a stretch of guest code may run past its CPU budget unnoticed: an operation inside the
 * engine (a typed array's sort, a huge allocation) never reaches an interrupt check, so the stretch
 * ends past its deadline without being stopped. Past this margin it counts as interrupted all the same.
 */
const OVERRUN_MS = 50;

/** Jobs run per executePendingJobs call; between chunks the drain stops once the interrupt fired. */
const DRAIN_CHUNK = 1024;

/** What the engine threw when its interrupt stopped the guest (guest-errors.ts reads it as SCRIPT_TIMEOUT). */
const INTERRUPTED: GuestError = { name: "InternalError", message: "interrupted" };

/** What the guest prelude's report sends as is (see report() in guest-prelude.ts); anything else is escaped. */
const NOT_ASCII = /[^\x20-\x7e]/;

/**
 * Lazy modules that register nothing the run protocol's settle consults (no onInvocation start or
 * finish, no api.response): the binding API itself, the lazily parsed ctx, the protocol and the
 * description of errors.
 */
const QUIET_MODULES: ReadonlySet<string> = new Set(["binding-api", "ctx", "run", "outcome"]);

/** The host-side state of a template instance (saveState/restoreState). */
export interface InstanceState {
  readonly bindingsLoaded: boolean;
  readonly loadedModules: readonly string[];
  readonly settlingModules: number;
  readonly steps: readonly QuickJSHandle[];
  readonly calls: ReturnType<EngineCalls["saveState"]>;
}

/** Marks the thread as executing one invocation's guest code (see busy-marker.ts). */
export interface BusySpan {
  enter(): void;
  leave(): void;
}

/** What every instance of a worker shares: the prelude and the lazy modules' sources. */
export interface GuestSources {
  readonly prelude: string;
  readonly lazyModules: Readonly<Record<string, string>>;
}

/** What a module's default export is, as a deploy judges it (SandboxInstance.defaultExportKind). */
export type ExportKind =
  | "function"
  | "class"
  | "fetch"
  | "scheduled"
  | "undefined"
  | "object"
  | "null"
  | "number"
  | "string"
  | "boolean"
  | "symbol"
  | "bigint";

/**
 * Guest code: the kind of a default export (a handler: a function, or an object with fetch() or scheduled()).
 * A class is a function to typeof, but calling it throws: told apart by its source text, which starts with `class`.
 */
const EXPORT_KIND = `(function (d) {
  "use strict";
  if (typeof d === "function") return /^class\\b/.test(Function.prototype.toString.call(d)) ? "class" : "function";
  if (d === null) return "null";
  if (typeof d === "object") {
    if (typeof d.fetch === "function") return "fetch";
    if (typeof d.scheduled === "function") return "scheduled";
  }
  return typeof d;
})`;

export class SandboxInstance {
  uses = 0;
  readonly createdAt = performance.now();
  private readonly runtime: QuickJSRuntime;
  private readonly context: QuickJSContext;
  /** A run's engine calls on raw value pointers (engine-calls.ts); set before anything runs. */
  private calls!: EngineCalls;
  /**
   * What the prelude returns (guest-prelude.ts): protocol (loads the run protocol), PromiseResolve,
   * PromiseReject, parse (JSON.parse), stringify (JSON.stringify), load (loads a lazy module: preload).
   */
  private core: QuickJSHandle[] = [];
  /** The run protocol's steps, once loaded: begin, settle, fail, later, badResult. */
  private steps: QuickJSHandle[] = [];
  /** Whether the guest has loaded any binding module (then only the guest's run protocol runs it). */
  private bindingsLoaded = false;
  /** The lazy modules this instance has asked for (their globals are no longer pending). */
  private readonly loadedModules = new Set<string>();
  /**
   * Lazy modules loaded that may take part in settling a run (console's and timers' onInvocation, the
   * Response mapping of fetch-api, …): while none is, a warm run's plain result is settled by the host.
   */
  private settlingModules = 0;
  /** The running invocation as the guest's api.current, for a run the host started itself (JSON text). */
  private current: string | undefined;
  /** The last logBytes limit passed in, as a guest number kept across runs. */
  private logLimit: { value: number; handle: QuickJSHandle } | undefined;
  private handler: QuickJSHandle | undefined;
  private readonly pending = new Set<QuickJSDeferredPromise>();
  private deadline = Number.POSITIVE_INFINITY;
  /** When the current stretch of guest code began (enterGuest). */
  private stretchStart = 0;
  private cpuLeftMs = 0;
  private wallDeadline = Number.POSITIVE_INFINITY;
  private busy: BusySpan | undefined;
  private hostCall: HostCall | undefined;
  private wake: (() => void) | undefined;
  private disposed = false;
  /**
   * A speculative run (runNow, on the main thread) must not reach the host: its first binding call
   * abandons the run instead, and the interrupt stops the guest at its next check.
   */
  private speculative = false;
  private abandoned = false;
  /**
   * Inline runs on the main thread: a stretch of guest code past its wall deadline is stopped only once
   * the process has used CONFIRM_CPU_MS more of CPU since, so a thread that a busy machine descheduled
   * mid-stretch is not taken for a script burning CPU (Node has no per-thread CPU clock; the process's
   * CPU includes the other threads', so a burning script is still stopped no later than that past it).
   */
  private readonly processCpu: boolean;
  /** The process's CPU when the current stretch passed its deadline (processCpu only). */
  private pastDeadline: NodeJS.CpuUsage | undefined;
  /**
   * The interrupt stopped guest code during the current run. A guest can catch the interrupt's error
   * across an await (it becomes the rejection of an async function), so the outcome alone may not show it.
   */
  interrupted = false;
  /** Fixed when the instance is built: a version whose stack limit changed needs new instances. */
  private readonly stackKiB: number;

  /**
   * Throws a GuestError-shaped object when the script cannot be loaded. Without a source the instance
   * holds no script yet (a strict-mode template, strict-template.ts: loadScript after each restore).
   */
  constructor(
    readonly engine: EngineModule,
    public fileName: string,
    source: string | undefined,
    limits: Limits,
    private readonly sources: GuestSources,
    /**
     * Whether a plain handler's ctx is parsed on first use (guest-prelude.ts). Worth it for a warm
     * instance; an instance built for one run (strict mode) parses at once and never compiles it.
     */
    private readonly lazyContext = true,
    options: { readonly processCpu?: boolean } = {},
  ) {
    this.runtime = engine.module.newRuntime();
    this.stackKiB = limits.stackKiB;
    this.processCpu = options.processCpu === true;
    this.runtime.setMaxStackSize(limits.stackKiB * 1024);
    this.runtime.setMemoryLimit(limits.memoryMiB * 1024 * 1024);
    this.runtime.setInterruptHandler(() => {
      if (performance.now() <= this.deadline || (this.processCpu && !this.burnt())) return false;
      this.interrupted = true;
      return true;
    });
    this.context = this.runtime.newContext();
    engine.liveInstances++;
    try {
      this.calls = new EngineCalls(this.context, this.runtime);
      this.load(source, limits);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  private load(source: string | undefined, limits: Limits): void {
    const ctx = this.context;
    const hostCall = ctx.newFunction("hostCall", (...args) => this.onHostCall(args));
    const hostSync = ctx.newFunction("hostSync", (...args) => this.onHostSync(args));
    // The prelude is our code, not the script's: it is not charged to the script's CPU budget (an
    // interrupt here, on a machine busy enough to stretch its compile, would read as an engine fault).
    const preludeFactory = ctx.evalCode(this.sources.prelude, "picloud:prelude");
    const factory = ctx.unwrapResult(preludeFactory);
    const run = ctx.callFunction(factory, ctx.undefined, hostCall, hostSync);
    factory.dispose();
    hostCall.dispose();
    hostSync.dispose();
    const core = ctx.unwrapResult(run);
    for (let i = 0; i < 6; i++) this.core.push(ctx.getProp(core, i));
    core.dispose();
    // A warm instance runs every invocation through the guest's protocol: load it now, with the prelude.
    if (this.lazyContext) this.protocol();
    if (source !== undefined) this.loadScript(source, limits);
  }

  /** Evaluates the script module and takes its default export (once per instance; a template's after each restore). */
  loadScript(source: string, limits: Limits): void {
    const ctx = this.context;
    this.cpuLeftMs = limits.cpuMs;
    this.wallDeadline = performance.now() + limits.wallMs;
    const evaluated = this.guest(() => ctx.evalCode(source, this.fileName, { type: "module" }));
    if (evaluated.error) {
      const error = this.dumpError(evaluated.error);
      throw error;
    }
    // Module evaluation yields a promise of the namespace (top-level await); drain it.
    this.guest(() => this.drainJobs());
    if (this.interrupted) {
      evaluated.value.dispose();
      throw { ...INTERRUPTED };
    }
    const state = ctx.getPromiseState(evaluated.value);
    if (state.type === "pending") {
      evaluated.value.dispose();
      throw {
        name: "Error",
        message: "The module's top-level code did not finish (awaiting at top level is not supported).",
      } satisfies GuestError;
    }
    if (state.type === "rejected") {
      evaluated.value.dispose();
      throw this.dumpError(state.error);
    }
    const namespace = state.value;
    this.handler = ctx.getProp(namespace, "default");
    if (namespace !== evaluated.value) namespace.dispose();
    evaluated.value.dispose();
  }

  /**
   * What the loaded module's default export is (a deploy's check, executor/validate.ts): `function`,
   * `fetch` or `scheduled` (an object with that method), `class`, else its type (`number`, `object`, `null`, …).
   * Judged in guest code under what is left of the load's limits: a getter on the export is the script's
   * code. Throws a GuestError-shaped object, like loading, when that code fails or runs out of budget.
   */
  defaultExportKind(busy?: BusySpan): ExportKind {
    const ctx = this.context;
    const handler = this.handler;
    if (!handler) return "undefined";
    this.busy = busy;
    try {
      const judged = this.guest(() => {
        const judge = ctx.evalCode(EXPORT_KIND, "picloud:prelude");
        if (judge.error) return judge;
        return judge.value.consume((fn) => ctx.callFunction(fn, ctx.undefined, handler));
      });
      if (judged.error) throw this.dumpError(judged.error);
      return judged.value.consume((value) => ctx.getString(value)) as ExportKind;
    } finally {
      this.busy = undefined;
    }
  }

  /**
   * Loads lazy modules before any script (a strict-mode template: strict-template.ts), as the guest would
   * on first use; "run" is the run protocol. Not charged to any script. Throws when one fails to load.
   */
  preload(modules: Iterable<string>): void {
    const ctx = this.context;
    for (const module of modules) {
      if (module === "run") {
        this.protocol();
        continue;
      }
      // Loaded with the first module, by the prelude itself (it is no module to load by name).
      if (module === "binding-api") continue;
      const loaded = ctx.newString(module).consume((name) => ctx.callFunction(this.core[5] as QuickJSHandle, ctx.undefined, name));
      ctx.unwrapResult(loaded).dispose();
    }
  }

  /** The lazy modules this instance has loaded (the guest's, and "run" once the protocol is). */
  get modulesLoaded(): ReadonlySet<string> {
    return this.steps.length > 0 ? new Set([...this.loadedModules, "run"]) : this.loadedModules;
  }

  /**
   * What this object knows of the guest beyond the handles it keeps: taken with a memory snapshot of
   * the engine, and put back (restoreState) when the memory is restored. Nothing is disposed on
   * restore: every handle made since points into memory the restore took back.
   */
  saveState(): InstanceState {
    if (this.handler || this.pending.size > 0 || this.logLimit || this.current !== undefined) throw new Error("not a template");
    return {
      bindingsLoaded: this.bindingsLoaded,
      loadedModules: [...this.loadedModules],
      settlingModules: this.settlingModules,
      steps: [...this.steps],
      calls: this.calls.saveState(),
    };
  }

  restoreState(state: InstanceState): void {
    this.handler = undefined;
    this.pending.clear();
    this.logLimit = undefined;
    this.current = undefined;
    this.hostCall = undefined;
    this.wake = undefined;
    this.busy = undefined;
    this.interrupted = false;
    this.abandoned = false;
    this.speculative = false;
    this.pastDeadline = undefined;
    this.deadline = Number.POSITIVE_INFINITY;
    this.bindingsLoaded = state.bindingsLoaded;
    this.loadedModules.clear();
    for (const module of state.loadedModules) this.loadedModules.add(module);
    this.settlingModules = state.settlingModules;
    // The run protocol's handles as they were: one a run loaded is gone with its memory.
    this.steps = [...state.steps];
    this.calls.restoreState(state.calls);
  }

  /** The context's pointer (strict-template.ts reseeds its Math.random state in memory). */
  get contextPointer(): number {
    return (this.context as unknown as { ctx: { value: number } }).ctx.value;
  }

  /** Evaluates a global-scope expression and returns it as a host value (templates only: calibration). */
  evaluate(code: string): unknown {
    return this.context.unwrapResult(this.context.evalCode(code, "picloud:template")).consume(this.context.dump);
  }

  /**
   * Runs one invocation. A script that finishes without awaiting a host call finishes within this
   * call (the outcome, not a promise), so the worker can release the instance in the same turn and
   * the next invocation of the batch reuses it.
   */
  /** Whether this instance was built with what these limits fix at build time (the stack; memory is the engine's, app-wide). */
  builtFor(limits: Limits): boolean {
    return this.stackKiB === limits.stackKiB;
  }

  run(contextJson: string, limits: Limits, hostCall: HostCall, busy?: BusySpan): RawOutcome | Promise<RawOutcome> {
    const started = this.start(contextJson, limits, hostCall, busy);
    return "outcome" in started ? started.outcome : this.awaitHost(started.pending, limits);
  }

  /**
   * Runs one invocation only if it finishes within this call and never asks the host for anything:
   * the outcome, or undefined when the run was abandoned (a binding call, or anything left pending).
   * An abandoned run had no effect outside this instance (no binding call reached the host), so the
   * caller may run the invocation again elsewhere; this instance must then be discarded.
   */
  runNow(contextJson: string, limits: Limits): RawOutcome | undefined {
    this.speculative = true;
    this.abandoned = false;
    try {
      const started = this.start(contextJson, limits, undefined, undefined);
      if ("outcome" in started) return this.abandoned ? undefined : started.outcome;
      this.disposePromise(started.pending);
      this.end({ ok: false, logs: [], discard: true, retireModule: false }, limits);
      return undefined;
    } finally {
      this.speculative = false;
    }
  }

  /**
   * Raises the running invocation's remaining guest time to at least `ms` (never past what `limits`
   * left it): an inline run that made a call with an effect can no longer be handed to a worker.
   */
  grant(ms: number, limits: Limits): void {
    const spent = limits.cpuMs - this.cpuLeftMs;
    const raised = Math.max(this.cpuLeftMs, Math.min(ms, limits.cpuMs) - spent);
    const more = raised - this.cpuLeftMs;
    if (more <= 0) return;
    this.cpuLeftMs = raised;
    if (Number.isFinite(this.deadline)) this.deadline = Math.min(this.deadline + more, this.wallDeadline);
  }

  /** Stops the running invocation's guest code at its next interrupt check, for good (it will be discarded). */
  abandon(): void {
    this.abandoned = true;
    this.deadline = Number.NEGATIVE_INFINITY;
  }

  /** Past the wall deadline: whether the process has since used CONFIRM_CPU_MS of CPU (else the thread was likely descheduled). */
  private burnt(): boolean {
    if (this.deadline === Number.NEGATIVE_INFINITY) return true;
    if (!this.pastDeadline) {
      this.pastDeadline = process.cpuUsage();
      return false;
    }
    const used = process.cpuUsage(this.pastDeadline);
    return (used.user + used.system) / 1000 >= CONFIRM_CPU_MS;
  }

  /** The guest number for this run's log limit (the same from run to run, so kept). */
  private logLimitHandle(logBytes: number): QuickJSHandle {
    if (this.logLimit?.value !== logBytes) {
      this.logLimit?.handle.dispose();
      this.logLimit = { value: logBytes, handle: this.context.newNumber(logBytes) };
    }
    return this.logLimit.handle;
  }

  /**
   * Calls the handler: the outcome if the run settled within this call, else the pending promise of
   * its outcome text. A handler whose promise is already settled when it returns, with no job queued,
   * is reported at once (no drain: nothing could run before an await resumed); otherwise the guest
   * awaits it and the job queue is drained, as an async wrapper would.
   */
  private start(
    contextJson: string,
    limits: Limits,
    hostCall: HostCall | undefined,
    busy: BusySpan | undefined,
  ): { outcome: RawOutcome } | { pending: QuickJSHandle } {
    this.uses++;
    this.interrupted = false;
    this.hostCall = hostCall;
    this.busy = busy;
    this.cpuLeftMs = limits.cpuMs;
    this.wallDeadline = performance.now() + limits.wallMs;
    let promise: QuickJSHandle | undefined;
    try {
      const logLimit = this.logLimitHandle(limits.logBytes);
      const contextArg = this.calls.newString(jsonForGuest(contextJson));
      let begun: ReturnType<SandboxInstance["begin"]>;
      this.enterGuest();
      try {
        begun = this.begin(contextJson, contextArg, logLimit, limits.logBytes);
      } finally {
        this.leaveGuest();
        this.calls.free(contextArg);
      }
      if ("error" in begun) return { outcome: this.end(this.failed(this.dumpError(begun.error), []), limits) };
      if ("text" in begun) return { outcome: this.end(this.fromRunResult(begun.text), limits) };
      promise = begun.pending;
      this.guest(() => this.drainJobs());
      const settled = this.settled(promise);
      if (settled) return { outcome: this.end(settled, limits) };
      // Interrupted with its promise still pending: the engine dropped the interrupt in its promise machinery.
      if (this.interrupted) {
        this.disposePromise(promise);
        return { outcome: this.end(this.failed(INTERRUPTED, []), limits) };
      }
    } catch (error) {
      this.disposePromise(promise);
      return { outcome: this.end(engineFault(error), limits) };
    }
    return { pending: promise };
  }

  /** The run protocol's steps, evaluated on first use (like the prelude, not charged to the script). */
  private protocol(): QuickJSHandle[] {
    if (this.steps.length === 0) {
      const ctx = this.context;
      const started = performance.now();
      const deadline = this.deadline;
      this.deadline = Number.POSITIVE_INFINITY;
      try {
        const steps = ctx.unwrapResult(ctx.callFunction(this.core[0] as QuickJSHandle, ctx.undefined));
        for (let i = 0; i < 5; i++) this.steps.push(ctx.getProp(steps, i));
        steps.dispose();
      } finally {
        const spent = performance.now() - started;
        this.deadline = deadline + spent;
        this.cpuLeftMs += spent;
      }
    }
    return this.steps;
  }

  /**
   * Guest code of a run up to its first wait: begin, then settle/fail at once when the handler's promise
   * is settled and no job is queued (the outcome text), else later(promise) (a promise of it, to drain).
   * An instance built for one run (strict mode) whose script loaded no binding and exports a plain
   * function is run by the host itself, calling the prelude's parse, PromiseResolve/PromiseReject and
   * stringify exactly where the protocol's begin and settle would, so it never compiles the protocol;
   * anything else (a binding loaded, before or during the run; an error; a pending promise) goes to it.
   */
  private begin(
    contextJson: string,
    contextArg: ValuePtr,
    logLimit: QuickJSHandle,
    logBytes: number,
  ): { text: string } | { pending: QuickJSHandle } | { error: QuickJSHandle } {
    const ctx = this.context;
    const calls = this.calls;
    const handler = this.handler as QuickJSHandle;
    const byHost =
      !this.lazyContext && !this.bindingsLoaded && ctx.typeof(handler) === "function" && contextJson.indexOf('"bodyJson":true') < 0;
    let promise: ValuePtr;
    if (byHost) {
      this.current = `{"maxLogBytes":${logBytes},"startedAt":${Date.now()}}`;
      const [, resolve, reject, parse] = this.core as [QuickJSHandle, QuickJSHandle, QuickJSHandle, QuickJSHandle];
      const contextHandle = calls.handle(calls.dup(contextArg));
      let called = ctx.callFunction(parse, ctx.undefined, contextHandle);
      contextHandle.dispose();
      if (!called.error) called = called.value.consume((parsed) => ctx.callFunction(handler, ctx.undefined, parsed));
      const begun = called.error
        ? called.error.consume((e) => ctx.callFunction(reject, ctx.undefined, e))
        : called.value.consume((v) => ctx.callFunction(resolve, ctx.undefined, v));
      if (begun.error) return { error: begun.error };
      promise = calls.dup(begun.value.value);
      begun.value.dispose();
    } else {
      const begin = (this.protocol()[0] as QuickJSHandle).value;
      // A JSON body is parsed at once (the guest's begin reads lazyCtx false as "parse now").
      const lazy = this.lazyContext && contextJson.indexOf('"bodyJson":true') < 0 ? ctx.true : ctx.false;
      promise = calls.call(begin, 4, handler.value, contextArg, logLimit.value, lazy.value);
      if (promise === 0) return { error: calls.handle(calls.error) };
    }
    try {
      // Not a promise (negative) or still pending: the protocol's later awaits it.
      const state = calls.hasPendingJob() ? -1 : calls.promiseState(promise);
      if (state === PROMISE_FULFILLED) {
        const value = calls.promiseResult(promise);
        if (byHost && !this.bindingsLoaded) {
          const settled = calls.handle(value).consume((v) => this.report(v) ?? this.step(1, v));
          if (typeof settled === "string") return { text: settled };
          if (settled.error) return { error: settled.error };
          return { text: settled.value.consume((text) => ctx.getString(text)) };
        }
        if (this.settlingModules === 0) {
          const reported = this.reportPlain(value);
          if (reported !== undefined) return reported;
        }
        const text = calls.call((this.protocol()[1] as QuickJSHandle).value, 1, value);
        calls.free(value);
        return this.textOf(text);
      }
      if (state === PROMISE_REJECTED) {
        const reason = calls.promiseResult(promise);
        const text = calls.call((this.protocol()[2] as QuickJSHandle).value, 1, reason);
        calls.free(reason);
        return this.textOf(text);
      }
      const awaited = calls.call((this.protocol()[3] as QuickJSHandle).value, 1, promise);
      return awaited === 0 ? { error: calls.handle(calls.error) } : { pending: calls.handle(awaited) };
    } finally {
      calls.free(promise);
    }
  }

  /**
   * A warm run's plain result settled by the host (no module that settle consults is loaded, so settle
   * would make { ok: true, result } with no logs and report it): the text report gives, with the
   * prelude's JSON.stringify called directly. Frees `value`, except when it returns undefined (a
   * stringify that gave neither text nor undefined: the protocol's settle then reports it).
   */
  private reportPlain(value: ValuePtr): { text: string } | { error: QuickJSHandle } | undefined {
    const calls = this.calls;
    // Whether this call is where the interrupt stops the guest (it may have fired earlier in the run, caught).
    const interruptedBefore = this.interrupted;
    this.interrupted = false;
    const json = calls.call((this.core[4] as QuickJSHandle).value, 1, value);
    const stopped = this.interrupted;
    this.interrupted ||= interruptedBefore;
    if (json === 0) {
      calls.free(value);
      const error = calls.error;
      // Stopped by its limit (a toJSON that never returns): the run's timeout, not a bad result.
      if (stopped) return { error: calls.handle(error) };
      const text = calls.call((this.protocol()[4] as QuickJSHandle).value, 1, error);
      calls.free(error);
      return this.textOf(text);
    }
    if (!calls.isString(json)) {
      const nothing = calls.isUndefined(json);
      calls.free(json);
      if (!nothing) return undefined;
      calls.free(value);
      return { text: "=" };
    }
    calls.free(value);
    const text = calls.getString(json);
    calls.free(json);
    // The guest's JSON.stringify escapes NUL and lone surrogates, so its text reads back exactly.
    return { text: NOT_ASCII.test(text) ? `{"ok":true,"logs":[],"result":${text}}` : `=${text}` };
  }

  /** The outcome text a protocol step returned (freeing it), or the error it threw (calls.error, right after the call). */
  private textOf(result: ValuePtr): { text: string } | { error: QuickJSHandle } {
    const calls = this.calls;
    if (result === 0) return { error: calls.handle(calls.error) };
    const text = calls.getString(result);
    calls.free(result);
    return { text };
  }

  /** Calls the run protocol's settle (1), fail (2), later (3) or badResult (4). */
  private step(index: number, value: QuickJSHandle): ReturnType<QuickJSContext["callFunction"]> {
    return this.context.callFunction(this.protocol()[index] as QuickJSHandle, this.context.undefined, value);
  }

  /**
   * The outcome text of a plain result, as the protocol's report makes it when no binding is loaded (no
   * Response, no logs): "=" and the result's JSON when it is pure ASCII. The guest's JSON.stringify
   * escapes NUL and lone surrogates, so its text reads back exactly. Undefined: leave it to the protocol.
   */
  private report(value: QuickJSHandle): string | ReturnType<QuickJSContext["callFunction"]> | undefined {
    const ctx = this.context;
    const stringified = ctx.callFunction(this.core[4] as QuickJSHandle, ctx.undefined, value);
    // Stopped by its limit while serialising (a toJSON that never returns): the run's timeout, not a bad result.
    if (stringified.error) return this.interrupted ? stringified : stringified.error.consume((e) => this.step(4, e));
    return stringified.value.consume((json) => {
      const type = ctx.typeof(json);
      if (type === "undefined") return "=";
      if (type !== "string") return undefined;
      const text = ctx.getString(json);
      return NOT_ASCII.test(text) ? `{"ok":true,"logs":[],"result":${text}}` : `=${text}`;
    });
  }

  /** The rest of a run that awaits host calls: wake on each settled call until the promise settles. */
  private async awaitHost(promise: QuickJSHandle, limits: Limits): Promise<RawOutcome> {
    let pending: QuickJSHandle | undefined = promise;
    try {
      for (;;) {
        const woke = await this.waitForHost(this.wallDeadline);
        if (!woke) {
          return this.end(
            {
              ok: false,
              error: {
                code: "SCRIPT_WALL_TIMEOUT",
                message: `The script did not finish within its wall-time limit of ${limits.wallMs} ms.`,
              },
              logs: [],
              discard: true,
              retireModule: false,
            },
            limits,
          );
        }
        this.guest(() => this.drainJobs());
        const settled = this.settled(pending);
        if (settled) {
          pending = undefined;
          return this.end(settled, limits);
        }
        // Interrupted with its promise still pending: the engine dropped the interrupt in its promise machinery.
        if (this.interrupted) return this.end(this.failed(INTERRUPTED, []), limits);
      }
    } catch (error) {
      return this.end(engineFault(error), limits);
    } finally {
      this.disposePromise(pending);
    }
  }

  /** The outcome once the run's promise settled (disposing it), or undefined while it is pending. */
  private settled(promise: QuickJSHandle): RawOutcome | undefined {
    const ctx = this.context;
    const state = ctx.getPromiseState(promise);
    if (state.type === "fulfilled") {
      const text = ctx.getString(state.value);
      state.value.dispose();
      promise.dispose();
      return this.fromRunResult(text);
    }
    if (state.type === "rejected") {
      const error = this.dumpError(state.error);
      promise.dispose();
      return this.failed(error, []);
    }
    return undefined;
  }

  private disposePromise(promise: QuickJSHandle | undefined): void {
    if (!promise?.alive || !this.context.alive) return;
    try {
      promise.dispose();
    } catch {
      // disposal is best effort once the instance is being discarded
    }
  }

  /** Ends a run: forgets its host, reports its CPU time, and names a wall-time stop as such. */
  private end(outcome: RawOutcome, limits: Limits): RawOutcome {
    this.hostCall = undefined;
    this.current = undefined;
    this.wake = undefined;
    this.busy = undefined;
    // Once the interrupt fired the run is over its limit, whatever its promise says: the interrupt can
    // land inside QuickJS's promise machinery, which then reports a catchable "TypeError: not a function"
    // or drops it (the run's promise never settles). The guest cannot catch the interrupt.
    if (this.interrupted && !outcome.discard) outcome = this.failed(INTERRUPTED, outcome.logs);
    const cpuMs = Math.max(0, limits.cpuMs - this.cpuLeftMs);
    // The CPU deadline is capped by the wall deadline; an interrupt with CPU budget left was the wall.
    if (outcome.error?.code === "SCRIPT_TIMEOUT" && this.cpuLeftMs > 0 && performance.now() >= this.wallDeadline) {
      return {
        ...outcome,
        error: {
          ...outcome.error,
          code: "SCRIPT_WALL_TIMEOUT",
          message: `The script did not finish within its wall-time limit of ${limits.wallMs} ms.`,
        },
        cpuMs,
      };
    }
    // Every outcome here is this run's own fresh object: completed in place, not copied.
    (outcome as { cpuMs?: number }).cpuMs = cpuMs;
    return outcome;
  }

  /** Resolves true when a host call settled, false when the wall-time limit passed first. */
  private waitForHost(wallDeadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.wake = undefined;
          resolve(false);
        },
        Math.max(0, wallDeadline - performance.now()),
      );
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }

  /**
   * Runs queued jobs until none is left, or the interrupt fired. QuickJS stops at a job that threw: the
   * rest still run (a throw inside its promise machinery, where an interrupt can land, left them queued
   * and the run stalled until its wall limit). The queue is run in chunks so that a guest which keeps
   * the queue going past the interrupt (catching it across an await) is stopped here: a run with fewer
   * jobs than a chunk makes the one call it always made.
   */
  private drainJobs(): void {
    for (;;) {
      const result = this.runtime.executePendingJobs(DRAIN_CHUNK);
      if (result.error) result.error.dispose();
      else if (result.value < DRAIN_CHUNK) return;
      if (this.interrupted) return;
    }
  }

  /**
   * Runs guest code against the remaining CPU budget of the current invocation, capped by its wall
   * deadline (no stretch of guest code may outlive the run's wall time), and marks the thread busy.
   */
  private guest<T>(fn: () => T): T {
    this.enterGuest();
    try {
      return fn();
    } finally {
      this.leaveGuest();
    }
  }

  /** Starts a stretch of guest code (see guest); every enterGuest is followed by one leaveGuest. */
  private enterGuest(): void {
    const start = performance.now();
    this.stretchStart = start;
    this.deadline = this.abandoned ? Number.NEGATIVE_INFINITY : start + Math.max(0, Math.min(this.cpuLeftMs, this.wallDeadline - start));
    this.pastDeadline = undefined;
    this.busy?.enter();
  }

  private leaveGuest(): void {
    this.busy?.leave();
    this.cpuLeftMs -= performance.now() - this.stretchStart;
    this.deadline = Number.POSITIVE_INFINITY;
    // A stretch that overran its budget inside one engine operation was never interrupted: it is over its
    // limit all the same (end() and loadScript() read the flag). Inline runs (processCpu) measure wall
    // time that a busy main thread stretches, so there only the interrupt itself counts.
    if (this.cpuLeftMs < -OVERRUN_MS && !this.processCpu) this.interrupted = true;
  }

  /** The guest sends only ASCII (its prelude escapes the rest), so reading is exact. */
  private text(handle: QuickJSHandle | undefined): string | undefined {
    return handle && this.context.typeof(handle) === "string" ? this.context.getString(handle) : undefined;
  }

  private guestError(name: string, code: string, message: string): QuickJSHandle {
    const ctx = this.context;
    const error = ctx.newError({ name, message: textForGuest(message) });
    ctx.newString(textForGuest(code)).consume((c) => ctx.setProp(error, "code", c));
    return error;
  }

  /** hostCall(binding, op, argsJson): an asynchronous binding call, served on the main thread. */
  private onHostCall(args: QuickJSHandle[]): QuickJSHandle {
    const ctx = this.context;
    const binding = this.text(args[0]) ?? "";
    const call: BindingCall = { binding, op: this.text(args[1]) ?? "", args: this.text(args[2]) ?? "null" };
    const deferred = ctx.newPromise();
    this.pending.add(deferred);
    if (this.speculative) {
      // Nothing reaches the host: the promise never settles and the guest stops at its next interrupt check.
      this.abandoned = true;
      this.deadline = Number.NEGATIVE_INFINITY;
      return deferred.handle;
    }
    const host = this.hostCall;
    const settle = (apply: () => void) => {
      if (!this.pending.delete(deferred) || !ctx.alive) return;
      apply();
      deferred.dispose();
      this.wake?.();
    };
    const errorName = ERROR_NAMES.get(binding) ?? "Error";
    const reject = (code: string, message: string) =>
      settle(() => {
        const error = this.guestError(errorName, code, message);
        deferred.reject(error);
        error.dispose();
      });
    if (!host || !ERROR_NAMES.has(binding)) {
      queueMicrotask(() => reject("SDK_UNAVAILABLE", "The SDK is not available here."));
    } else {
      host(call).then(
        (json) => settle(() => ctx.newString(jsonForGuest(json)).consume((v) => deferred.resolve(v))),
        (error: { code?: string; message?: string }) => reject(error?.code ?? "INTERNAL", error?.message ?? `The ${binding} call failed.`),
      );
    }
    return deferred.handle;
  }

  /** hostSync(binding, op, argsJson): a synchronous op run here in the worker (pure functions, no app data). */
  private onHostSync(args: QuickJSHandle[]): QuickJSHandle | { error: QuickJSHandle } {
    const ctx = this.context;
    const binding = this.text(args[0]) ?? "";
    const op = this.text(args[1]) ?? "";
    const argsJson = this.text(args[2]) ?? "null";
    if (binding === "prelude" && op === "current") return ctx.newString(this.current ?? "null");
    if (binding === "prelude" && op === "pending") {
      // A name the engine's string export truncated (at a NUL) is no lazy global's.
      const name = LAZY_GLOBALS.has(argsJson) && args[2] ? args[2] : undefined;
      const module =
        name && ctx.getProp(name, "length").consume(ctx.getNumber) === argsJson.length ? LAZY_GLOBALS.get(argsJson) : undefined;
      return ctx.newString(module === undefined || this.loadedModules.has(module) ? "" : module);
    }
    if (binding === "prelude" && op === "load") {
      if (!this.loadedModules.has(argsJson) && !QUIET_MODULES.has(argsJson)) this.settlingModules++;
      this.loadedModules.add(argsJson);
      if (argsJson === "binding-api") this.bindingsLoaded = true;
      // The argument is the module's bare name (the prelude passes it, never the script).
      const source = Object.hasOwn(this.sources.lazyModules, argsJson) ? this.sources.lazyModules[argsJson] : undefined;
      if (source === undefined) return { error: this.guestError("Error", "SDK_UNAVAILABLE", "No such module.") };
      const evaluated = ctx.evalCode(source, "picloud:prelude");
      return evaluated.error ? { error: evaluated.error } : evaluated.value;
    }
    const fn = WORKER_OPS.get(binding)?.[op];
    if (!fn) return { error: this.guestError("Error", "SDK_UNAVAILABLE", "The SDK is not available here.") };
    try {
      return ctx.newString(jsonForGuest(fn(argsJson)));
    } catch (error) {
      const coded = error instanceof GuestCallError ? error : undefined;
      return {
        error: this.guestError(
          coded?.errorName ?? ERROR_NAMES.get(binding) ?? "Error",
          coded?.code ?? "INTERNAL",
          coded ? coded.message : `The ${binding} call failed.`,
        ),
      };
    }
  }

  private fromRunResult(text: string): RawOutcome {
    // "=" and a plain result's JSON text (see report() in guest-prelude.ts).
    if (text.charCodeAt(0) === 61)
      return { ok: true, resultJson: text.length > 1 ? text.slice(1) : undefined, logs: [], discard: false, retireModule: false };
    let parsed: { ok: boolean; result?: unknown; response?: GuestResponse; error?: GuestError; logs: LogLine[] };
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.failed({ name: "Error", message: "The sandbox returned malformed output." }, []);
    }
    if (parsed.ok) {
      if (parsed.response)
        return { ok: true, resultJson: undefined, response: parsed.response, logs: parsed.logs, discard: false, retireModule: false };
      const resultJson = "result" in parsed ? JSON.stringify(parsed.result) : undefined;
      return { ok: true, resultJson, logs: parsed.logs, discard: false, retireModule: false };
    }
    return this.failed(parsed.error ?? {}, parsed.logs);
  }

  private failed(error: GuestError, logs: LogLine[]): RawOutcome {
    return classifyGuestError(error, logs, this.fileName);
  }

  private dumpError(handle: QuickJSHandle): GuestError {
    try {
      const dumped = this.context.dump(handle) as unknown;
      if (dumped && typeof dumped === "object") return dumped as GuestError;
      return { name: "Error", message: String(dumped) };
    } catch {
      return { name: "InternalError", message: "out of memory" };
    } finally {
      if (handle.alive) handle.dispose();
    }
  }

  /** Frees the instance; reports false when the engine aborted while freeing (retire its module). */
  dispose(): boolean {
    if (this.disposed) return true;
    this.disposed = true;
    this.engine.liveInstances--;
    try {
      for (const deferred of this.pending) deferred.dispose();
      this.pending.clear();
      this.handler?.dispose();
      for (const step of this.steps) step.dispose();
      for (const part of this.core) part.dispose();
      this.logLimit?.handle.dispose();
      this.calls?.dispose();
      this.context.dispose();
      this.runtime.dispose();
      return true;
    } catch {
      return false;
    }
  }
}
