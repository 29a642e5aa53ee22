// Invocation records are buffered and written in batches, one statement per batch, so recording
// never caps request throughput. The buffer is bounded: under overload the oldest unwritten records
// are dropped and counted rather than letting memory grow without limit.
import type { Logger } from "../shared/log.js";
import type { InvocationRecord, InvocationStore } from "../store/invocations.js";

export interface RecorderOptions {
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly maxBuffered: number;
}

export const DEFAULT_RECORDER_OPTIONS: RecorderOptions = {
  flushIntervalMs: 100,
  // Small batches keep each write short: PGlite runs on the main thread and blocks it while writing.
  batchSize: 250,
  maxBuffered: 50_000,
};

type Listener = (record: InvocationRecord) => void;

export class InvocationRecorder {
  private buffer: InvocationRecord[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<Listener>();
  dropped = 0;

  constructor(
    private readonly store: InvocationStore,
    private readonly options: RecorderOptions,
    private readonly logger: Logger,
  ) {}

  /** Live subscribers (the event stream) see records before they are written. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(record: InvocationRecord): void {
    for (const listener of this.listeners) listener(record);
    this.buffer.push(record);
    if (this.buffer.length > this.options.maxBuffered) {
      const excess = this.buffer.length - this.options.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
    if (this.buffer.length >= this.options.batchSize) void this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
  }

  /** Writes everything buffered so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.flushing = this.flushing.then(async () => {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, this.options.batchSize);
        try {
          await this.store.insertMany(batch);
        } catch (error) {
          this.dropped += batch.length;
          this.logger.error({ err: error, count: batch.length }, "could not store invocation records");
        }
      }
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    await this.flush();
  }
}
