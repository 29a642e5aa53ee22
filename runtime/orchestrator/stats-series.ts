// Turns per-minute aggregate rows into chart series: one per app or per script, one point per
// minute of the window (minutes without runs are zeros), with p50/p99 from the merged histograms.
import { addHistogram, emptyHistogram, quantile } from "../shared/duration-histogram.js";
import type { StatsRow } from "../store/invocation-stats.js";

export interface StatsPoint {
  /** Start of the minute, epoch ms. */
  readonly t: number;
  readonly count: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuMs: number;
}

export interface StatsSeries {
  readonly app: string;
  /** null when the series sums all scripts of the app. */
  readonly script: string | null;
  readonly count: number;
  readonly errors: number;
  readonly errorsByCode: Record<string, number>;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly points: StatsPoint[];
}

interface Acc {
  count: number;
  errors: number;
  hist: number[];
  cpuMs: number;
}

const emptyAcc = (): Acc => ({ count: 0, errors: 0, hist: emptyHistogram(), cpuMs: 0 });

export function buildSeries(rows: readonly StatsRow[], window: { from: number; to: number }, by: "app" | "script"): StatsSeries[] {
  const minutes: number[] = [];
  for (let t = window.from - (window.from % 60_000); t < window.to; t += 60_000) minutes.push(t);
  const groups = new Map<
    string,
    { app: string; script: string | null; total: Acc; errorsByCode: Record<string, number>; perMinute: Map<number, Acc> }
  >();
  for (const row of rows) {
    const script = by === "script" ? row.script : null;
    const key = `${row.app}\u0000${script ?? ""}`;
    let group = groups.get(key);
    if (!group) {
      group = { app: row.app, script, total: emptyAcc(), errorsByCode: {}, perMinute: new Map() };
      groups.set(key, group);
    }
    let minute = group.perMinute.get(row.minute);
    if (!minute) {
      minute = emptyAcc();
      group.perMinute.set(row.minute, minute);
    }
    for (const acc of [minute, group.total]) {
      acc.count += row.count;
      acc.errors += row.errorCount;
      acc.cpuMs += row.cpuMs;
      addHistogram(acc.hist, row.durationHist);
    }
    for (const [code, n] of Object.entries(row.errors)) group.errorsByCode[code] = (group.errorsByCode[code] ?? 0) + n;
  }
  const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);
  return [...groups.values()]
    .sort((a, b) => a.app.localeCompare(b.app) || (a.script ?? "").localeCompare(b.script ?? ""))
    .map((group) => ({
      app: group.app,
      script: group.script,
      count: group.total.count,
      errors: group.total.errors,
      errorsByCode: group.errorsByCode,
      p50Ms: round(quantile(group.total.hist, 0.5)),
      p99Ms: round(quantile(group.total.hist, 0.99)),
      points: minutes.map((t) => {
        const acc = group.perMinute.get(t) ?? emptyAcc();
        return {
          t,
          count: acc.count,
          errors: acc.errors,
          p50Ms: round(quantile(acc.hist, 0.5)),
          p99Ms: round(quantile(acc.hist, 0.99)),
          cpuMs: Math.round(acc.cpuMs * 100) / 100,
        };
      }),
    }));
}
