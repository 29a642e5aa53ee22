// isoTime is Date's ISO text, made without a Date per call.
import { describe, expect, it } from "vitest";
import { isoTime } from "./clock.js";

describe("isoTime", () => {
  it("matches toISOString across milliseconds, seconds, days, years, fractions and times before 1970", () => {
    const samples = [
      0,
      1,
      999,
      1000,
      1_795_811_731_259,
      1_795_811_731_259.75,
      1_795_811_731_999,
      1_795_811_732_000,
      1_795_811_732_007,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      -1,
      -999.5,
      -1000,
      -86_400_001,
      Date.UTC(10_000, 0, 1, 0, 0, 0, 5),
    ];
    for (const ms of samples) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
    // In sequence, as on the hot path: the cached second must not leak into the next one.
    for (let ms = 1_795_811_730_990; ms < 1_795_811_731_020; ms++) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
