// How long a run of each script version holds a worker thread, learned from finished runs. The pool
// sends a worker only as much expected work as fits a small budget, so a request that arrives later
// waits behind at most that much on a thread, and a CPU-heavy script goes one run at a time.

/** Weight of the newest run in the moving average. */
const ALPHA = 0.3;
const MAX_ENTRIES = 10_000;
/** Runs after which a learned entry moves to the end of the eviction order again (see learn). */
const REINSERT_AFTER = MAX_ENTRIES / 2;

/** A version's learned cost, updated in place. */
interface Cost {
  ms: number;
  /** `learned` when the entry was last (re)inserted: the Map's order is the order of these. */
  at: number;
}

export class RunCosts {
  private readonly costs = new Map<string, Cost>();
  private average: number;
  /** Runs learned so far. */
  private learned = 0;

  /** `unknownMs`: what a version never seen costs (until its first run ends). */
  constructor(private readonly unknownMs: number) {
    this.average = unknownMs;
  }

  expected(key: string): number {
    return this.costs.get(key)?.ms ?? this.unknownMs;
  }

  /** Mean thread time per run over all versions (for retry-after estimates). */
  get averageMs(): number {
    return this.average;
  }

  /**
   * Every run ends here. An entry is updated in place, and moved to the Map's end (the eviction order)
   * only when it has not been for REINSERT_AFTER runs: a delete and a set per run made the Map
   * allocate a new hash table each time, and V8 keeps a superseded table, with the keys it holds, for
   * as long as an older one that points at it lives (old space: until a full collection). A version
   * learned within every REINSERT_AFTER runs is still never the one evicted: for that, MAX_ENTRIES
   * insertions would have to follow its last one within fewer runs.
   */
  learn(key: string, ms: number): void {
    const n = ++this.learned;
    const cost = this.costs.get(key);
    if (cost === undefined) {
      this.costs.set(key, { ms, at: n });
      if (this.costs.size > MAX_ENTRIES) this.costs.delete(this.costs.keys().next().value as string);
    } else {
      cost.ms += ALPHA * (ms - cost.ms);
      if (n - cost.at > REINSERT_AFTER) {
        cost.at = n;
        this.costs.delete(key);
        this.costs.set(key, cost);
      }
    }
    this.average += ALPHA * (ms - this.average);
  }
}
