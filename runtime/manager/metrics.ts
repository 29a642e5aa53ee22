// Prometheus metrics of this process: invocations (count, errors by code, duration histograms per
// app and script), the event queue, the sandbox pool and memory. Invocations are observed from the
// recorder's live feed; everything else is read when scraped, so nothing here runs while idle.
import { setTimeout as delay } from "node:timers/promises";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { Counter, Gauge, Registry } from "prom-client";
import type { Refusals } from "../executor/admission.js";
import type { InvocationRecorder } from "../orchestrator/invocation-recorder.js";
import { DURATION_BUCKETS_MS } from "../shared/duration-histogram.js";
import type { Queryable } from "../store/db.js";
import { eventCounts } from "../store/event-counts.js";
import type { KvReadCache } from "../store/kv-cache.js";
import { type CounterChild, type HistogramChild, LabeledCounter, LabeledHistogram } from "./labeled-metrics.js";

/** One script's series, kept together so a run finds all of them with one lookup. */
interface ScriptSeries {
  readonly duration: HistogramChild;
  readonly queued: HistogramChild;
  /** By trigger: the ok and error counters, made on first use. */
  readonly runs: Map<string, [CounterChild | undefined, CounterChild | undefined]>;
}

export interface MetricsSources {
  readonly recorder: InvocationRecorder;
  readonly version: string;
  /** The executor's figures, when this process runs one. */
  readonly executor?: ExecutorFigures | undefined;
  /** The database, for the event queue figures (manager role). */
  readonly db?: Queryable | undefined;
  /** This process's KV read cache, when it has one. */
  readonly kvCache?: Pick<KvReadCache, "counts" | "size"> | undefined;
  /** Whether the KV read cache serves reads now, and why (core/kv-cache-bus.ts). */
  readonly kvCacheStatus?: (() => { on: boolean; reason: string }) | undefined;
  /** Embedded PGlite's WebAssembly memory, allocated bytes (memory breakdown). */
  readonly wasmMemoryBytes?: (() => number) | undefined;
}

export interface ExecutorFigures {
  workers(): number;
  /** Burst workers running now (started while every worker was held by a long run). */
  burstWorkers?(): number;
  /** Invocations waiting for admission, and running or sent to a worker. */
  stats(): { queued: number; inFlight: number };
  /** OVERLOADED refusals since start, per app and reason (queue full, queue timeout). */
  refusals(): readonly Refusals[];
  /** Per worker: sandbox instances built so far and held idle (a message round trip to each worker). */
  workerStats(): Promise<readonly WorkerFigures[]>;
  /** Runs on the main thread (executor/inline-runner.ts); undefined when inline runs are off. */
  inlineStats?(): { runs: number; abandoned: number; promoted: number } | undefined;
}

export interface WorkerFigures {
  readonly instancesCreated: number;
  readonly idleInstances: number;
  /** The worker's V8 heap, resident bytes. */
  readonly heapBytes: number;
  /** Its QuickJS modules' WebAssembly memories, allocated bytes. */
  readonly engineBytes: number;
  /** Strict-mode templates it holds, their modules' memories (part of engineBytes) and their snapshots' bytes. */
  readonly strictTemplates: number;
  readonly strictTemplateEngineBytes: number;
  readonly strictTemplateSnapshotBytes: number;
  /** Templates it built, and dropped by why, since it started. */
  readonly strictTemplatesBuilt: number;
  readonly strictTemplatesDropped: Readonly<Record<string, number>>;
}

/**
 * Queue time is usually far below a millisecond (a thread hop) and at most the queue timeout
 * (10 s by default): finer buckets at the low end than the run durations have.
 */
export const QUEUE_BUCKETS_MS: readonly number[] = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
];

/** A scrape must not hang on a worker that is being replaced: its figures are left out instead. */
const WORKER_STATS_TIMEOUT_MS = 1_000;

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // Updated by every run: children found by one lookup per run (labeled-metrics.ts), not by prom-client's per-call label hashing.
    const invocations = new LabeledCounter(
      "picloud_invocations_total",
      "Script invocations by app, script, trigger and status (ok or error).",
      ["app", "script", "trigger", "status"],
      this.registry,
    );
    const errors = new LabeledCounter(
      "picloud_invocation_errors_total",
      "Failed invocations by app, script and error code.",
      ["app", "script", "code"],
      this.registry,
    );
    const duration = new LabeledHistogram(
      "picloud_invocation_duration_seconds",
      "Invocation run time (execution, without the admission queue and HTTP) by app and script.",
      ["app", "script"],
      DURATION_BUCKETS_MS.map((ms) => ms / 1000),
      this.registry,
    );
    const queued = new LabeledHistogram(
      "picloud_invocation_queue_seconds",
      "Time invocations waited in the executor's admission queue before they ran, by app.",
      ["app"],
      QUEUE_BUCKETS_MS.map((ms) => ms / 1000),
      this.registry,
    );
    const scripts = new Map<string, ScriptSeries>();
    // Runs come in streaks of one script: the last series is found without building its key (an allocation per run).
    let last: { readonly app: string; readonly script: string; readonly series: ScriptSeries } | undefined;
    const seriesOf = (app: string, script: string): ScriptSeries => {
      if (last !== undefined && last.app === app && last.script === script) return last.series;
      const key = `${app}\u0000${script}`;
      let series = scripts.get(key);
      if (!series) {
        series = { duration: duration.child(app, script), queued: queued.child(app), runs: new Map() };
        scripts.set(key, series);
      }
      last = { app, script, series };
      return series;
    };
    new Counter({
      name: "picloud_invocation_records_dropped_total",
      help: "Invocation records dropped under overload or on a storage failure (they are still in the aggregates).",
      registers,
      collect() {
        this.reset();
        this.inc(sources.recorder.dropped);
      },
    });
    this.unsubscribe = sources.recorder.subscribe((record) => {
      const series = seriesOf(record.app, record.script);
      let runs = series.runs.get(record.trigger);
      if (!runs) {
        runs = [undefined, undefined];
        series.runs.set(record.trigger, runs);
      }
      const at = record.status === "ok" ? 0 : 1;
      let counter = runs[at];
      if (!counter) {
        counter = invocations.child(record.app, record.script, record.trigger, record.status);
        runs[at] = counter;
      }
      counter.inc();
      if (record.error) errors.inc([record.app, record.script, record.error.code]);
      series.duration.observe(record.durationMs / 1000);
      if (record.queuedMs !== undefined && record.queuedMs !== null) series.queued.observe(record.queuedMs / 1000);
    });

    /** Each executor worker's figures (a message round trip), when this process runs an executor. */
    let workerFigures: (() => Promise<readonly WorkerFigures[] | undefined>) | undefined;
    const executor = sources.executor;
    if (executor) {
      new Gauge({
        name: "picloud_executor_workers",
        help: "Executor worker threads (each runs QuickJS sandboxes).",
        registers,
        collect() {
          this.set(executor.workers());
        },
      });
      if (executor.burstWorkers) {
        const burstWorkers = executor.burstWorkers.bind(executor);
        new Gauge({
          name: "picloud_executor_burst_workers",
          help: "Extra executor threads running now, started while every worker was held by a long run (not counted in picloud_executor_workers).",
          registers,
          collect() {
            this.set(burstWorkers());
          },
        });
      }
      new Gauge({
        name: "picloud_executor_in_flight",
        help: "Invocations running in (or sent to) an executor worker.",
        registers,
        collect() {
          this.set(executor.stats().inFlight);
        },
      });
      new Counter({
        name: "picloud_invocations_refused_total",
        help: "Invocations refused with 503 OVERLOADED before they ran, by app and reason (app_queue_full, queue_full, queue_timeout).",
        labelNames: ["app", "reason"] as const,
        registers,
        collect() {
          // Counted by the admission queue as they happen; copied here only when scraped.
          this.reset();
          for (const { app, reason, count } of executor.refusals()) this.inc({ app, reason }, count);
        },
      });
      new Gauge({
        name: "picloud_executor_queued",
        help: "Invocations waiting for admission to a worker (bounded; past the bound they get 503 OVERLOADED).",
        registers,
        collect() {
          this.set(executor.stats().queued);
        },
      });
      let pending: Promise<readonly WorkerFigures[] | undefined> | undefined;
      const workerStats = () => {
        pending ??= Promise.race([executor.workerStats(), delay(WORKER_STATS_TIMEOUT_MS, undefined, { ref: false })]).finally(() => {
          pending = undefined;
        });
        return pending;
      };
      workerFigures = workerStats;
      /** A gauge of one figure summed over the workers. */
      const summed = (
        name: string,
        help: string,
        field: "idleInstances" | "instancesCreated" | "strictTemplates" | "strictTemplatesBuilt",
      ) =>
        new Gauge({
          name,
          help,
          registers,
          async collect() {
            const stats = await workerStats();
            if (stats) this.set(stats.reduce((n, s) => n + s[field], 0));
          },
        });
      /** A gauge of figures summed over the workers by one label (`always`: labels set even with no workers). */
      const summedBy = (
        name: string,
        help: string,
        label: string,
        figures: (stats: WorkerFigures) => Readonly<Record<string, number>>,
        always: readonly string[] = [],
      ) =>
        new Gauge({
          name,
          help,
          labelNames: [label],
          registers,
          async collect() {
            const stats = await workerStats();
            if (!stats) return;
            const totals = new Map<string, number>(always.map((value) => [value, 0]));
            for (const s of stats) for (const [value, n] of Object.entries(figures(s))) totals.set(value, (totals.get(value) ?? 0) + n);
            for (const [value, n] of totals) this.set({ [label]: value }, n);
          },
        });
      summed("picloud_sandbox_instances_idle", "Warm sandbox instances held idle for reuse, over all workers.", "idleInstances");
      const inline = (field: "runs" | "abandoned" | "promoted") =>
        function (this: Gauge) {
          const stats = executor.inlineStats?.();
          if (stats) this.set(stats[field]);
        };
      new Gauge({
        name: "picloud_executor_inline_runs",
        help: "Invocations run inline on the main thread since start (quick script versions; with PICLOUD_EXECUTOR_INLINE_CALLS, also ones that call bindings).",
        registers,
        collect: inline("runs"),
      });
      new Gauge({
        name: "picloud_executor_inline_abandoned",
        help: "Inline runs abandoned (over the inline CPU budget, or reaching for a binding when that is not allowed inline) and re-run on a worker, or stopped over budget after a call with an effect, since start.",
        registers,
        collect: inline("abandoned"),
      });
      new Gauge({
        name: "picloud_executor_inline_versions",
        help: "Script versions allowed to run inline now.",
        registers,
        collect: inline("promoted"),
      });
      summed(
        "picloud_sandbox_instances_created",
        "Sandbox instances built by the current workers since they started (a steep rise means churn).",
        "instancesCreated",
      );
      // Strict mode's per-app snapshots (executor/strict-template.ts), held in the workers. Builds and
      // drops are gauges like instances_created: a replaced worker starts again from 0.
      summed("picloud_strict_templates", "Strict-mode templates (per-app memory snapshots) held, over all workers.", "strictTemplates");
      summedBy(
        "picloud_strict_template_bytes",
        "Strict-mode templates' memory over all workers, by kind: engine (their QuickJS WASM memories, allocated; also in picloud_memory_bytes worker_engines), snapshot (the copies restored before each strict run).",
        "kind",
        (s) => ({ engine: s.strictTemplateEngineBytes, snapshot: s.strictTemplateSnapshotBytes }),
        ["engine", "snapshot"],
      );
      summed(
        "picloud_strict_templates_built",
        "Strict-mode templates built by the current workers since they started.",
        "strictTemplatesBuilt",
      );
      summedBy(
        "picloud_strict_templates_dropped",
        "Strict-mode templates the current workers let go since they started, by reason: faulted, grown, evicted, idle, app_changed.",
        "reason",
        (s) => s.strictTemplatesDropped,
      );
    }

    const db = sources.db;
    if (db) {
      // One query per scrape serves all three event gauges.
      let pending: ReturnType<typeof eventCounts> | undefined;
      const counts = () => {
        pending ??= eventCounts(db).finally(() => {
          pending = undefined;
        });
        return pending;
      };
      new Gauge({
        name: "picloud_events",
        help: "Undelivered and failed events by status (pending, running, dead, failed).",
        labelNames: ["status"] as const,
        registers,
        async collect() {
          const { byStatus } = await counts();
          for (const [status, n] of Object.entries(byStatus)) this.set({ status }, n);
        },
      });
      new Gauge({
        name: "picloud_events_retrying",
        help: "Pending events that failed before and wait for their retry.",
        registers,
        async collect() {
          this.set((await counts()).retrying);
        },
      });
      new Gauge({
        name: "picloud_dead_letters",
        help: "Dead letters stored (events that exhausted their attempts).",
        registers,
        async collect() {
          this.set((await counts()).deadLetters);
        },
      });
    }

    const kvCacheStatus = sources.kvCacheStatus;
    if (kvCacheStatus) {
      new Gauge({
        name: "picloud_kv_cache_on",
        help: "1 while the KV read cache serves reads, else 0; reason: embedded, owner, notify (on), fencing, shared, lost, disabled (off).",
        labelNames: ["reason"] as const,
        registers,
        collect() {
          const status = kvCacheStatus();
          this.reset();
          this.set({ reason: status.reason }, status.on ? 1 : 0);
        },
      });
    }

    const kvCache = sources.kvCache;
    if (kvCache) {
      const counted = (name: string, help: string, field: "hits" | "misses" | "evictions") =>
        new Counter({
          name,
          help,
          registers,
          collect() {
            this.reset();
            this.inc(kvCache.counts()[field]);
          },
        });
      counted("picloud_kv_cache_hits_total", "KV reads (get, has) answered from this process's read cache.", "hits");
      counted("picloud_kv_cache_misses_total", "KV reads (get, has) that went to the database.", "misses");
      counted("picloud_kv_cache_evictions_total", "Values dropped from the KV read cache to stay within its size.", "evictions");
      new Gauge({
        name: "picloud_kv_cache_bytes",
        help: "Bytes the KV read cache counts for its keys and values (an estimate, at most PICLOUD_KV_CACHE_MIB).",
        registers,
        collect() {
          this.set(kvCache.size.bytes);
        },
      });
    }

    const memory = new Gauge({
      name: "picloud_memory_bytes",
      help:
        "Process memory by kind: rss, heap_total, heap_used, heap_resident (main thread's V8 heap), new_space (its young generation), " +
        "external (includes WASM), array_buffers, pglite_wasm (embedded database, allocated), worker_heaps (executor threads' V8 heaps, resident), " +
        "worker_engines (their QuickJS WASM memories, allocated).",
      labelNames: ["kind"] as const,
      registers,
      async collect() {
        const m = process.memoryUsage();
        memory.set({ kind: "rss" }, m.rss);
        memory.set({ kind: "heap_total" }, m.heapTotal);
        memory.set({ kind: "heap_used" }, m.heapUsed);
        memory.set({ kind: "heap_resident" }, getHeapStatistics().total_physical_size);
        const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
        if (young) memory.set({ kind: "new_space" }, young.physical_space_size);
        memory.set({ kind: "external" }, m.external);
        memory.set({ kind: "array_buffers" }, m.arrayBuffers);
        if (sources.wasmMemoryBytes) memory.set({ kind: "pglite_wasm" }, sources.wasmMemoryBytes());
        const workers = await workerFigures?.();
        if (workers) {
          memory.set(
            { kind: "worker_heaps" },
            workers.reduce((n, w) => n + w.heapBytes, 0),
          );
          memory.set(
            { kind: "worker_engines" },
            workers.reduce((n, w) => n + w.engineBytes, 0),
          );
        }
      },
    });
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Counter({
      name: "process_cpu_seconds_total",
      help: "User and system CPU time spent, in seconds.",
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        this.reset();
        this.inc((user + system) / 1e6);
      },
    });
    new Gauge({
      name: "process_start_time_seconds",
      help: "Start time of the process since the Unix epoch, in seconds.",
      registers,
    }).set(Math.round(Date.now() / 1000 - process.uptime()));
    new Gauge({ name: "picloud_build_info", help: "The running PiCloud version.", labelNames: ["version"] as const, registers }).set(
      { version: sources.version },
      1,
    );
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  stop(): void {
    this.unsubscribe();
  }
}
