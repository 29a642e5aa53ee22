// Prometheus metrics of this process: invocations (count, errors by code, duration histograms per
// app and script), the event queue, the sandbox pool and memory. Invocations are observed from the
// recorder's live feed; everything else is read when scraped, so nothing here runs while idle.
import { setTimeout as delay } from "node:timers/promises";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { InvocationRecorder } from "../orchestrator/invocation-recorder.js";
import { DURATION_BUCKETS_MS } from "../shared/duration-histogram.js";
import type { Queryable } from "../store/db.js";
import { eventCounts } from "../store/event-counts.js";

export interface MetricsSources {
  readonly recorder: InvocationRecorder;
  readonly version: string;
  /** The executor's figures, when this process runs one. */
  readonly executor?: ExecutorFigures | undefined;
  /** The database, for the event queue figures (manager role). */
  readonly db?: Queryable | undefined;
}

export interface ExecutorFigures {
  workers(): number;
  /** Invocations waiting for admission, and running or sent to a worker. */
  stats(): { queued: number; inFlight: number };
  /** Per worker: sandbox instances built so far and held idle (a message round trip to each worker). */
  workerStats(): Promise<readonly { instancesCreated: number; idleInstances: number }[]>;
}

/** A scrape must not hang on a worker that is being replaced: its figures are left out instead. */
const WORKER_STATS_TIMEOUT_MS = 1_000;

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const invocations = new Counter({
      name: "picloud_invocations_total",
      help: "Script invocations by app, script, trigger and status (ok or error).",
      labelNames: ["app", "script", "trigger", "status"] as const,
      registers,
    });
    const errors = new Counter({
      name: "picloud_invocation_errors_total",
      help: "Failed invocations by app, script and error code.",
      labelNames: ["app", "script", "code"] as const,
      registers,
    });
    const duration = new Histogram({
      name: "picloud_invocation_duration_seconds",
      help: "Invocation duration (queueing and execution, without HTTP) by app and script.",
      labelNames: ["app", "script"] as const,
      buckets: DURATION_BUCKETS_MS.map((ms) => ms / 1000),
      registers,
    });
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
      invocations.inc({ app: record.app, script: record.script, trigger: record.trigger, status: record.status });
      if (record.error) errors.inc({ app: record.app, script: record.script, code: record.error.code });
      duration.observe({ app: record.app, script: record.script }, record.durationMs / 1000);
    });

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
      new Gauge({
        name: "picloud_executor_in_flight",
        help: "Invocations running in (or sent to) an executor worker.",
        registers,
        collect() {
          this.set(executor.stats().inFlight);
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
      let pending: Promise<readonly { instancesCreated: number; idleInstances: number }[] | undefined> | undefined;
      const workerStats = () => {
        pending ??= Promise.race([executor.workerStats(), delay(WORKER_STATS_TIMEOUT_MS, undefined, { ref: false })]).finally(() => {
          pending = undefined;
        });
        return pending;
      };
      new Gauge({
        name: "picloud_sandbox_instances_idle",
        help: "Warm sandbox instances held idle for reuse, over all workers.",
        registers,
        async collect() {
          const stats = await workerStats();
          if (stats) this.set(stats.reduce((n, s) => n + s.idleInstances, 0));
        },
      });
      new Gauge({
        name: "picloud_sandbox_instances_created",
        help: "Sandbox instances built by the current workers since they started (a steep rise means churn).",
        registers,
        async collect() {
          const stats = await workerStats();
          if (stats) this.set(stats.reduce((n, s) => n + s.instancesCreated, 0));
        },
      });
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

    const memory = new Gauge({
      name: "picloud_memory_bytes",
      help: "Process memory by kind: rss, heap_total, heap_used, external (includes WASM), array_buffers.",
      labelNames: ["kind"] as const,
      registers,
      collect() {
        const m = process.memoryUsage();
        memory.set({ kind: "rss" }, m.rss);
        memory.set({ kind: "heap_total" }, m.heapTotal);
        memory.set({ kind: "heap_used" }, m.heapUsed);
        memory.set({ kind: "external" }, m.external);
        memory.set({ kind: "array_buffers" }, m.arrayBuffers);
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
