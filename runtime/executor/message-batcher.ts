// Coalesces the messages one event-loop turn produces into a single postMessage: under load this
// turns one cross-thread wake-up per invocation into one per turn. The two messages every run sends
// (an invocation, a plain result) travel packed: their fields appended to one flat array of strings
// and numbers, which structured clone writes and reads much faster than an object per message (no
// property names, no shape to rebuild on the other side). Everything else goes as objects.

/** A field of a packed message. */
export type Packed = string | number | undefined;

/** What one postMessage carries: the packed messages' fields in a row, then the other messages. */
export type Batch<T> = [packed: Packed[], messages: T[]];

export class MessageBatcher<T> {
  private packed: Packed[] = [];
  private messages: T[] = [];
  private scheduled = false;

  constructor(private readonly post: (batch: Batch<T>) => void) {}

  send(message: T): void {
    this.messages.push(message);
    this.schedule();
  }

  /** The packed fields of this turn, to push one message's fields onto (in the order protocol.ts gives). */
  pack(): Packed[] {
    this.schedule();
    return this.packed;
  }

  /** Sends what is pending now (e.g. before the thread blocks for a while). */
  flushNow(): void {
    this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const { packed, messages } = this;
    if (packed.length === 0 && messages.length === 0) return;
    this.packed = [];
    this.messages = [];
    this.post([packed, messages]);
  };
}
