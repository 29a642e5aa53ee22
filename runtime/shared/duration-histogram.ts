// Fixed duration buckets shared by the per-minute aggregates, the Prometheus histograms and the
// charts, so a percentile means the same thing everywhere. Percentiles are interpolated inside a bucket.

/** Upper bounds in milliseconds; one more count follows them for everything slower (+Inf). */
export const DURATION_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

export const HISTOGRAM_LENGTH = DURATION_BUCKETS_MS.length + 1;

export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_LENGTH).fill(0);
}

export function bucketOf(durationMs: number): number {
  let i = 0;
  while (i < DURATION_BUCKETS_MS.length && durationMs > (DURATION_BUCKETS_MS[i] as number)) i++;
  return i;
}

/** Adds `from` into `into` element by element (histograms of unequal length are padded). */
export function addHistogram(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

/**
 * The q-quantile (0 < q <= 1) of a bucketed distribution, linearly interpolated within its bucket;
 * null for an empty histogram. The open last bucket reports its lower bound.
 */
export function quantile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : (DURATION_BUCKETS_MS[i - 1] as number);
      const upper = DURATION_BUCKETS_MS[i];
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return DURATION_BUCKETS_MS.at(-1) ?? null;
}
