// Limit bounds and defaults as plain data (no schema library), so the control panel's settings form
// shows and checks the same numbers the API enforces.
/** Bounds keep an app setting from harming the host (e.g. a QuickJS stack above 256 KiB overflows Node's own stack). */
export const LIMIT_BOUNDS = {
  memoryMiB: { min: 16, max: 2048, default: 64 },
  cpuMs: { min: 1, max: 60_000, default: 1_000 },
  wallMs: { min: 10, max: 300_000, default: 15_000 },
  stackKiB: { min: 32, max: 256, default: 256 },
  responseBytes: { min: 1_024, max: 64 * 1024 * 1024, default: 4 * 1024 * 1024 },
  logBytes: { min: 256, max: 4 * 1024 * 1024, default: 64 * 1024 },
  fetchRequests: { min: 0, max: 1_000, default: 50 },
  fetchResponseBytes: { min: 1_024, max: 64 * 1024 * 1024, default: 8 * 1024 * 1024 },
  fetchTimeoutMs: { min: 100, max: 300_000, default: 10_000 },
  concurrency: { min: 1, max: 10_000, default: 64 },
  queue: { min: 0, max: 100_000, default: 256 },
} as const;

/**
 * Limits that belong to the app as a whole, so a script cannot override them: each executor thread
 * holds one WASM module per app (its memory cap), and admission counts runs per app.
 */
export const APP_WIDE_LIMITS = ["memoryMiB", "concurrency", "queue"] as const satisfies readonly (keyof typeof LIMIT_BOUNDS)[];

/** The limits a script's own settings may override. */
export const SCRIPT_LIMITS = (Object.keys(LIMIT_BOUNDS) as (keyof typeof LIMIT_BOUNDS)[]).filter(
  (name) => !(APP_WIDE_LIMITS as readonly string[]).includes(name),
);
