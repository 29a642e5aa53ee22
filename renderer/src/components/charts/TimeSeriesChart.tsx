// One uPlot line chart over time that follows its container's width. uPlot draws on a canvas, so
// thousands of points stay cheap; the chart is rebuilt when its data changes (every refetch).
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatAxisValue, formatDateTime, formatDuration, formatTimeTicks } from "../../lib/format";

export interface ChartLine {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
  readonly dash?: readonly number[];
  /** Draw a dot per value: for sparse series (latency is null in idle minutes), where a lone value has no line. */
  readonly dots?: boolean;
}

export interface TimeSeriesChartProps {
  readonly title: string;
  /** Epoch milliseconds, one per point. */
  readonly times: readonly number[];
  readonly lines: readonly ChartLine[];
  /** Appended to axis values, e.g. "ms". */
  readonly unit?: string;
  readonly height?: number;
  readonly testId?: string;
}

export function TimeSeriesChart({ title, times, lines, unit = "", height = 180, testId }: TimeSeriesChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const data: uPlot.AlignedData = [times.map((t) => t / 1000), ...lines.map((line) => line.values.map((v) => v ?? null))];
    const legendValue = (v: number) => (unit === "ms" ? formatDuration(v) : formatAxisValue(v, unit));
    const plot = new uPlot(
      {
        title,
        width: Math.max(200, element.clientWidth),
        height,
        cursor: { drag: { x: false, y: false } },
        legend: { show: true },
        // Headroom above the highest value, so a lone dot at the maximum is not clipped by the frame.
        scales: { y: { range: (_u, min, max) => [0, Math.max(max * 1.15, min + 1, 1)] } },
        axes: [
          {
            stroke: "#6b7385",
            grid: { stroke: "#eef0f4" },
            values: (_u, splits, _axis, _space, incr) =>
              formatTimeTicks(
                splits.map((s) => s * 1000),
                incr * 1000,
              ),
          },
          {
            stroke: "#6b7385",
            grid: { stroke: "#eef0f4" },
            size: sizeToLabels,
            values: (_u, splits) => splits.map((v) => formatAxisValue(v, unit)),
          },
        ],
        series: [
          { value: (_u: uPlot, t: number | null) => (t === null ? "–" : formatDateTime(t * 1000)) },
          ...lines.map((line) => ({
            label: line.label,
            stroke: line.color,
            width: 1.5,
            spanGaps: false,
            points: line.dots ? { show: true, size: 5, fill: line.color } : { show: false },
            ...(line.dash && { dash: [...line.dash] }),
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : legendValue(v)),
          })),
        ],
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, times, lines, unit, height]);
  return <div className="ts-chart" ref={host} data-testid={testId} data-points={times.length} />;
}

/** A y axis as wide as its widest label (plus tick and gap), so no label is clipped at the left edge. */
function sizeToLabels(self: uPlot, values: string[] | undefined, axisIdx: number): number {
  const axis = self.axes[axisIdx];
  // After init uPlot holds the axis font as [css font, size]; the canvas is scaled by the pixel ratio.
  const font = (axis?.font as unknown as [string, number] | undefined)?.[0];
  if (font) self.ctx.font = font;
  const widest = Math.max(0, ...(values ?? []).map((label) => self.ctx.measureText(label).width / devicePixelRatio));
  return Math.ceil(widest + (axis?.ticks?.size ?? 10) + (axis?.gap ?? 5) + 8);
}
