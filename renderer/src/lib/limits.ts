// The per-app limit fields of the settings form, with the runtime's bounds and defaults.
import { APP_WIDE_LIMITS, LIMIT_BOUNDS, SCRIPT_LIMITS } from "../../../runtime/shared/limit-bounds.js";

export type LimitName = keyof typeof LIMIT_BOUNDS;

const LABELS: Record<LimitName, { label: string; unit: string }> = {
  memoryMiB: { label: "Memory (MiB)", unit: "MiB" },
  cpuMs: { label: "CPU time (ms)", unit: "ms" },
  wallMs: { label: "Wall time (ms)", unit: "ms" },
  stackKiB: { label: "Stack (KiB)", unit: "KiB" },
  responseBytes: { label: "Response size (bytes)", unit: "bytes" },
  logBytes: { label: "Log output (bytes)", unit: "bytes" },
  fetchRequests: { label: "fetch calls per run", unit: "calls" },
  fetchResponseBytes: { label: "fetch response (bytes)", unit: "bytes" },
  fetchTimeoutMs: { label: "fetch timeout (ms)", unit: "ms" },
  concurrency: { label: "Runs at once, per server", unit: "runs" },
  queue: { label: "Waiting runs, per server", unit: "runs" },
};

export const LIMIT_FIELDS = (Object.keys(LIMIT_BOUNDS) as LimitName[]).map((name) => ({
  name,
  ...LABELS[name],
  ...LIMIT_BOUNDS[name],
}));

/** The limits a script may override, and those only its app can set. */
export const SCRIPT_LIMIT_FIELDS = LIMIT_FIELDS.filter((f) => SCRIPT_LIMITS.includes(f.name));
export const APP_WIDE_LIMIT_FIELDS = LIMIT_FIELDS.filter((f) => (APP_WIDE_LIMITS as readonly string[]).includes(f.name));

/** The invalid fields of a limits form, with what is wrong; empty (or absent) fields mean "inherited". */
export function limitErrors(values: Readonly<Partial<Record<LimitName, string>>>): Partial<Record<LimitName, string>> {
  const errors: Partial<Record<LimitName, string>> = {};
  for (const field of LIMIT_FIELDS) {
    const text = values[field.name]?.trim() ?? "";
    if (text === "") continue;
    const n = Number(text);
    if (!Number.isInteger(n)) errors[field.name] = "a whole number";
    else if (n < field.min || n > field.max) errors[field.name] = `between ${field.min} and ${field.max}`;
  }
  return errors;
}
