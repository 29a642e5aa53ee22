// Runs proven-quick script versions on the main thread, skipping the two thread hops of a worker run.
// Only a version the policy promoted (inline-policy.ts) comes here, and every run is speculative:
// its guest time is capped by a small budget (QuickJS's interrupt handler stops it within about a
// millisecond past it), and its first binding call abandons it before anything reaches the host. An
// abandoned run changed nothing outside its own sandbox instance, which is thrown away; the caller
// then runs the invocation on a worker as if it had gone there first, and the version is demoted.
// So a script that turns CPU-heavy stalls the main thread once by at most the budget, then never.
// Each app has its own engine module here too (its own WASM memory, capped at the app's limit).
import type { Logger } from "../shared/log.js";
import type { Limits } from "../shared/limits.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";
import { EngineModule } from "./engine-module.js";
import { type DemotionReason, type InlineOptions, InlinePolicy } from "./inline-policy.js";
import { type GuestSources, SandboxInstance } from "./sandbox-instance.js";

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
  /** One warm instance per version: an inline run takes and returns it within one call. */
  private readonly instances = new Map<string, SandboxInstance>();
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
   * Runs the invocation here if its version may run inline and it finishes within budget without a
   * binding call. Undefined means "not run" (or abandoned without effect): send it to a worker.
   */
  tryRun(key: string, request: InvokeRequest, contextJson: string): InvokeOutcome | undefined {
    if (request.strict || !this.policy.eligible(key) || request.source.length > this.options.maxSourceBytes) return undefined;
    const engine = this.readyEngine(request.app, request.limits.memoryMiB);
    if (!engine) return undefined;
    const limits = this.cappedLimits(request.limits);
    const started = performance.now();
    let instance = this.take(key, engine, limits);
    let loadMs = 0;
    if (!instance) {
      try {
        instance = new SandboxInstance(engine, `${request.script}.js`, request.source, limits, this.sources);
      } catch (error) {
        // A load that failed (or ran over budget) is the worker's to report, with its real limits.
        this.abandon(key, request.app, error instanceof Error ? "fault" : "budget", error instanceof Error);
        return undefined;
      }
      loadMs = performance.now() - started;
    }
    const outcome = instance.runNow(contextJson, limits);
    if (!outcome || outcome.discard || outcome.retireModule) {
      // No outcome: it reached for the host (or left a promise pending that only the host could settle).
      const reason: DemotionReason = !outcome ? "host-call" : outcome.error?.code === "SCRIPT_TIMEOUT" ? "budget" : "fault";
      this.discard(instance, outcome?.retireModule === true);
      this.abandon(key, request.app, reason, false);
      return undefined;
    }
    this.release(key, instance);
    this.runs++;
    this.policy.ranInline(key);
    const durationMs = performance.now() - started;
    const cpuMs = (outcome.cpuMs ?? 0) + loadMs;
    return outcome.ok
      ? { ok: true, resultJson: outcome.resultJson, response: outcome.response, logs: outcome.logs, durationMs, queuedMs: 0, cpuMs }
      : {
          ok: false,
          error: outcome.error ?? { code: "INTERNAL", message: "Unknown failure." },
          logs: outcome.logs,
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
    return { runs: this.runs, abandoned: this.abandoned, promoted: this.policy.promoted, instances: this.instances.size };
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
    const instance = this.instances.get(key);
    if (!instance) return undefined;
    this.instances.delete(key);
    if (instance.engine === engine && instance.builtFor(limits) && !this.wornOut(instance)) return instance;
    this.discard(instance, false);
    return undefined;
  }

  private release(key: string, instance: SandboxInstance): void {
    if (instance.engine.retired || this.wornOut(instance)) this.discard(instance, false);
    else this.instances.set(key, instance);
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
    for (const [version, instance] of this.instances) {
      if (instance.engine !== entry.engine) continue;
      this.instances.delete(version);
      instance.dispose();
    }
  }

  /** Gives memory back: instances past their age, then apps with none left, while any app is held. */
  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    const every = Math.min(this.recycling.instanceMaxAgeMs, 60_000);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      for (const [key, instance] of this.instances) {
        if (!this.wornOut(instance)) continue;
        this.instances.delete(key);
        this.discard(instance, false);
      }
      const now = performance.now();
      for (const [key, entry] of this.engines) if (now - entry.lastUsed > every) this.dropEngine(key);
      if (this.engines.size > 0) this.scheduleSweep();
    }, every);
    this.sweepTimer.unref();
  }
}
