// Invocation statistics as charts: per app on the overview, per script on the script page. The data
// are the per-minute aggregates (every run counted, sampled-out ones included), refreshed every 15 s.
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { StatsResponse, StatsSeries } from "../../api/types";
import { statsQuery } from "../../api/queries";
import { useApi } from "../../connections/context";
import { ErrorNotice, Spinner } from "../ui";
import { type ChartLine, TimeSeriesChart } from "./TimeSeriesChart";

const WINDOWS = [
  { minutes: 15, label: "15 min" },
  { minutes: 60, label: "1 h" },
  { minutes: 360, label: "6 h" },
  { minutes: 1440, label: "24 h" },
] as const;

const PALETTE = ["#3b6cf6", "#1f9d63", "#b7791f", "#9b51e0", "#d64545", "#0e9aa7", "#e86f2d", "#5b6477"];
const REFRESH_MS = 15_000;

function useStats(filter: { app?: string; script?: string; by: "app" | "script" }, minutes: number) {
  return useQuery({ ...statsQuery(useApi(), filter, minutes), refetchInterval: REFRESH_MS });
}

function WindowPicker({ minutes, onChange }: { minutes: number; onChange: (minutes: number) => void }) {
  return (
    <fieldset className="row stats-window" aria-label="Time window">
      {WINDOWS.map((w) => (
        <button
          key={w.minutes}
          type="button"
          aria-pressed={minutes === w.minutes}
          className={`btn small ${minutes === w.minutes ? "primary" : ""}`}
          onClick={() => onChange(w.minutes)}
        >
          {w.label}
        </button>
      ))}
    </fieldset>
  );
}

const ms = (v: number | null) => (v === null ? "–" : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
const times = (response: StatsResponse) => response.series[0]?.points.map((p) => p.t) ?? [];

/** One line per series of one figure (count, errors or a percentile). */
function linesOf(series: readonly StatsSeries[], pick: (p: StatsSeries["points"][number]) => number | null, dots = false): ChartLine[] {
  return series.map((s, i) => ({
    label: s.script ?? s.app,
    color: PALETTE[i % PALETTE.length] as string,
    values: s.points.map(pick),
    dots,
  }));
}

/** The overview: invocations, errors and p99 per app over time, and a table of the window's totals. */
export function StatsOverview() {
  const [minutes, setMinutes] = useState(60);
  const stats = useStats({ by: "app" }, minutes);
  const data = stats.data;
  const charts = useMemo(
    () =>
      data && {
        times: times(data),
        count: linesOf(data.series, (p) => p.count),
        errors: linesOf(data.series, (p) => p.errors),
        p99: linesOf(data.series, (p) => p.p99Ms, true),
      },
    [data],
  );
  return (
    <section className="card stats" data-testid="stats-overview">
      <div className="card-head">
        Invocations per app <div className="spacer" />
        <WindowPicker minutes={minutes} onChange={setMinutes} />
      </div>
      <div className="card-body">
        {stats.isLoading && <Spinner />}
        <ErrorNotice error={stats.error} />
        {data && data.series.length === 0 && <p className="muted">No invocations in this window.</p>}
        {charts && data && data.series.length > 0 && (
          <>
            <div className="stats-grid">
              <TimeSeriesChart title="Invocations / min" times={charts.times} lines={charts.count} testId="chart-invocations" />
              <TimeSeriesChart title="Errors / min" times={charts.times} lines={charts.errors} testId="chart-errors" />
              <TimeSeriesChart title="p99 latency" unit="ms" times={charts.times} lines={charts.p99} testId="chart-p99" />
            </div>
            <StatsTable series={data.series} />
          </>
        )}
      </div>
    </section>
  );
}

function StatsTable({ series }: { series: readonly StatsSeries[] }) {
  return (
    <table className="simple" data-testid="stats-table">
      <thead>
        <tr>
          <th>{series[0]?.script === null ? "App" : "Script"}</th>
          <th className="num">Invocations</th>
          <th className="num">Errors</th>
          <th className="num">p50</th>
          <th className="num">p99</th>
        </tr>
      </thead>
      <tbody>
        {series.map((s) => (
          <tr key={`${s.app}/${s.script ?? ""}`}>
            <td>{s.script ?? s.app}</td>
            <td className="num">{s.count}</td>
            <td className={`num ${s.errors > 0 ? "bad" : ""}`}>{s.errors}</td>
            <td className="num">{ms(s.p50Ms)}</td>
            <td className="num">{ms(s.p99Ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One script: invocations and errors, p50 and p99 over time, errors by code. */
export function ScriptStats({ app, script }: { app: string; script: string }) {
  const [minutes, setMinutes] = useState(60);
  const stats = useStats({ app, script, by: "script" }, minutes);
  const series = stats.data?.series[0];
  const charts = useMemo(
    () =>
      series && {
        times: series.points.map((p) => p.t),
        volume: [
          { label: "invocations", color: PALETTE[0] as string, values: series.points.map((p) => p.count) },
          { label: "errors", color: "#d64545", values: series.points.map((p) => p.errors) },
        ],
        latency: [
          { label: "p50", color: PALETTE[1] as string, values: series.points.map((p) => p.p50Ms), dots: true },
          { label: "p99", color: PALETTE[2] as string, values: series.points.map((p) => p.p99Ms), dash: [6, 4], dots: true },
        ],
      },
    [series],
  );
  return (
    <section className="card stats" data-testid="script-stats">
      <div className="card-head">
        Metrics
        {series && (
          <span className="muted stats-summary">
            {series.count} runs · {series.errors} errors · p50 {ms(series.p50Ms)} · p99 {ms(series.p99Ms)}
          </span>
        )}
        <div className="spacer" />
        <WindowPicker minutes={minutes} onChange={setMinutes} />
      </div>
      <div className="card-body">
        {stats.isLoading && <Spinner />}
        <ErrorNotice error={stats.error} />
        {stats.data && !series && <p className="muted">No invocations of this script in this window.</p>}
        {charts && series && (
          <>
            <div className="stats-grid two">
              <TimeSeriesChart title="Invocations and errors / min" times={charts.times} lines={charts.volume} testId="chart-volume" />
              <TimeSeriesChart title="Latency" unit="ms" times={charts.times} lines={charts.latency} testId="chart-latency" />
            </div>
            {Object.keys(series.errorsByCode).length > 0 && (
              <p className="muted" data-testid="errors-by-code">
                Errors by code:{" "}
                {Object.entries(series.errorsByCode)
                  .map(([code, n]) => `${code} ${n}`)
                  .join(" · ")}
              </p>
            )}
          </>
        )}
      </div>
    </section>
  );
}
