// Retry policy as data: capped exponential backoff with "equal jitter" (half fixed, half random),
// so retries of many failed events spread out instead of arriving together.
import type { RetryPolicy } from "../store/triggers.js";

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 5, backoffMs: 1_000, backoffMaxMs: 5 * 60_000 });

/** Delay before attempt `nextAttempt` (2 = the first retry). `random` returns [0, 1). */
export function backoffDelay(policy: RetryPolicy, nextAttempt: number, random: () => number = Math.random): number {
  const exponential = policy.backoffMs * 2 ** Math.max(0, nextAttempt - 2);
  const capped = Math.min(policy.backoffMaxMs, exponential);
  return Math.round(capped / 2 + (random() * capped) / 2);
}
