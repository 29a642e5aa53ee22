// Coalesces the messages one event-loop turn produces into a single postMessage: under load this
// turns one cross-thread wake-up per invocation into one per turn.
export class MessageBatcher<T> {
  private pending: T[] = [];
  private scheduled = false;

  constructor(private readonly post: (batch: T[]) => void) {}

  send(message: T): void {
    this.pending.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Sends what is pending now (e.g. before the thread blocks for a while). */
  flushNow(): void {
    this.flush();
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.post(batch);
  };
}
