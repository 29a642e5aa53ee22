// Per-script, per-minute aggregates in memory: streaks, interleavings and minute changes all count right.
import { describe, expect, it } from "vitest";
import { StatsAccumulator, type StatsSample } from "./invocation-stats.js";

const minute = Date.UTC(2026, 2, 1, 12, 0);
const sample = (over: Partial<StatsSample>): StatsSample => ({
  app: "a",
  script: "s",
  startedAtMs: minute + 30_000,
  durationMs: 1,
  errorCode: null,
  cpuMs: 0.5,
  ...over,
});

describe("StatsAccumulator", () => {
  it("keeps one row per app, script and minute whatever order the runs come in, and starts empty after a drain", () => {
    const stats = new StatsAccumulator();
    const runs = [
      sample({}),
      sample({}),
      sample({ script: "t" }),
      sample({ app: "b" }),
      sample({ errorCode: "SCRIPT_ERROR" }),
      sample({ startedAtMs: minute + 60_000 }),
      sample({}),
    ];
    for (const run of runs) stats.add(run);
    const rows = stats.drain().map((r) => [r.app, r.script, r.minute - minute, r.count, r.errorCount, r.cpuMs]);
    expect(rows).toEqual([
      ["a", "s", 0, 4, 1, 2],
      ["a", "t", 0, 1, 0, 0.5],
      ["b", "s", 0, 1, 0, 0.5],
      ["a", "s", 60_000, 1, 0, 0.5],
    ]);
    stats.add(sample({}));
    expect(stats.drain().map((r) => r.count)).toEqual([1]);
    expect(stats.drain()).toEqual([]);
  });
});
