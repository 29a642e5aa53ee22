// Injected time source, so retries, schedules and retention are testable without sleeping.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

let isoSecond = Number.NaN;
let isoPrefix = "";

/**
 * `new Date(ms).toISOString()`, without building a Date for every call: the text up to the second is
 * kept and only the milliseconds change (runs on the request hot path: every invocation's start).
 */
export function isoTime(ms: number): string {
  const whole = Math.trunc(ms); // as Date does
  const millis = ((whole % 1000) + 1000) % 1000;
  const second = whole - millis;
  if (second !== isoSecond) {
    const text = new Date(second).toISOString();
    // Years beyond 9999 (or before 0) have another shape: leave them to Date.
    if (text.length !== 24) return new Date(whole).toISOString();
    isoSecond = second;
    isoPrefix = text.slice(0, 20);
  }
  return `${isoPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}
