// How far V8 lets a heap grow past what survived its last full collection. By default V8 picks a
// factor of up to 4 for small heaps, so the main thread's old generation, ~20 MiB live after start,
// grew to ~90 MiB under steady load before its next full collection (and RSS kept that level); at
// 1.2 it collects sooner. Measured with npm run bench:hot-path and bench:main-thread (docs/architecture.md,
// "Start-up and memory"): no throughput change within noise. A process-wide V8 setting (every
// isolate: the main thread and the executor workers), read at each full collection, so it applies
// from the moment it is set — from the CLI and from the desktop app alike.
import { setFlagsFromString } from "node:v8";

export const HEAP_GROWING_PERCENT = 20;

let applied = false;

/** Sets the heap growing factor once per process (idempotent). */
export function limitHeapGrowth(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
