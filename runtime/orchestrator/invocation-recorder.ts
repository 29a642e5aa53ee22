// Every invocation is counted in per-minute aggregates and shown on the live stream; a full record
// (logs, error, timing, queue time, and the request/response or return value, see invocation-details.ts)
// is stored for every failure, every run that wrote console output, every triggered or test run, and a
// sample of silent successful HTTP runs (the app's `recordSampleRate`). The details are built only once
// a run is known to be stored: a sampled-out success serialises nothing.
// Records and aggregates are buffered and written in batches, one statement each, once a second (a
// full batch of records at once), so recording never caps request throughput; readers flush first. The buffer is bounded: under overload the oldest unwritten records are
// dropped and counted (the aggregates still count them) rather than letting memory grow without limit.
import { PiCloudError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { InvocationStatsStore } from "../store/invocation-stats.js";
import type { InvocationDetails, InvocationRecord, InvocationStore, StoredInvocation } from "../store/invocations.js";
import { StatsAccumulator } from "./invocation-stats.js";

export interface RecorderOptions {
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly maxBuffered: number;
}

export const DEFAULT_RECORDER_OPTIONS: RecorderOptions = {
  // Aggregates are per minute and readers flush before they read (the admin API, the stats views), so
  // a write a second is prompt enough: other nodes' runs show within a second. Each write blocks
  // PGlite's (main) thread for a few ms; at 100 ms the upserts alone took ~5% of the main thread
  // under load.
  flushIntervalMs: 1_000,
  // Small batches keep each write short: PGlite runs on the main thread and blocks it while writing.
  batchSize: 250,
  maxBuffered: 50_000,
};

/** Share of silent successful HTTP runs stored in full when an app does not say. */
export const DEFAULT_RECORD_SAMPLE_RATE = 0.01;

export interface RecordOptions {
  /** 0..1: the chance that a silent successful HTTP run is stored in full. Default 1 (store all). */
  readonly sampleRate?: number;
  /** Guest CPU time of the run, for the aggregates. */
  readonly cpuMs?: number | undefined;
  /** `record.startedAt` as a number, when the caller has it (saves parsing the text back). */
  readonly startedAtMs?: number;
  /**
   * The request, response or return value, for a stored record. Called only when the run is stored
   * in full, so a sampled-out success serialises nothing (the hot path).
   */
  readonly details?: (() => InvocationDetails) | undefined;
}

/** While the database is away, buffered records are retried this often. */
const RETRY_MS = 1_000;
const MAX_UNSENT_STATS = 10_000;

const isDatabaseAway = (error: unknown) => error instanceof PiCloudError && error.code === "DATABASE_UNAVAILABLE";

/** `stored`: whether `GET /invocations/:id` will find this record once flushed. */
type Listener = (record: InvocationRecord, stored: boolean) => void;

/** Whether a run is kept as a full record; everything else lives only in the aggregates and the live stream. */
export function keepsFullRecord(record: InvocationRecord, sampleRate: number, random: () => number = Math.random): boolean {
  if (record.status !== "ok" || record.logs.length > 0 || record.trigger !== "http") return true;
  return sampleRate >= 1 || (sampleRate > 0 && random() < sampleRate);
}

export interface RecorderStores {
  readonly invocations: InvocationStore;
  readonly stats: InvocationStatsStore;
}

export class InvocationRecorder {
  private buffer: StoredInvocation[] = [];
  private readonly stats = new StatsAccumulator();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<Listener>();
  dropped = 0;
  /** Aggregates that could not be written while the database was away. */
  private readonly unsentStats: Parameters<RecorderStores["stats"]["addMany"]>[0][number][] = [];
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stores: RecorderStores,
    private readonly options: RecorderOptions,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  /** Live subscribers (the event stream, metrics) see every run, before it is written. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts the run and stores it in full when the policy says so; returns whether it was stored. */
  record(record: InvocationRecord, options: RecordOptions = {}): boolean {
    const stored = keepsFullRecord(record, options.sampleRate ?? 1, this.random);
    for (const listener of this.listeners) listener(record, stored);
    this.stats.add({
      app: record.app,
      script: record.script,
      startedAtMs: options.startedAtMs ?? Date.parse(record.startedAt),
      durationMs: record.durationMs,
      errorCode: record.error ? record.error.code : null,
      cpuMs: options.cpuMs ?? 0,
    });
    if (stored) {
      this.buffer.push(options.details ? { ...record, ...this.details(record, options.details) } : record);
      if (this.buffer.length > this.options.maxBuffered) {
        const excess = this.buffer.length - this.options.maxBuffered;
        this.buffer.splice(0, excess);
        this.dropped += excess;
      }
    }
    // A full batch is written at once; the aggregates wait for the timer (a failing script stores
    // every run: its aggregate row is still upserted once per interval, not once per batch).
    if (this.buffer.length >= this.options.batchSize) void this.write(false);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
    return stored;
  }

  /** A run's details; a failure to build them must not lose the record itself. */
  private details(record: InvocationRecord, build: () => InvocationDetails): Partial<InvocationDetails> {
    try {
      return build();
    } catch (error) {
      this.logger.error({ err: error, invocation: record.id }, "could not build invocation details");
      return {};
    }
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private trimBuffer(): void {
    if (this.buffer.length > this.options.maxBuffered) {
      const excess = this.buffer.length - this.options.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** Writes everything buffered so far (records and aggregates); resolves when it is stored. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    return this.write(true);
  }

  /** Queues a write of the buffered records, and of the aggregates when `withStats`. */
  private write(withStats: boolean): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const stats = withStats ? [...this.unsentStats.splice(0), ...this.stats.drain()] : [];
      if (stats.length > 0) {
        try {
          await this.stores.stats.addMany(stats);
        } catch (error) {
          if (isDatabaseAway(error)) this.unsentStats.push(...stats.slice(-MAX_UNSENT_STATS));
          else this.logger.error({ err: error, count: stats.length }, "could not store invocation aggregates");
        }
      }
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, this.options.batchSize);
        try {
          await this.stores.invocations.insertMany(batch);
        } catch (error) {
          if (isDatabaseAway(error)) {
            // Kept (within the buffer's bound) and written once the database is back.
            this.buffer.unshift(...batch);
            this.trimBuffer();
            this.retryLater();
            return;
          }
          this.dropped += batch.length;
          this.logger.error({ err: error, count: batch.length }, "could not store invocation records");
        }
      }
      if (this.unsentStats.length > 0) this.retryLater();
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    await this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
