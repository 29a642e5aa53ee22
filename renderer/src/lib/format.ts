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
