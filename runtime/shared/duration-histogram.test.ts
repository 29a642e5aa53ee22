import { describe, expect, it } from "vitest";
import { bucketOf, DURATION_BUCKETS_MS, emptyHistogram, HISTOGRAM_LENGTH, quantile } from "./duration-histogram.js";

describe("duration histogram", () => {
  it("puts a duration in the first bucket whose upper bound holds it, and slower ones in the open bucket", () => {
    expect(bucketOf(0.2)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.01)).toBe(1);
    expect(bucketOf(30_000)).toBe(DURATION_BUCKETS_MS.length - 1);
    expect(bucketOf(90_000)).toBe(HISTOGRAM_LENGTH - 1);
  });

  it("interpolates quantiles inside a bucket and is null when empty", () => {
    expect(quantile(emptyHistogram(), 0.5)).toBeNull();
    const hist = emptyHistogram();
    hist[bucketOf(7)] = 100; // all in (5, 10]
    expect(quantile(hist, 0.5)).toBeCloseTo(7.5);
    expect(quantile(hist, 0.99)).toBeCloseTo(9.95);
    hist[HISTOGRAM_LENGTH - 1] = 100;
    expect(quantile(hist, 0.99)).toBe(30_000);
  });
});
