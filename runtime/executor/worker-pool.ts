// Runs sandboxes in worker threads so both cores serve requests and a script burning its CPU budget
// stalls only the thread it runs on. Invocations wait in a bounded admission queue on the main
// thread (admission.ts) and go to a worker only when it has room (run-costs.ts), so what a worker
// holds is always about to run. While every worker is held by a long run, other apps' quick runs go
// to a few burst workers instead of waiting for those runs to end (docs/limits.md, "Isolation"). A
// worker that dies, or executes one run past its wall limit (watchdog.ts), is replaced; its in-flight
// invocations fail with ENGINE_FAULT and nothing else is affected.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { BindingCall } from "../bindings/channel.js";
import type { Config } from "../shared/config.js";
import { PiCloudError, coerceError } from "../shared/errors.js";
import type { Limits } from "../shared/limits.js";
import { keepHoldingYoungGenerations } from "../shared/heap-growth.js";
import type { Logger } from "../shared/log.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";
import { Admission, type AdmissionLimits, type Refusals, type Waiting } from "./admission.js";
import { BusyMarker, sharedNow } from "./busy-marker.js";
import { type DeployCheckLimits, DeployChecks } from "./deploy-checks.js";
import type { Executor, SdkHost } from "./executor.js";
import type { RawOutcome } from "./guest-errors.js";
import { lazyModulesForSandbox, preludeForSandbox } from "./guest-prelude.js";
import { DEFAULT_INLINE_OPTIONS, type InlineOptions, type WorkerRunFacts } from "./inline-policy.js";
import { InlineRunner, type InlineStats } from "./inline-runner.js";
import { type Batch, MessageBatcher } from "./message-batcher.js";
import { type FromWorker, PACKED_DONE_FIELDS, type ToWorker, type WorkerSettings } from "./protocol.js";
import type { WorkerKvSettings } from "./worker-kv.js";
import { RunCosts } from "./run-costs.js";
import { RunTable } from "./run-table.js";
import { Watchdog } from "./watchdog.js";

export interface ExecutorQueueOptions extends AdmissionLimits, DeployCheckLimits {
  /** Expected thread time (ms) a worker is sent ahead of what it runs; at least one run always goes. */
  readonly dispatchBudgetMs: number;
  /** Invocations in flight on one worker at most (each holds a sandbox instance). */
  readonly maxInFlightPerWorker: number;
  /** How long past its wall limit a run may execute before its worker is presumed hung. */
  readonly watchdogGraceMs: number;
  /** Extra worker threads at most, started while every worker is held by a long run and another app's quick run waits (0: none). */
  readonly burstWorkers: number;
  /** A run is long once it has executed this long in one stretch, or when its learned cost is at least this. */
  readonly longRunMs: number;
  /** A burst worker with nothing to run for this long is stopped. */
  readonly burstIdleMs: number;
}

export const DEFAULT_QUEUE_OPTIONS: ExecutorQueueOptions = Object.freeze({
  queueLimit: 1_000,
  queueTimeoutMs: 10_000,
  dispatchBudgetMs: 50,
  maxInFlightPerWorker: 512,
  watchdogGraceMs: 5_000,
  burstWorkers: 2,
  longRunMs: 100,
  burstIdleMs: 10_000,
  deployChecks: 2,
  deployChecksWaiting: 16,
});

/** The queue settings of the server configuration. */
export function queueOptionsOf(
  config: Pick<Config, "executorQueueLimit" | "executorQueueTimeoutMs" | "executorWatchdogGraceMs" | "executorBurstWorkers">,
) {
  return {
    queueLimit: config.executorQueueLimit,
    queueTimeoutMs: config.executorQueueTimeoutMs,
    watchdogGraceMs: config.executorWatchdogGraceMs,
    burstWorkers: config.executorBurstWorkers,
  } satisfies Partial<ExecutorQueueOptions>;
}

interface Job extends Waiting {
  readonly request: InvokeRequest;
  readonly sdk: SdkHost;
  readonly contextJson: string;
  readonly key: string;
  readonly resolve: (outcome: InvokeOutcome) => void;
  cost: number;
}

/**
 * Drops what a settled job holds (its request with the run's context, its SDK host, its promise's
 * settle functions). V8 does not clear a Map's superseded hash tables, and one that reached the old
 * generation keeps pointing at the jobs it held until the next full collection: an emptied job keeps
 * that from promoting each run's request, context and caller with it (docs/architecture.md: ~0.7 MB
 * per scavenge on a busy hello endpoint, a major collection every 1-2 s).
 */
function release(job: Job): void {
  const held = job as Partial<Mutable<Job>>;
  held.request = undefined;
  held.sdk = undefined;
  held.contextJson = undefined;
  held.resolve = undefined;
  held.refuse = undefined;
}

interface Slot {
  worker: Worker;
  /** Started for a stall (burst): it takes only quick runs of apps not holding a long run, and stops when idle. */
  readonly burst: boolean;
  /** What the worker is executing now (the watchdog reads it too). */
  marker: BusyMarker;
  /** A burst worker's idle timer. */
  retire: NodeJS.Timeout | undefined;
  /** A burst worker that is not up yet: runs keep waiting in admission meanwhile (a regular worker may free first). */
  starting: boolean;
  outbox: MessageBatcher<ToWorker>;
  readonly inFlight: RunTable<Job>;
  /** Version keys this worker has been sent, with the limits sent last. */
  readonly sent: Map<string, Limits>;
  /** Expected thread time of the runs in flight here. */
  committedMs: number;
  watchdog: Watchdog;
  statsWaiters: ((stats: WorkerStats) => void)[];
  closing: boolean;
}

/** One worker's figures (protocol.ts says what each is); `instancesCreated` counts since it started, a measure of churn. */
export type WorkerStats = Omit<Extract<FromWorker, { t: "stats" }>, "t">;

export interface PoolStats {
  readonly queued: number;
  readonly inFlight: number;
  readonly watchdogsArmed: number;
}

function workerUrl(): URL {
  const compiled = new URL("./worker.js", import.meta.url);
  return existsSync(fileURLToPath(compiled)) ? compiled : new URL("./worker-entry.mjs", import.meta.url);
}

export interface WorkerPoolOptions extends Omit<WorkerSettings, "prelude" | "lazyModules" | "busyBuffer"> {
  readonly workers: number;
  readonly logger: Logger;
  readonly queue?: Partial<ExecutorQueueOptions>;
  /**
   * Run versions that proved quick and host-free on the main thread (inline-runner.ts). Off unless
   * given: `{}` takes the defaults.
   */
  readonly inline?: Partial<InlineOptions> | false;
}

/** The version key last made, and what it was made of (see versionKey). */
let lastKey: { app: string; script: string; version: number; revision: string | undefined; key: string } | undefined;

/**
 * `app/script@version#revision`. Runs come in streaks of one version, whose request fields are the
 * script cache's own strings: the last key is given again while they match, so a streak allocates no
 * key per run, and the key's hash, which V8 keeps on the string, is computed once for every Map it meets.
 */
function versionKey(request: InvokeRequest): string {
  const { app, script, version, revision } = request;
  const last = lastKey;
  if (last !== undefined && last.app === app && last.script === script && last.version === version && last.revision === revision)
    return last.key;
  const key = `${app}/${script}@${version}${revision === undefined ? "" : `#${revision}`}`;
  lastKey = { app, script, version, revision, key };
  return key;
}

/** A run may go to a burst worker when its learned cost is below this many long-run thresholds. */
const QUICK_RUNS = 10;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A run's outcome with its timing, one literal per shape: every run settles here, and spreading a
 * timing object into the outcome cost an allocation and a generic property copy per run.
 */
function settledOutcome(
  outcome: Pick<RawOutcome, "ok" | "resultJson" | "response" | "error" | "logs" | "cpuMs">,
  durationMs: number,
  queuedMs: number,
): InvokeOutcome {
  const { logs, cpuMs } = outcome;
  if (outcome.ok) {
    const { resultJson, response } = outcome;
    return cpuMs === undefined
      ? { ok: true, resultJson, response, logs, durationMs, queuedMs }
      : { ok: true, resultJson, response, logs, durationMs, queuedMs, cpuMs };
  }
  const error = outcome.error ?? { code: "INTERNAL", message: "Unknown failure." };
  return cpuMs === undefined ? { ok: false, error, logs, durationMs, queuedMs } : { ok: false, error, logs, durationMs, queuedMs, cpuMs };
}

function sameLimits(a: Limits, b: Limits): boolean {
  if (a === b) return true;
  for (const name of Object.keys(b) as (keyof Limits)[]) if (a[name] !== b[name]) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

export class WorkerPool implements Executor {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  /** Looks again for a stall while runs wait (burst workers): armed only then, never while idle. */
  private stallCheck: NodeJS.Timeout | undefined;
  /** Looks once whether every regular worker's run has become long (a spare burst worker): armed only while every one is busy. */
  private spareCheck: NodeJS.Timeout | undefined;
  private burstsStarted = 0;
  private readonly queue: ExecutorQueueOptions;
  private readonly admission: Admission<Job>;
  /** Deploys' checks: outside every app's share, with their own budget (deploy-checks.ts). */
  private readonly checks: DeployChecks<Job>;
  private readonly costs: RunCosts;
  private readonly inline: InlineRunner | undefined;
  /** Set once kv calls are served in the workers (worker-kv.ts); replacement workers get it too. */
  private kvDirect: { readonly settings: WorkerKvSettings; readonly onEvents: () => void } | undefined;

  private constructor(private readonly options: WorkerPoolOptions) {
    this.queue = { ...DEFAULT_QUEUE_OPTIONS, ...options.queue };
    this.costs = new RunCosts(this.queue.dispatchBudgetMs);
    this.admission = new Admission<Job>(this.queue, () => this.retryAfterS());
    this.checks = new DeployChecks<Job>(this.queue);
    this.inline = options.inline
      ? new InlineRunner(
          { ...DEFAULT_INLINE_OPTIONS, ...options.inline },
          options,
          { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() },
          options.logger,
        )
      : undefined;
  }

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    await Promise.all(Array.from({ length: options.workers }, () => pool.spawn().ready));
    return pool;
  }

  private spawn(existing?: Slot, burst = false): { slot: Slot; ready: Promise<void> } {
    const marker = new BusyMarker();
    const settings: WorkerSettings = {
      instanceMaxUses: this.options.instanceMaxUses,
      instanceMaxAgeMs: this.options.instanceMaxAgeMs,
      prelude: preludeForSandbox(),
      lazyModules: lazyModulesForSandbox(),
      busyBuffer: marker.buffer,
      ...(this.options.strictSnapshots === false && { strictSnapshots: false }),
      ...(this.options.strictTemplates && { strictTemplates: this.options.strictTemplates }),
    };
    // A 4 MiB young generation instead of V8's 2 x 16 MiB semi-spaces: a run's garbage is small and
    // short-lived, and each worker's heap otherwise grew by ~30 MiB under load (docs/architecture.md).
    const worker = new Worker(workerUrl(), { workerData: settings, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    const outbox = new MessageBatcher<ToWorker>((batch) => worker.postMessage(batch));
    const slot: Slot = existing ?? {
      worker,
      burst,
      marker,
      retire: undefined,
      starting: burst,
      outbox,
      inFlight: new RunTable(),
      sent: new Map(),
      committedMs: 0,
      watchdog: undefined as unknown as Watchdog,
      statsWaiters: [],
      closing: false,
    };
    slot.worker = worker;
    slot.marker = marker;
    slot.outbox = outbox;
    slot.sent.clear();
    if (this.kvDirect) this.send(slot, { t: "kv-direct", settings: this.kvDirect.settings });
    slot.watchdog = new Watchdog({
      marker,
      allowedMs: (id) => {
        const job = slot.inFlight.get(id);
        return job ? job.request.limits.wallMs + this.queue.watchdogGraceMs : undefined;
      },
      onHung: (id, executingMs) => {
        const job = slot.inFlight.get(id);
        this.options.logger.error(
          { app: job?.request.app, script: job?.request.script, executingMs: Math.round(executingMs) },
          "executor worker stuck in one run past its wall limit; terminating it",
        );
        if (slot.worker === worker) void worker.terminate();
      },
      checkEveryMs: this.queue.watchdogGraceMs,
    });
    if (!existing) this.slots.push(slot);
    const ready = new Promise<void>((resolve, reject) => {
      worker.on("message", ([packed, messages]: Batch<FromWorker>) => {
        for (const message of messages) {
          if (message.t === "ready") {
            // Creating this worker's isolate set V8's young generation growth back to its default.
            keepHoldingYoungGenerations();
            resolve();
          } else this.onMessage(slot, message);
        }
        for (let i = 0; i < packed.length; i += PACKED_DONE_FIELDS) {
          const cpuMs = packed[i + 3] as number;
          this.settle(
            slot,
            packed[i] as number,
            { ok: true, resultJson: packed[i + 1] as string | undefined, logs: [], cpuMs },
            packed[i + 2] as number,
            this.inline && { hostCalls: packed[i + 5] as number, guestMs: cpuMs - (packed[i + 4] as number), clean: true },
          );
        }
      });
      worker.on("error", (error) => {
        this.options.logger.error({ err: error }, "executor worker failed");
        reject(error);
      });
      worker.on("exit", (code) => {
        if (slot.worker !== worker) return;
        // The runs lost with this worker. The replacement takes the slot first, so the queued jobs
        // that failing them lets through go to it, not to the dead worker (and are not failed too).
        const lost = [...slot.inFlight.keys()];
        if (slot.burst) {
          // Not replaced: the next stall starts another if it needs one.
          if (!this.closed && !slot.closing) this.options.logger.warn({ code }, "executor burst worker exited");
          this.dropBurst(slot);
        } else if (!this.closed && !slot.closing) {
          this.options.logger.warn({ code }, "executor worker exited; starting a replacement");
          void this.spawn(slot).ready.catch((error) => this.options.logger.error({ err: error }, "could not restart executor worker"));
        }
        this.fail(slot, lost, `The executor worker exited (code ${code}).`);
        this.pump();
      });
    });
    return { slot, ready };
  }

  /** Starts a burst worker; it takes waiting runs once it is up. */
  private startBurst(): void {
    this.burstsStarted++;
    const { slot, ready } = this.spawn(undefined, true);
    ready.then(
      () => {
        slot.starting = false;
        if (slot.inFlight.size === 0) this.idleBurst(slot);
        this.pump();
      },
      (error) => this.options.logger.error({ err: error }, "could not start executor burst worker"),
    );
    this.options.logger.info({ burstWorkers: this.burstWorkers() }, "every executor worker is held by a long run; starting a burst worker");
  }

  private dropBurst(slot: Slot): void {
    clearTimeout(slot.retire);
    slot.retire = undefined;
    slot.closing = true;
    slot.watchdog.disarm();
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
  }

  /** A burst worker with nothing in flight stops after `burstIdleMs` unless it gets work meanwhile. */
  private idleBurst(slot: Slot): void {
    clearTimeout(slot.retire);
    slot.retire = setTimeout(() => {
      slot.retire = undefined;
      if (slot.inFlight.size > 0 || slot.closing) return;
      this.dropBurst(slot);
      void slot.worker.terminate();
    }, this.queue.burstIdleMs);
    slot.retire.unref();
  }

  private fail(slot: Slot, ids: readonly number[], message: string): void {
    for (const id of ids) this.settle(slot, id, { ok: false, error: { code: "ENGINE_FAULT", message }, logs: [] }, undefined, undefined);
  }

  /** The one exit of a dispatched run: frees its worker share, app slot and watchdog, then resolves it. */
  private settle(
    slot: Slot,
    id: number,
    outcome: Pick<RawOutcome, "ok" | "resultJson" | "response" | "error" | "logs" | "cpuMs">,
    runMs: number | undefined,
    /** What the worker reported about the run, for the inline policy (absent when it did not finish there). */
    report: WorkerRunFacts | undefined | false,
  ): void {
    const job = slot.inFlight.get(id);
    if (!job) return;
    if (report && this.inline && !job.request.strict) this.inline.policy.learn(job.key, report);
    const check = job.request.validate === true;
    slot.inFlight.delete(id);
    slot.committedMs = slot.inFlight.size === 0 ? 0 : slot.committedMs - job.cost;
    if (slot.inFlight.size === 0) {
      slot.watchdog.disarm();
      if (slot.burst && !slot.closing) this.idleBurst(slot);
    }
    if (check) this.checks.finished();
    else {
      this.admission.finished(job.app);
      if (outcome.cpuMs !== undefined) this.costs.learn(job.key, outcome.cpuMs);
    }
    const totalMs = performance.now() - job.enqueuedAt;
    const durationMs = runMs ?? totalMs;
    const { resolve } = job;
    release(job);
    resolve(settledOutcome(outcome, durationMs, Math.max(0, totalMs - durationMs)));
    this.pump();
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (message.t === "stats") {
      for (const waiter of slot.statsWaiters.splice(0)) waiter(message);
      return;
    }
    if (message.t === "kv-events") {
      this.kvDirect?.onEvents();
      return;
    }
    if (message.t === "kv-failed") {
      this.options.logger.error({ err: { message: message.message, stack: message.stack }, binding: "kv" }, "binding call failed");
      return;
    }
    const job = message.t === "ready" ? undefined : slot.inFlight.get(message.id);
    if (!job) return;
    switch (message.t) {
      case "done": {
        const { outcome } = message;
        this.settle(slot, message.id, outcome, message.runMs, {
          hostCalls: message.hostCalls,
          guestMs: (outcome.cpuMs ?? 0) - message.loadMs,
          clean: !outcome.discard && !outcome.retireModule,
        });
        break;
      }
      case "need-source":
        this.post(slot, message.id, job, true);
        break;
      case "call":
        job.sdk(message).then(
          (json) => this.send(slot, { t: "call-result", callId: message.callId, ok: true, json }),
          (error: unknown) => {
            const { code, message: text } = this.callFailure(error, message.binding);
            this.send(slot, { t: "call-result", callId: message.callId, ok: false, code, message: text });
          },
        );
        break;
    }
  }

  /** What a failed binding call tells the guest: its code, and no internal detail (that is logged). */
  private callFailure(error: unknown, binding: string): { code: string; message: string } {
    const coded = coerceError(error);
    if (coded.code !== "INTERNAL") return { code: coded.code, message: coded.message };
    this.options.logger.error({ err: error, binding }, "binding call failed");
    return { code: coded.code, message: `The ${binding} call failed.` };
  }

  private send(slot: Slot, message: ToWorker): void {
    slot.outbox.send(message);
  }

  private post(slot: Slot, id: number, job: Job, withSource: boolean): void {
    const { request } = job;
    const sent = slot.sent.get(job.key);
    const needsVersion = withSource || request.validate === true || sent === undefined || !sameLimits(sent, request.limits);
    // A triggered run's chain depth matters to kv calls served in the worker: it travels unpacked then.
    if (!needsVersion && !request.strict && !(this.kvDirect && request.chainDepth)) {
      // The common invocation, packed (protocol.ts: PACKED_INVOKE_FIELDS).
      slot.outbox.pack().push(id, job.key, job.contextJson, job.cost);
      return;
    }
    const message: Mutable<Extract<ToWorker, { t: "invoke" }>> = {
      t: "invoke",
      id,
      key: job.key,
      contextJson: job.contextJson,
      expectedMs: job.cost,
    };
    if (request.strict) message.strict = true;
    if (request.chainDepth) message.chainDepth = request.chainDepth;
    if (request.validate) message.validate = true;
    if (needsVersion) {
      // A check's source is sent with it, never kept by the worker (worker.ts invoke).
      if (!request.validate) slot.sent.set(job.key, request.limits);
      const { app, script, version, source, limits } = request;
      message.version = { app, script, version, source, limits };
    }
    this.send(slot, message);
  }

  /** The least loaded (regular) worker that has room for more work (an idle worker always has). */
  private roomy(): Slot | undefined {
    const now = sharedNow();
    let best: Slot | undefined;
    for (const slot of this.slots)
      if (!slot.burst && (!best || slot.committedMs < best.committedMs) && this.hasRoom(slot, now)) best = slot;
    return best;
  }

  /**
   * Room for one more run: under the dispatch budget of expected work, and not executing a long run now.
   * The learned cost alone would not do: a version that is usually quick but loops on some input leaves
   * its worker "nearly free" by cost while its thread is stuck, and a run sent there waits out the loop.
   */
  private hasRoom(slot: Slot, now = sharedNow()): boolean {
    if (slot.closing) return false;
    if (slot.inFlight.size === 0) return true;
    if (this.longRun(slot, now)) return false;
    return slot.committedMs < this.queue.dispatchBudgetMs && slot.inFlight.size < this.queue.maxInFlightPerWorker;
  }

  /** The run the slot's worker is executing now, when it is long (executing `longRunMs` in one stretch, or expected to). */
  private longRun(slot: Slot, now: number): Job | undefined {
    const busy = slot.marker.read();
    const job = busy && slot.inFlight.get(busy.id);
    if (!busy || !job) return undefined;
    return job.cost >= this.queue.longRunMs || now - busy.since >= this.queue.longRunMs ? job : undefined;
  }

  /**
   * No regular worker has room. When each is held by a long run, the waiting quick runs of apps that
   * hold no long run go to burst workers (started up to `burstWorkers`), which the OS time-slices with
   * the long runs: a CPU-heavy app cannot starve the others, and a lone one still has every regular
   * worker. Otherwise, while runs wait, looks again when a run would become long (a timer, only then).
   */
  private relieveStall(): void {
    const { burstWorkers, longRunMs, dispatchBudgetMs } = this.queue;
    if (burstWorkers === 0) return;
    const now = sharedNow();
    const holding = new Set<string>();
    let allHeld = true;
    let burst: Slot | undefined;
    let bursts = 0;
    /** A burst worker is starting, or one is up and not held by a long run: no other is started. */
    let enough = false;
    let lookAgainMs = Number.POSITIVE_INFINITY;
    for (const slot of this.slots) {
      const long = this.longRun(slot, now);
      if (long) {
        // A deploy's check is not one of its app's runs: that app's quick runs may still take a burst worker.
        if (!long.request.validate) holding.add(long.app);
      } else {
        if (!slot.burst) allHeld = false;
        const busy = slot.marker.read();
        lookAgainMs = Math.min(lookAgainMs, busy ? busy.since + longRunMs - now : longRunMs);
      }
      if (slot.burst && !slot.closing) {
        bursts++;
        enough ||= slot.starting || !long;
        if (!long && !slot.starting && this.hasRoom(slot) && (!burst || slot.committedMs < burst.committedMs)) burst = slot;
      }
    }
    if (allHeld) {
      // Quick: its app holds no long run, and its learned cost (which includes building its sandbox,
      // so a cold version looks dearer than it is) is not that of a known CPU hog.
      const quick = (job: Job) => !holding.has(job.app) && this.costs.expected(job.key) < QUICK_RUNS * longRunMs;
      // Deploys' checks go first, whatever their apps hold: the fix for an app whose runs hold every worker is one.
      for (;;) {
        const check = this.checks.startable;
        if (!check && !this.admission.waiting(quick)) break;
        if (!burst) {
          if (!enough && bursts < burstWorkers) this.startBurst();
          break;
        }
        const job = (check ? this.checks.next() : this.admission.next(quick)) as Job;
        if (!check) job.cost = this.costs.expected(job.key);
        this.dispatch(burst, job);
        if (!this.hasRoom(burst)) burst = undefined;
      }
    }
    if ((this.admission.size > 0 || this.checks.waiting > 0) && lookAgainMs !== Number.POSITIVE_INFINITY && !this.stallCheck) {
      this.stallCheck = setTimeout(
        () => {
          this.stallCheck = undefined;
          this.pump();
        },
        Math.max(5, Math.min(lookAgainMs, dispatchBudgetMs * 2)),
      );
      this.stallCheck.unref();
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    const id = this.nextId++;
    slot.inFlight.set(id, job);
    slot.committedMs += job.cost;
    slot.watchdog.arm();
    if (slot.retire) {
      clearTimeout(slot.retire);
      slot.retire = undefined;
    }
    job.request.onStart?.();
    this.post(slot, id, job, false);
    if (!slot.burst) this.armSpareCheck();
  }

  /**
   * Every regular worker now has a run and no burst worker is up or starting: one look when those runs
   * would count as long (a one-shot timer, armed only while every worker is busy: nothing polls).
   */
  private armSpareCheck(): void {
    if (this.spareCheck || this.queue.burstWorkers === 0 || this.closed) return;
    for (const slot of this.slots) if (slot.burst ? !slot.closing : slot.inFlight.size === 0) return;
    this.spareCheck = setTimeout(() => {
      this.spareCheck = undefined;
      this.startSpare();
    }, this.queue.longRunMs + 5);
    this.spareCheck.unref();
  }

  /**
   * When every regular worker is held by a long run, one burst worker is started ahead of need, so another
   * app's quick run that comes meanwhile finds it up instead of waiting for a thread to boot (its start is
   * ~0.1-0.3 s, seconds on a loaded machine). It takes only what a burst worker takes (relieveStall: never
   * the long runs' apps), and stops after `burstIdleMs` without work, like any burst worker.
   */
  private startSpare(): void {
    if (this.closed) return;
    const now = sharedNow();
    for (const slot of this.slots) {
      if (slot.burst ? !slot.closing : !this.longRun(slot, now)) {
        // A regular worker still busy (not long yet, or a run after a quick one): look again at the next dispatch.
        if (!slot.burst && slot.inFlight.size > 0) this.armSpareCheck();
        return;
      }
    }
    this.startBurst();
  }

  /** Moves waiting deploy checks, then waiting invocations, to workers while they have room, apps taking turns. */
  private pump(): void {
    while (this.checks.startable && !this.closed) {
      const slot = this.roomy();
      if (!slot) {
        this.relieveStall();
        return;
      }
      this.dispatch(slot, this.checks.next() as Job);
    }
    while (this.admission.size > 0 && !this.closed) {
      const slot = this.roomy();
      if (!slot) {
        this.relieveStall();
        return;
      }
      const job = this.admission.next();
      if (!job) return;
      job.cost = this.costs.expected(job.key);
      this.dispatch(slot, job);
    }
  }

  private retryAfterS(): number {
    const backlogMs = Math.max(
      this.admission.oldestWaitMs(),
      (this.admission.size * this.costs.averageMs) / Math.max(1, this.slots.length),
    );
    return Math.min(60, Math.max(1, Math.ceil(backlogMs / 1000)));
  }

  invoke(request: InvokeRequest, sdk: SdkHost): Promise<InvokeOutcome> {
    if (this.closed) return Promise.reject(new PiCloudError("EXECUTOR_UNAVAILABLE"));
    let contextJson: string;
    try {
      contextJson = JSON.stringify(request.context);
    } catch (error) {
      // Nothing is held yet: refusing here leaks no slot (e.g. input nested too deep to serialise).
      return Promise.reject(
        new PiCloudError("BAD_REQUEST", `The invocation's input cannot be passed to the sandbox: ${(error as Error).message}`),
      );
    }
    const share = { concurrency: request.limits.concurrency, queue: request.limits.queue };
    const key = versionKey(request);
    // A deploy's check always goes to a worker thread (an infinite loop at top level must not stall this
    // one), outside its app's share: an app saturated by its own runs can still be deployed to.
    if (request.validate) return this.check(request, sdk, contextJson, key, share);
    // Inline only when the app could start a run now anyway: its concurrency limit and its queue order hold.
    if (this.inline && this.admission.canStart(request.app, share)) {
      // Calls of an inline run are served here, as the pool serves a worker's (unless kv is served in the workers).
      const host = this.kvDirect
        ? undefined
        : (call: BindingCall) => sdk(call).catch((error: unknown) => Promise.reject(this.callFailure(error, call.binding)));
      const outcome = this.inline.tryRun(key, request, contextJson, host);
      if (outcome instanceof Promise) {
        // It awaits the host: it holds one of its app's run slots meanwhile.
        this.admission.started(request.app);
        const finished = () => {
          this.admission.finished(request.app);
          this.pump();
        };
        return outcome.then(
          (settled) => {
            finished();
            return settled ?? this.toWorker(request, sdk, contextJson, key, share);
          },
          (error: unknown) => {
            finished();
            throw error;
          },
        );
      }
      if (outcome) return Promise.resolve(outcome);
    }
    return this.toWorker(request, sdk, contextJson, key, share);
  }

  /** A run waiting for or sent to a worker, settled through the caller's promise; `cost` is its expected work (ms). */
  private job(
    request: InvokeRequest,
    sdk: SdkHost,
    contextJson: string,
    key: string,
    share: { concurrency: number; queue: number },
    resolve: (outcome: InvokeOutcome) => void,
    refuse: (error: unknown) => void,
    cost: number,
  ): Job {
    return { app: request.app, share, enqueuedAt: performance.now(), refuse, request, sdk, contextJson, key, resolve, cost };
  }

  /** Queues the invocation for a worker, or sends it to one at once when one has room and nothing waits. */
  private toWorker(
    request: InvokeRequest,
    sdk: SdkHost,
    contextJson: string,
    key: string,
    share: { concurrency: number; queue: number },
  ): Promise<InvokeOutcome> {
    if (this.closed) return Promise.reject(new PiCloudError("EXECUTOR_UNAVAILABLE"));
    return new Promise((resolve, reject) => {
      const job = this.job(request, sdk, contextJson, key, share, resolve, reject, this.costs.expected(key));
      const slot = this.admission.canStart(request.app, share) ? this.roomy() : undefined;
      if (slot && this.admission.size === 0) {
        this.admission.started(request.app);
        this.dispatch(slot, job);
        return;
      }
      this.admission.enqueue(job); // throws OVERLOADED when full: the promise rejects with it
      this.pump();
    });
  }

  /**
   * A deploy's check (validate.ts): not admitted as one of its app's runs but within the checks' own budget
   * (deploy-checks.ts), and ahead of waiting runs. It counts as a full dispatch budget of work, so no run is
   * sent to its worker behind it (a check that loops until its CPU limit stalls no run queued there), and
   * once it has executed for `longRunMs` it holds its worker like any long run: burst workers cover it.
   */
  private check(
    request: InvokeRequest,
    sdk: SdkHost,
    contextJson: string,
    key: string,
    share: { concurrency: number; queue: number },
  ): Promise<InvokeOutcome> {
    return new Promise((resolve, reject) => {
      const job = this.job(request, sdk, contextJson, key, share, resolve, reject, this.queue.dispatchBudgetMs);
      const slot = this.checks.canStart() ? this.roomy() : undefined;
      if (slot) {
        this.checks.started();
        this.dispatch(slot, job);
        return;
      }
      this.checks.enqueue(job); // throws OVERLOADED when the checks' own queue is full: the promise rejects with it
      this.pump();
    });
  }

  forgetApp(app: string): void {
    this.inline?.forgetApp(app);
    for (const slot of this.slots) this.send(slot, { t: "forget", app });
  }

  /** What ran on the main thread (undefined when inline runs are off). */
  inlineStats(): InlineStats | undefined {
    return this.inline?.stats();
  }

  /** Burst workers running now (regular ones: the `workers` option). */
  burstWorkers(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.burst) n++;
    return n;
  }

  /** Burst workers started since start. */
  burstWorkersStarted(): number {
    return this.burstsStarted;
  }

  inFlightCount(): number {
    return this.slots.reduce((n, slot) => n + slot.inFlight.size, 0);
  }

  /** What the pool holds right now: every exit path of an invocation must bring these back to zero. */
  stats(): PoolStats {
    return {
      queued: this.admission.size,
      inFlight: this.inFlightCount(),
      watchdogsArmed: this.slots.filter((slot) => slot.watchdog.armed).length,
    };
  }

  /** Invocations refused with OVERLOADED since start (queue full or queue timeout), per app and reason. */
  refusals(): Refusals[] {
    return this.admission.refusals();
  }

  /** Per worker: how many sandbox instances it has built (churn) and holds idle. */
  workerStats(): Promise<WorkerStats[]> {
    return Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<WorkerStats>((resolve) => {
            slot.statsWaiters.push(resolve);
            this.send(slot, { t: "stats" });
          }),
      ),
    );
  }

  /**
   * Serves scripts' kv calls inside the workers, each on its own pool of `settings.poolSize`
   * connections, instead of on the main thread (Postgres without a KV read cache: see worker-kv.ts).
   * `onEvents` runs when a worker's write committed trigger events. Keep the workers' trigger copies
   * current with kvTriggersChanged.
   */
  serveKvInWorkers(settings: WorkerKvSettings, onEvents: () => void): void {
    this.kvDirect = { settings, onEvents };
    for (const slot of this.slots) this.send(slot, { t: "kv-direct", settings });
  }

  /** An app's triggers changed ("*": all apps'): the workers serving kv drop their copies. */
  kvTriggersChanged(app: string): void {
    if (!this.kvDirect || this.closed) return;
    for (const slot of this.slots) this.send(slot, { t: "kv-triggers", app });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.stallCheck);
    clearTimeout(this.spareCheck);
    for (const slot of this.slots) clearTimeout(slot.retire);
    this.inline?.close();
    this.admission.drain(() => new PiCloudError("EXECUTOR_UNAVAILABLE"));
    this.checks.drain(() => new PiCloudError("EXECUTOR_UNAVAILABLE"));
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.closing = true;
        slot.watchdog.disarm();
        await slot.worker.terminate();
        this.fail(slot, [...slot.inFlight.keys()], "The executor stopped.");
      }),
    );
  }
}
