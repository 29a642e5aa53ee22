// The pool's hang detector for one worker thread. It fires only when the thread has been executing
// the same invocation for longer than that invocation may run (its wall limit plus a grace), which
// the sandbox's own interrupt makes impossible unless the engine itself is stuck. Time an
// invocation spends queued, or awaiting a host call, never counts. Armed only while work is in flight.
import { type BusyMarker, sharedNow } from "./busy-marker.js";

export interface WatchdogOptions {
  readonly marker: BusyMarker;
  /** How long the invocation `id` may execute, in ms; undefined when the pool no longer knows it. */
  readonly allowedMs: (id: number) => number | undefined;
  /** Called once, with the invocation the thread is stuck in. */
  readonly onHung: (id: number, executingMs: number) => void;
  /** Longest gap between two looks while nothing is executing. */
  readonly checkEveryMs: number;
  readonly now?: () => number;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private fired = false;

  constructor(private readonly options: WatchdogOptions) {}

  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Keeps watching while the worker has work in flight; cheap to call on every dispatch. */
  arm(): void {
    if (!this.timer && !this.fired) this.schedule(this.options.checkEveryMs);
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.check(), Math.max(1, ms));
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    const { marker, allowedMs, onHung, checkEveryMs } = this.options;
    const now = (this.options.now ?? sharedNow)();
    const busy = marker.read();
    const allowed = busy ? allowedMs(busy.id) : undefined;
    if (busy && allowed !== undefined) {
      const executing = now - busy.since;
      if (executing > allowed) {
        this.fired = true;
        onHung(busy.id, executing);
        return;
      }
      this.schedule(Math.min(checkEveryMs, allowed - executing + 1));
      return;
    }
    this.schedule(checkEveryMs);
  }
}
