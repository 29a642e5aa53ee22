// A node's load over the last minute for its heartbeat: invocations, errors, p50/p99 latency.
// Samples sit in 60 one-second buckets; nothing runs between heartbeats.

const BUCKETS = 60;
/** Latency samples kept per second: enough for percentiles, bounded under any load. */
const SAMPLES_PER_BUCKET = 500;

interface Bucket {
  second: number;
  count: number;
  errors: number;
  samples: number[];
}

export class LoadWindow {
  private readonly buckets: Bucket[] = Array.from({ length: BUCKETS }, () => ({ second: -1, count: 0, errors: 0, samples: [] }));

  constructor(private readonly now: () => number = Date.now) {}

  add(durationMs: number, ok: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const bucket = this.buckets[second % BUCKETS] as Bucket;
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.count = 0;
      bucket.errors = 0;
      bucket.samples = [];
    }
    bucket.count++;
    if (!ok) bucket.errors++;
    if (bucket.samples.length < SAMPLES_PER_BUCKET) bucket.samples.push(durationMs);
    else bucket.samples[Math.floor(Math.random() * SAMPLES_PER_BUCKET)] = durationMs;
  }

  summary(): { requests: number; errors: number; p50Ms: number | null; p99Ms: number | null } {
    const from = Math.floor(this.now() / 1000) - BUCKETS + 1;
    let requests = 0;
    let errors = 0;
    const samples: number[] = [];
    for (const bucket of this.buckets) {
      if (bucket.second < from) continue;
      requests += bucket.count;
      errors += bucket.errors;
      samples.push(...bucket.samples);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) =>
      samples.length ? Math.round((samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number) * 10) / 10 : null;
    return { requests, errors, p50Ms: at(0.5), p99Ms: at(0.99) };
  }
}
