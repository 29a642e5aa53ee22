// Admission: invocations wait here, on the main thread, until a worker has room for them. The
// queue is bounded per app and per node, and by time; what does not fit is refused at once with
// OVERLOADED, so an overload costs one cheap answer, never a hung worker. The app with the fewest
// runs in flight goes first (round robin on a tie), so one app's backlog delays another app's
// request by at most until the next run on any thread ends.
import { PiCloudError } from "../shared/errors.js";

export interface AdmissionLimits {
  /** Invocations queued on this node, all apps together. */
  readonly queueLimit: number;
  /** How long an invocation may wait for a worker before it is refused. */
  readonly queueTimeoutMs: number;
}

/** One app's share of the node, from its effective limits. */
export interface AppShare {
  /** Invocations of the app running at once on this node. */
  readonly concurrency: number;
  /** Invocations of the app waiting on this node. */
  readonly queue: number;
}

export interface Waiting {
  readonly app: string;
  readonly share: AppShare;
  readonly enqueuedAt: number;
  /** Refuses the invocation (queue timeout, shutdown): it never reached a worker. */
  readonly refuse: (error: PiCloudError) => void;
  timer?: NodeJS.Timeout | undefined;
}

interface AppState {
  running: number;
  readonly waiting: Waiting[];
}

export function overloaded(message: string, retryAfterS: number): PiCloudError {
  return new PiCloudError("OVERLOADED", message, { details: { retryAfter: retryAfterS } });
}

const invocations = (count: number) => `${count} invocation${count === 1 ? "" : "s"}`;

/**
 * The refusal when an app's own queue is full: its limits (what the caller can change), what it was
 * doing (running may be below its concurrency when the node's executors are all busy) and when to retry.
 */
function appQueueFull(app: string, share: AppShare, state: AppState, retryAfterS: number): string {
  const queues = share.queue === 0 ? "queues none" : `queues at most ${share.queue}`;
  return (
    `App '${app}' runs at most ${invocations(share.concurrency)} at a time and ${queues} (its concurrency and queue limits): ` +
    `${state.running} running, ${state.waiting.length} waiting; retry after ${retryAfterS} s.`
  );
}

/** Why an invocation was refused: its app's queue was full, the node's queue was full, or it waited too long. */
export type RefusalReason = "app_queue_full" | "queue_full" | "queue_timeout";

/** Refusals since start, per app and reason (read by /metrics when scraped). */
export interface Refusals {
  readonly app: string;
  readonly reason: RefusalReason;
  readonly count: number;
}

export class Admission<T extends Waiting> {
  private readonly apps = new Map<string, AppState>();
  /** Apps with waiting invocations, in turn order. */
  private readonly turns: string[] = [];
  private queued = 0;
  /** Refusals since start, keyed by app then reason: a refusal costs one map update, nothing on the admitted path. */
  private readonly refused = new Map<string, Map<RefusalReason, number>>();

  constructor(
    private readonly limits: AdmissionLimits,
    /** Seconds a refused caller should wait before retrying (the pool's estimate of the backlog). */
    private readonly retryAfterS: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.queued;
  }

  running(app: string): number {
    return this.apps.get(app)?.running ?? 0;
  }

  /** True when the app may start another run now (no one of its own is ahead of it). */
  canStart(app: string, share: AppShare): boolean {
    const state = this.apps.get(app);
    return !state || (state.waiting.length === 0 && state.running < share.concurrency);
  }

  /** Counts a run that bypassed the queue (a worker had room and nothing was waiting). */
  started(app: string): void {
    this.state(app).running++;
  }

  /** A run ended (any way): frees its app's slot. */
  finished(app: string): void {
    const state = this.apps.get(app);
    if (!state) return;
    state.running--;
    if (state.running <= 0 && state.waiting.length === 0) this.apps.delete(app);
  }

  /** Queues an invocation, or throws OVERLOADED when the app's or the node's queue is full. */
  enqueue(entry: T): void {
    const state = this.state(entry.app);
    if (state.waiting.length >= entry.share.queue) {
      this.forgetIfIdle(entry.app, state);
      this.countRefusal(entry.app, "app_queue_full");
      const retryAfter = this.retryAfterS();
      throw overloaded(appQueueFull(entry.app, entry.share, state, retryAfter), retryAfter);
    }
    if (this.queued >= this.limits.queueLimit) {
      this.forgetIfIdle(entry.app, state);
      this.countRefusal(entry.app, "queue_full");
      const retryAfter = this.retryAfterS();
      throw overloaded(
        `The server has ${this.queued} invocations waiting for an executor, its queue limit; retry after ${retryAfter} s.`,
        retryAfter,
      );
    }
    if (state.waiting.length === 0) this.turns.push(entry.app);
    state.waiting.push(entry);
    this.queued++;
    entry.timer = setTimeout(() => {
      if (!this.remove(entry)) return;
      this.countRefusal(entry.app, "queue_timeout");
      entry.refuse(
        overloaded(`The invocation waited ${this.limits.queueTimeoutMs} ms for a free executor; try again later.`, this.retryAfterS()),
      );
    }, this.limits.queueTimeoutMs);
  }

  /**
   * The next invocation to run: from the app with the fewest runs in flight (an app that is
   * running nothing goes before one that keeps the threads busy), taking apps in turn on a tie.
   * Undefined when no waiting app may start another run. `eligible` limits the choice to apps whose
   * next invocation passes it (each app's own order holds).
   */
  next(eligible?: (head: T) => boolean): T | undefined {
    const chosen = this.choose(eligible);
    if (chosen < 0) return undefined;
    const app = this.turns.splice(chosen, 1)[0] as string;
    const state = this.apps.get(app) as AppState;
    const head = state.waiting.shift() as T;
    this.queued--;
    clearTimeout(head.timer);
    head.timer = undefined;
    state.running++;
    if (state.waiting.length > 0) this.turns.push(app);
    return head;
  }

  /** True when `next(eligible)` would return an invocation. */
  waiting(eligible: (head: T) => boolean): boolean {
    return this.choose(eligible) >= 0;
  }

  private choose(eligible: ((head: T) => boolean) | undefined): number {
    let chosen = -1;
    let fewest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.turns.length; i++) {
      const state = this.apps.get(this.turns[i] as string) as AppState;
      const head = state.waiting[0] as T;
      if (state.running < head.share.concurrency && state.running < fewest && (!eligible || eligible(head))) {
        chosen = i;
        fewest = state.running;
        if (fewest === 0) break;
      }
    }
    return chosen;
  }

  /** Empties the queue (shutdown): every waiting invocation is refused with `error`. */
  drain(error: () => PiCloudError): void {
    for (const [, state] of this.apps) {
      for (const entry of state.waiting.splice(0)) {
        clearTimeout(entry.timer);
        entry.refuse(error());
      }
    }
    this.turns.length = 0;
    this.queued = 0;
  }

  /** How long the oldest waiting invocation has waited, in ms (0 when none waits). */
  oldestWaitMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const app of this.turns) oldest = Math.min(oldest, this.apps.get(app)?.waiting[0]?.enqueuedAt ?? oldest);
    return oldest === Number.POSITIVE_INFINITY ? 0 : this.now() - oldest;
  }

  /** OVERLOADED refusals since start, per app and reason. */
  refusals(): Refusals[] {
    const out: Refusals[] = [];
    for (const [app, reasons] of this.refused) for (const [reason, count] of reasons) out.push({ app, reason, count });
    return out;
  }

  private countRefusal(app: string, reason: RefusalReason): void {
    let reasons = this.refused.get(app);
    if (!reasons) {
      reasons = new Map();
      this.refused.set(app, reasons);
    }
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }

  private remove(entry: T): boolean {
    const state = this.apps.get(entry.app);
    const at = state ? state.waiting.indexOf(entry) : -1;
    if (!state || at < 0) return false;
    state.waiting.splice(at, 1);
    this.queued--;
    if (state.waiting.length === 0) {
      this.turns.splice(this.turns.indexOf(entry.app), 1);
      this.forgetIfIdle(entry.app, state);
    }
    return true;
  }

  private state(app: string): AppState {
    let state = this.apps.get(app);
    if (!state) {
      state = { running: 0, waiting: [] };
      this.apps.set(app, state);
    }
    return state;
  }

  private forgetIfIdle(app: string, state: AppState): void {
    if (state.running <= 0 && state.waiting.length === 0) this.apps.delete(app);
  }
}
