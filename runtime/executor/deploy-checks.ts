// Deploy checks (validate.ts) wait here for a worker, apart from every app's runs: a deploy is not one of
// its app's invocations, so an app saturated by its own traffic (its concurrency taken, its queue full)
// can still be deployed to, and that is when the fix for a runaway script comes. Checks have their own
// small budget per process instead: a few executing at once, a few more waiting in arrival order for a
// bounded time, and a coded OVERLOADED only when that budget stays exhausted.
import type { PiCloudError } from "../shared/errors.js";
import { overloaded } from "./admission.js";

export interface DeployCheckLimits {
  /** Checks executing at once in this process; the others wait. */
  readonly deployChecks: number;
  /** Checks waiting at once; one more is refused at once. */
  readonly deployChecksWaiting: number;
  /** How long a check may wait for a worker before it is refused. */
  readonly queueTimeoutMs: number;
}

export interface WaitingCheck {
  readonly enqueuedAt: number;
  /** Refuses the check (its wait ran out, shutdown): it never reached a worker. */
  readonly refuse: (error: PiCloudError) => void;
  timer?: NodeJS.Timeout | undefined;
}

const checks = (count: number) => `${count} deploy check${count === 1 ? "" : "s"}`;

export class DeployChecks<T extends WaitingCheck> {
  private readonly queue: T[] = [];
  private running = 0;

  constructor(
    private readonly limits: DeployCheckLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  /** True when a check may start at once: under the in-flight budget, and none waits ahead of it. */
  canStart(): boolean {
    return this.queue.length === 0 && this.running < this.limits.deployChecks;
  }

  /** True when the next waiting check may start (a worker with room is then all it needs). */
  get startable(): boolean {
    return this.queue.length > 0 && this.running < this.limits.deployChecks;
  }

  /** Counts a check that went to a worker without waiting. */
  started(): void {
    this.running++;
  }

  /** A check ended (any way). */
  finished(): void {
    this.running = Math.max(0, this.running - 1);
  }

  /** Queues a check, or throws OVERLOADED when as many wait as the budget allows. */
  enqueue(check: T): void {
    if (this.queue.length >= this.limits.deployChecksWaiting) {
      const retryAfter = this.retryAfterS();
      throw overloaded(
        `The server is running ${checks(this.running)} and ${this.queue.length} more wait, its limit for deploys checked at once; retry after ${retryAfter} s.`,
        retryAfter,
      );
    }
    this.queue.push(check);
    check.timer = setTimeout(() => {
      const at = this.queue.indexOf(check);
      if (at < 0) return;
      this.queue.splice(at, 1);
      check.refuse(
        overloaded(
          `The deploy's check waited ${this.limits.queueTimeoutMs} ms for an executor thread (${checks(this.running)} running, or every thread held by long runs); try again later.`,
          this.retryAfterS(),
        ),
      );
    }, this.limits.queueTimeoutMs);
  }

  /** The oldest waiting check, counted as running; undefined when none may start. */
  next(): T | undefined {
    if (!this.startable) return undefined;
    const head = this.queue.shift() as T;
    clearTimeout(head.timer);
    head.timer = undefined;
    this.running++;
    return head;
  }

  /** Empties the queue (shutdown): every waiting check is refused with `error`. */
  drain(error: () => PiCloudError): void {
    for (const check of this.queue.splice(0)) {
      clearTimeout(check.timer);
      check.refuse(error());
    }
  }

  /** Seconds until a refused deploy is worth retrying: about as long as the oldest waiting check has waited. */
  private retryAfterS(): number {
    const oldest = this.queue[0];
    const waitedMs = oldest ? this.now() - oldest.enqueuedAt : 0;
    return Math.min(60, Math.max(1, Math.ceil(waitedMs / 1000)));
  }
}
