// Injected time source, so retries, schedules and retention are testable without sleeping.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
