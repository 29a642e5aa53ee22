// Which invocation a worker thread is executing right now, and since when, in shared memory: the
// worker writes it around every stretch of guest code, the pool's watchdog reads it without a
// message. So the watchdog sees only runs that are actually executing, never queued ones.

/** Milliseconds on a clock all threads share (performance.now() has a per-thread origin). */
export const sharedNow = (): number => performance.timeOrigin + performance.now();

const ID = 0;
const SINCE = 1;

export class BusyMarker {
  private readonly cells: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT)) {
    this.cells = new Float64Array(buffer);
  }

  /** The worker starts executing invocation `id` (ids are > 0). */
  enter(id: number): void {
    // `since` first: a reader that sees the id then reads a start no earlier than this stretch's.
    this.cells[SINCE] = sharedNow();
    this.cells[ID] = id;
  }

  leave(): void {
    this.cells[ID] = 0;
  }

  /** The invocation executing now and since when, or undefined when the thread runs no guest code. */
  read(): { id: number; since: number } | undefined {
    const id = this.cells[ID] as number;
    return id === 0 ? undefined : { id, since: this.cells[SINCE] as number };
  }
}
