// One date and time format everywhere: local time, 24 h, ISO-like order; milliseconds where
// events are close together (streams, attempts, logs).
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `14:03:07.123`, local time. */
export function formatTime(value: string | number | Date): string {
  const d = toDate(value);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `2026-11-27 14:03:07`, local time; with `ms`, `…07.123`. */
export function formatDateTime(value: string | number | Date, options: { ms?: boolean } = {}): string {
  const d = toDate(value);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time}${options.ms ? `.${pad(d.getMilliseconds(), 3)}` : ""}`;
}

/**
 * Chart time ticks in the same format: `14:03` (`14:03:07` when ticks are under a minute apart),
 * with the date (`2026-11-27`) on a second line under the first tick and at each new day.
 */
export function formatTimeTicks(times: readonly number[], stepMs: number): string[] {
  let lastDay = "";
  return times.map((t) => {
    const [day = "", clock = ""] = formatDateTime(t).split(" ");
    const time = stepMs < 60_000 ? clock : clock.slice(0, 5);
    const label = day === lastDay ? time : `${time}\n${day}`;
    lastDay = day;
    return label;
  });
}

/** A chart axis value: compact, so labels stay short (`250 ms`, `1 s`, `2.5 s`, `12`, `0.5`). */
export function formatAxisValue(value: number, unit = ""): string {
  const trim = (n: number) => String(Number(n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)));
  if (unit === "ms" && Math.abs(value) >= 1000) return `${trim(value / 1000)} s`;
  return `${trim(value)}${unit ? ` ${unit}` : ""}`;
}
