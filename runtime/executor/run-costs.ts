// How long a run of each script version holds a worker thread, learned from finished runs. The pool
// sends a worker only as much expected work as fits a small budget, so a request that arrives later
// waits behind at most that much on a thread, and a CPU-heavy script goes one run at a time.

/** Weight of the newest run in the moving average. */
const ALPHA = 0.3;
const MAX_ENTRIES = 10_000;

export class RunCosts {
  private readonly costs = new Map<string, number>();
  private average: number;

  /** `unknownMs`: what a version never seen costs (until its first run ends). */
  constructor(private readonly unknownMs: number) {
    this.average = unknownMs;
  }

  expected(key: string): number {
    return this.costs.get(key) ?? this.unknownMs;
  }

  /** Mean thread time per run over all versions (for retry-after estimates). */
  get averageMs(): number {
    return this.average;
  }

  learn(key: string, ms: number): void {
    const previous = this.costs.get(key);
    const next = previous === undefined ? ms : previous + ALPHA * (ms - previous);
    this.costs.delete(key);
    this.costs.set(key, next);
    if (this.costs.size > MAX_ENTRIES) this.costs.delete(this.costs.keys().next().value as string);
    this.average += ALPHA * (ms - this.average);
  }
}
