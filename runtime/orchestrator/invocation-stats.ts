// Folds every invocation into per-script, per-minute aggregates in memory; the recorder drains them
// into the invocation_stats table with each flush, so counting a run costs no database write.
import { bucketOf, emptyHistogram } from "../shared/duration-histogram.js";
import type { StatsRow } from "../store/invocation-stats.js";

interface Bucket {
  app: string;
  script: string;
  minute: number;
  count: number;
  errorCount: number;
  errors: Record<string, number>;
  durationHist: number[];
  durationSumMs: number;
  cpuMs: number;
}

export interface StatsSample {
  readonly app: string;
  readonly script: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** The error code of a failed run, null for a success. */
  readonly errorCode: string | null;
  readonly cpuMs: number;
}

export class StatsAccumulator {
  private buckets = new Map<string, Bucket>();
  private last: Bucket | undefined;

  get size(): number {
    return this.buckets.size;
  }

  add(sample: StatsSample): void {
    const minute = sample.startedAtMs - (sample.startedAtMs % 60_000);
    // Runs come in streaks of one script: the last bucket saves building the key and the lookup.
    let bucket = this.last;
    if (bucket && bucket.minute === minute && bucket.script === sample.script && bucket.app === sample.app) {
      this.count(bucket, sample);
      return;
    }
    const key = `${sample.app}\u0000${sample.script}\u0000${minute}`;
    bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = {
        app: sample.app,
        script: sample.script,
        minute,
        count: 0,
        errorCount: 0,
        errors: {},
        durationHist: emptyHistogram(),
        durationSumMs: 0,
        cpuMs: 0,
      };
      this.buckets.set(key, bucket);
    }
    this.last = bucket;
    this.count(bucket, sample);
  }

  private count(bucket: Bucket, sample: StatsSample): void {
    bucket.count++;
    const slot = bucketOf(sample.durationMs);
    bucket.durationHist[slot] = (bucket.durationHist[slot] ?? 0) + 1;
    bucket.durationSumMs += sample.durationMs;
    bucket.cpuMs += sample.cpuMs;
    if (sample.errorCode !== null) {
      bucket.errorCount++;
      bucket.errors[sample.errorCode] = (bucket.errors[sample.errorCode] ?? 0) + 1;
    }
  }

  /** Everything accumulated so far, one row per (app, script, minute); the accumulator starts empty again. */
  drain(): StatsRow[] {
    const rows = [...this.buckets.values()];
    this.buckets = new Map();
    this.last = undefined;
    return rows;
  }
}
