// Runs proven-quick script versions on the main thread, skipping the two thread hops of a worker run
// (and, for a version that calls bindings, two more per call). Only a version the policy promoted
// (inline-policy.ts) comes here, and every run is speculative: its guest time is capped by a small
// budget (QuickJS's interrupt handler stops it within about a millisecond past it). A run that overruns
// it before any call with an effect has had no effect outside its own sandbox instance (at most kv
// reads or timers reached the host), which is thrown away; the caller then runs the invocation on a
// worker as if it had gone there first, and the version is demoted. A run that already made a call
// with an effect (a kv write, a fetch) must not run twice: it may use up to `afterEffectMs` of guest
// time in all, and past that it is stopped and fails with ENGINE_FAULT (its effects stand, as when a
// worker dies mid-run); its version leaves the main thread for good and its app's calling versions
// for a while. So a script that turns CPU-heavy stalls the main thread once by at most that, then never.
// With `hostCalls` off, the first binding call abandons a run before anything reaches the host.
// Each app has its own engine module here too (its own WASM memory, capped at the app's limit).
import type { Logger } from "../shared/log.js";
import type { Limits } from "../shared/limits.js";
import type { BindingCall } from "../bindings/channel.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";
import { EngineModule } from "./engine-module.js";
import type { RawOutcome } from "./guest-errors.js";
import { type DemotionReason, type InlineOptions, InlinePolicy } from "./inline-policy.js";
import { type GuestSources, type HostCall, SandboxInstance } from "./sandbox-instance.js";

/** Binding calls without an effect: an inline run that made only these may still be re-run on a worker. */
const EFFECT_FREE = new Set(["kv.get", "kv.has", "kv.list", "timers.sleep"]);

/** Idle inline instances kept per version (inline runs awaiting calls each hold one). */
const MAX_IDLE_PER_VERSION = 64;

export interface InlineRecycling {
  readonly instanceMaxUses: number;
  readonly instanceMaxAgeMs: number;
}

interface AppEngine {
  readonly app: string;
  readonly memoryMiB: number;
  engine: EngineModule | undefined;
  lastUsed: number;
}

export interface InlineStats {
  /** Invocations that ran inline. */
  readonly runs: number;
  /** Inline runs abandoned and handed to a worker (each demoted its version). */
  readonly abandoned: number;
  /** Versions allowed inline now. */
  readonly promoted: number;
  /** Warm inline sandbox instances. */
  readonly instances: number;
}

export class InlineRunner {
  readonly policy: InlinePolicy;
  /** By app and memory limit (scripts of one app may have their own memory limits: no module thrashing between them). */
  private readonly engines = new Map<string, AppEngine>();
  /** Warm instances per version: an inline run takes one and returns it when it ends. */
  private readonly instances = new Map<string, SandboxInstance[]>();
  /** Inline runs awaiting a binding call now. */
  private awaiting = 0;
  /** The app's limits with the CPU budget capped to the inline budget (one object per limits object). */
  private readonly capped = new WeakMap<Limits, Limits>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private runs = 0;
  private abandoned = 0;

  constructor(
    private readonly options: InlineOptions,
    private readonly recycling: InlineRecycling,
    private readonly sources: GuestSources,
    private readonly logger: Logger,
  ) {
    this.policy = new InlinePolicy(options);
  }

  /**
   * Runs the invocation here if its version may run inline. Undefined means "not run" (or abandoned
   * without effect): send it to a worker. A run that awaits binding calls (served by `host`, which
   * throws coded errors as the pool's call handler does) answers with a promise, undefined again when
   * it was abandoned without effect.
   */
  tryRun(
    key: string,
    request: InvokeRequest,
    contextJson: string,
    host?: HostCall,
  ): InvokeOutcome | Promise<InvokeOutcome | undefined> | undefined {
    if (request.strict || !this.policy.eligible(key) || request.source.length > this.options.maxSourceBytes) return undefined;
    const calls = this.options.hostCalls && this.policy.calls(key);
    // A calling version whose calls cannot be served here (kv served in the workers) stays there.
    if (calls && (host === undefined || this.awaiting >= this.options.maxInFlight)) return undefined;
    const engine = this.readyEngine(request.app, request.limits.memoryMiB);
    if (!engine) return undefined;
    const limits = this.cappedLimits(request.limits);
    const started = performance.now();
    let instance = this.take(key, engine, limits);
    let loadMs = 0;
    if (!instance) {
      try {
        instance = new SandboxInstance(engine, `${request.script}.js`, request.source, limits, this.sources, true, { processCpu: true });
      } catch (error) {
        // A load that failed (or ran over budget) is the worker's to report, with its real limits.
        this.abandon(key, request.app, error instanceof Error ? "fault" : "budget", error instanceof Error);
        return undefined;
      }
      loadMs = performance.now() - started;
    }
    if (!calls) {
      const outcome = instance.runNow(contextJson, limits);
      if (!outcome) {
        // It reached for the host (or left a promise pending that only the host could settle).
        this.discard(instance, false);
        this.abandon(key, request.app, "host-call", false);
        return undefined;
      }
      return this.ended(key, request, instance, outcome, false, started, loadMs);
    }
    const run = { effect: false };
    const owned = instance;
    const serve = host as HostCall;
    const served: HostCall = (call: BindingCall) => {
      // Over budget already (the guest caught the interrupt across an await): the run will be re-run on
      // a worker, so nothing more reaches the host, and its guest code stops at once.
      if (!run.effect && owned.interrupted) {
        owned.abandon();
        return Promise.reject({ code: "ENGINE_FAULT", message: "The run was abandoned." });
      }
      if (!run.effect && !EFFECT_FREE.has(`${call.binding}.${call.op}`)) {
        run.effect = true;
        owned.grant(this.options.afterEffectMs, request.limits);
      }
      return serve(call);
    };
    request.onStart?.();
    let ran: RawOutcome | Promise<RawOutcome>;
    try {
      ran = instance.run(contextJson, limits, served);
    } catch (error) {
      this.discard(instance, true);
      this.abandon(key, request.app, "fault", true);
      if (!run.effect) return undefined;
      return { ok: false, error: { code: "ENGINE_FAULT", message: (error as Error).message }, logs: [], durationMs: 0, queuedMs: 0 };
    }
    if (!(ran instanceof Promise)) return this.ended(key, request, instance, ran, run.effect, started, loadMs);
    this.awaiting++;
    return ran.then(
      (outcome) => {
        this.awaiting--;
        return this.ended(key, request, owned, outcome, run.effect, started, loadMs);
      },
      (error: unknown) => {
        this.awaiting--;
        this.discard(owned, true);
        this.abandon(key, request.app, "fault", true);
        if (!run.effect) return undefined;
        const message = error instanceof Error ? error.message : "The script engine failed.";
        return { ok: false, error: { code: "ENGINE_FAULT", message }, logs: [], durationMs: performance.now() - started, queuedMs: 0 };
      },
    );
  }

  /**
   * The end of an inline run: its outcome, or undefined when it must run on a worker instead (over the
   * budget, or an engine fault, before any call with an effect: the worker reports it with real limits).
   */
  private ended(
    key: string,
    request: InvokeRequest,
    instance: SandboxInstance,
    outcome: RawOutcome,
    effect: boolean,
    started: number,
    loadMs: number,
  ): InvokeOutcome | undefined {
    let result: RawOutcome = outcome;
    if (instance.interrupted && !outcome.discard) {
      // It caught the interrupt (across an await) and ended normally: what ran was cut short all the same.
      const timeout = { code: "SCRIPT_TIMEOUT", message: "The script exceeded its CPU time limit." };
      result = outcome = { ...outcome, ok: false, error: timeout, discard: true };
    }
    if (outcome.discard || outcome.retireModule) {
      this.discard(instance, outcome.retireModule);
      const code = outcome.error?.code;
      // The wall time is the script's own limit (inline runs keep it): that outcome is the script's.
      const own = code === "SCRIPT_WALL_TIMEOUT" || (code === "SCRIPT_TIMEOUT" && request.limits.cpuMs <= this.options.budgetMs);
      if (!effect) {
        if (!own || code === "SCRIPT_TIMEOUT") {
          this.abandon(key, request.app, code === "SCRIPT_TIMEOUT" ? "budget" : "fault", false);
          return undefined;
        }
      } else if (code === "SCRIPT_TIMEOUT" && !own) {
        // Past its inline allowance after an effect: it cannot run again on a worker, nor hold this thread longer.
        this.abandon(key, request.app, "effect-budget", false);
        result = {
          ...outcome,
          error: {
            code: "ENGINE_FAULT",
            message:
              "The run was stopped: it used more CPU time on the main thread than a quick script may after a call with an effect. The script now runs on the executor workers.",
          },
        };
      } else if (outcome.retireModule) this.abandon(key, request.app, "fault", false);
    } else this.release(key, instance);
    this.runs++;
    if (!result.discard) this.policy.ranInline(key);
    const durationMs = performance.now() - started;
    const cpuMs = (result.cpuMs ?? 0) + loadMs;
    return result.ok
      ? { ok: true, resultJson: result.resultJson, response: result.response, logs: result.logs, durationMs, queuedMs: 0, cpuMs }
      : {
          ok: false,
          error: result.error ?? { code: "INTERNAL", message: "Unknown failure." },
          logs: result.logs,
          durationMs,
          queuedMs: 0,
          cpuMs,
        };
  }

  /** Drops an app's inline state (its settings changed or it was deleted). */
  forgetApp(app: string): void {
    this.policy.forgetApp(app);
    this.dropApp(app);
  }

  stats(): InlineStats {
    let instances = 0;
    for (const idle of this.instances.values()) instances += idle.length;
    return { runs: this.runs, abandoned: this.abandoned, promoted: this.policy.promoted, instances };
  }

  close(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const key of [...this.engines.keys()]) this.dropEngine(key);
    this.instances.clear();
  }

  private abandon(key: string, app: string, reason: DemotionReason, retireEngine: boolean): void {
    this.abandoned++;
    this.policy.demote(key, reason);
    if (retireEngine) this.dropApp(app);
    this.logger.debug({ version: key, reason }, "inline run abandoned; the version runs on the workers");
  }

  private cappedLimits(limits: Limits): Limits {
    let capped = this.capped.get(limits);
    if (!capped) {
      capped = Object.freeze({ ...limits, cpuMs: Math.min(limits.cpuMs, this.options.budgetMs) });
      this.capped.set(limits, capped);
    }
    return capped;
  }

  /** The app's module if it is ready; otherwise starts creating it (this invocation goes to a worker). */
  private readyEngine(app: string, memoryMiB: number): EngineModule | undefined {
    const key = `${app}\u0000${memoryMiB}`;
    const current = this.engines.get(key);
    if (current) {
      current.lastUsed = performance.now();
      return current.engine?.retired ? undefined : current.engine;
    }
    if (this.engines.size >= this.options.maxModules) this.dropEngine(this.leastRecentEngine());
    const entry: AppEngine = { app, memoryMiB, engine: undefined, lastUsed: performance.now() };
    this.engines.set(key, entry);
    EngineModule.create(memoryMiB).then(
      (engine) => {
        if (this.engines.get(key) === entry) entry.engine = engine;
      },
      (error: unknown) => {
        this.logger.warn({ err: error, app }, "could not create an inline engine module");
        if (this.engines.get(key) === entry) this.engines.delete(key);
      },
    );
    this.scheduleSweep();
    return undefined;
  }

  private leastRecentEngine(): string {
    let oldest: [string, number] = ["", Number.POSITIVE_INFINITY];
    for (const [key, entry] of this.engines) if (entry.lastUsed < oldest[1]) oldest = [key, entry.lastUsed];
    return oldest[0];
  }

  private take(key: string, engine: EngineModule, limits: Limits): SandboxInstance | undefined {
    const idle = this.instances.get(key);
    for (let instance = idle?.pop(); instance; instance = idle?.pop()) {
      if (idle?.length === 0) this.instances.delete(key);
      if (instance.engine === engine && instance.builtFor(limits) && !this.wornOut(instance)) return instance;
      this.discard(instance, false);
    }
    return undefined;
  }

  private release(key: string, instance: SandboxInstance): void {
    if (instance.engine.retired || this.wornOut(instance)) {
      this.discard(instance, false);
      return;
    }
    const idle = this.instances.get(key);
    if (!idle) this.instances.set(key, [instance]);
    else if (idle.length < MAX_IDLE_PER_VERSION) idle.push(instance);
    else this.discard(instance, false);
  }

  private wornOut(instance: SandboxInstance): boolean {
    return instance.uses >= this.recycling.instanceMaxUses || performance.now() - instance.createdAt > this.recycling.instanceMaxAgeMs;
  }

  /** Frees an instance; an engine that faulted (or aborts while freeing) is dropped with all its instances. */
  private discard(instance: SandboxInstance, retireEngine: boolean): void {
    const freed = instance.dispose();
    if (!retireEngine && freed) return;
    instance.engine.retired = true;
    for (const [key, entry] of this.engines) if (entry.engine === instance.engine) this.dropEngine(key);
  }

  private dropApp(app: string): void {
    for (const [key, entry] of this.engines) if (entry.app === app) this.dropEngine(key);
  }

  /** Drops one engine module and every inline instance in it (it is garbage once unreferenced). */
  private dropEngine(key: string): void {
    const entry = this.engines.get(key);
    this.engines.delete(key);
    if (!entry?.engine) return;
    entry.engine.retired = true;
    for (const [version, idle] of this.instances) {
      const kept = idle.filter((instance) => instance.engine !== entry.engine);
      for (const instance of idle) if (instance.engine === entry.engine) instance.dispose();
      if (kept.length === 0) this.instances.delete(version);
      else if (kept.length < idle.length) this.instances.set(version, kept);
    }
  }

  /** Gives memory back: instances past their age, then apps with none left, while any app is held. */
  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    const every = Math.min(this.recycling.instanceMaxAgeMs, 60_000);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      for (const [key, idle] of this.instances) {
        const worn = idle.filter((instance) => this.wornOut(instance));
        if (worn.length === 0) continue;
        const kept = idle.filter((instance) => !this.wornOut(instance));
        if (kept.length === 0) this.instances.delete(key);
        else this.instances.set(key, kept);
        for (const instance of worn) this.discard(instance, false);
      }
      const now = performance.now();
      for (const [key, entry] of this.engines) if (now - entry.lastUsed > every) this.dropEngine(key);
      if (this.engines.size > 0) this.scheduleSweep();
    }, every);
    this.sweepTimer.unref();
  }
}
