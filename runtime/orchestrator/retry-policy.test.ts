import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_RETRY } from "./retry-policy.js";

describe("backoffDelay", () => {
  const policy = { maxAttempts: 10, backoffMs: 100, backoffMaxMs: 1_000 };

  it("doubles per attempt within [half, full] of the exponential step", () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(50);
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0)).toBe(100);
    expect(backoffDelay(policy, 4, () => 0)).toBe(200);
    expect(backoffDelay(policy, 5, () => 0.999999)).toBe(800);
  });

  it("never exceeds the cap", () => {
    for (let attempt = 2; attempt < 40; attempt++) expect(backoffDelay(policy, attempt, () => 0.999999)).toBeLessThanOrEqual(1_000);
    expect(backoffDelay(policy, 30, () => 0)).toBe(500);
  });

  it("has documented defaults", () => {
    expect(DEFAULT_RETRY).toEqual({ maxAttempts: 5, backoffMs: 1_000, backoffMaxMs: 300_000 });
  });
});
