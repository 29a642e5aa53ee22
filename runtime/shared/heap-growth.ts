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

let holding = false;

/**
 * Young generations stop growing: each keeps the size it has. Called once the process listens, when
 * the main thread's semi-spaces are 2 × 8 MiB after a start; under load V8 doubled them to 2 × 16 MiB
 * (~16 MiB of RSS kept for the process's life) and grew the workers' too. The main thread's maximum
 * can only be set by a Node flag at launch, which the desktop app cannot give, but V8 reads the growth
 * factor each time a young generation would grow. Measured in docs/architecture.md, "Start-up and memory".
 */
export function holdYoungGenerations(): void {
  if (!applied) return;
  holding = true;
  setFlagsFromString("--semi-space-growth-factor=1");
}

/** V8 puts the growth factor back to 2 whenever it creates an isolate: called after each executor worker starts. */
export function keepHoldingYoungGenerations(): void {
  if (holding) setFlagsFromString("--semi-space-growth-factor=1");
}
