// Delivers events to their scripts: at least once, with retries and backoff, then dead letters.
// It never polls: it wakes on an in-process signal after a commit, on Postgres NOTIFY (another
// process's writes), and on one timer set to the next due retry or expiring lease.
import { PiCloudError } from "../shared/errors.js";
import type { Clock } from "../shared/clock.js";
import { newId } from "../shared/ids.js";
import type { Logger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { DeadLetterStore } from "../store/dead-letters.js";
import { type AttemptRecord, type EventRecord, EventStore, type InsertClaim } from "../store/events.js";
import type { InvocationError } from "../store/invocations.js";
import { EVENTS_CHANNEL } from "../store/events.js";
import type { EventHandoff } from "../store/event-outbox.js";
import type { Invoker } from "./invoker.js";
import { backoffDelay } from "./retry-policy.js";
import type { ScriptCache } from "./script-cache.js";
import type { TriggerCache } from "./trigger-cache.js";

/** Time a lease outlasts the longest possible run: room for recording the outcome. */
const LEASE_MARGIN_MS = 5_000;

export interface DispatcherOptions {
  /** Names this process in leases. */
  readonly nodeId: string;
  /** How long a claimed event belongs to this node; must exceed the longest wall-time limit. */
  readonly leaseMs: number;
  /** Events handled at once by this process. */
  readonly concurrency: number;
  /** Only this process uses the database (embedded PGlite): events left running by a crash are retried at start. */
  readonly exclusive: boolean;
  /** Longest sleep between wake-ups when nothing is due (a safety net, not a poll). */
  readonly maxSleepMs: number;
}

export interface EventChange {
  readonly event: EventRecord;
  readonly status: EventRecord["status"];
  readonly deadLetterId?: string;
}

export class Dispatcher implements EventHandoff {
  private readonly events: EventStore;
  private active = 0;
  /** Room promised to this process's own writes whose events are inserted claimed (reserve), not yet adopted. */
  private reserved = 0;
  /** The limit of the claim query under way: room it may fill when it answers. */
  private claiming = 0;
  private pumping: Promise<void> | undefined;
  private again = false;
  /** The last claim stopped at capacity: due events may be waiting, so a finished delivery claims again. */
  private saturated = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (epoch ms). */
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = true;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Events this process holds a lease on right now. */
  private readonly held = new Set<string>();
  /** Events claimed since start (for the node's load report). */
  claimedTotal = 0;
  private readonly listeners = new Set<(change: EventChange) => void>();
  private readonly completions: CompletionBatch;

  constructor(
    private readonly deps: {
      db: Db;
      scripts: ScriptCache;
      triggers: TriggerCache;
      invoker: Invoker;
      clock: Clock;
      logger: Logger;
      /**
       * This runtime's bus origin. Events this runtime inserts wake its dispatcher directly
       * ("events.due"); their NOTIFY carries this origin and is ignored here.
       */
      origin?: string;
      random?: () => number;
    },
    private readonly options: DispatcherOptions,
  ) {
    this.events = new EventStore(deps.db);
    this.completions = new CompletionBatch((events) => this.events.finishDone(events, this.options.nodeId, this.deps.clock.now()));
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (this.options.exclusive) {
      const released = await this.events.releaseAllLeases(this.deps.clock.now());
      if (released > 0) this.deps.logger.warn({ released }, "retrying events left running by a previous process");
    }
    this.unlisten = await this.deps.db.listen(EVENTS_CHANNEL, (origin) => {
      if (origin !== this.deps.origin) this.wake();
    });
    this.wake();
  }

  /** Live subscribers (the event stream) see every state change this process makes. */
  subscribe(listener: (change: EventChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Something may be due: claim it soon. Cheap and idempotent; wake-ups coalesce. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Delivers everything that is due now, waiting for it to finish (tests drive this with a fake clock). */
  async drain(): Promise<void> {
    for (;;) {
      // A wake-up may be claiming right now: let it finish so its deliveries are tracked.
      await this.pumping;
      await this.pump();
      await this.pumping;
      if (this.inFlight.size > 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      const next = await this.events.nextDueAt();
      if (next === null || next > this.deps.clock.now()) return;
    }
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped) {
        const capacity = this.options.concurrency - this.active - this.reserved;
        if (capacity <= 0) {
          this.saturated = true; // a finishing delivery wakes us again
          return;
        }
        this.claiming = capacity;
        let claimed: EventRecord[];
        try {
          claimed = await this.events.claimDue({
            now: this.deps.clock.now(),
            owner: this.options.nodeId,
            leaseMs: this.options.leaseMs,
            limit: capacity,
          });
        } finally {
          this.claiming = 0;
        }
        this.claimedTotal += claimed.length;
        for (const event of claimed) this.track(event.id, this.deliver(event));
        if (claimed.length < capacity) break;
      }
      await this.arm();
    } catch (error) {
      this.deps.logger.error({ err: error }, "event dispatch failed; retrying shortly");
      void this.arm(1_000);
    }
  }

  /**
   * Events this process's own writes trigger are inserted claimed by this dispatcher when it has room
   * (event-outbox.ts): on commit they run at once, without a claim query or a wake-up. A stopping
   * dispatcher takes none.
   */
  reserve(count: number): InsertClaim | undefined {
    if (this.stopped) return undefined;
    const room = Math.min(count, this.options.concurrency - this.active - this.reserved - this.claiming);
    if (room <= 0) return undefined;
    this.reserved += room;
    return { owner: this.options.nodeId, leaseUntil: this.deps.clock.now() + this.options.leaseMs, count: room };
  }

  release(claim: InsertClaim): void {
    this.reserved -= claim.count;
    // A claim that stopped for lack of this room must look again: nothing else may wake it.
    if (this.saturated) {
      this.saturated = false;
      this.wake();
    }
  }

  adopt(claim: InsertClaim, events: EventRecord[]): void {
    this.reserved -= claim.count;
    if (this.stopped) {
      // Stopped between the insert and its commit: give them back to the queue at once.
      void this.events
        .handBack(
          events.map((e) => e.id),
          this.options.nodeId,
          this.deps.clock.now(),
          this.deps.origin,
        )
        .catch((error: unknown) => this.deps.logger.error({ err: error }, "could not hand back events"));
      return;
    }
    this.claimedTotal += events.length;
    for (const event of events) this.track(event.id, this.deliver(event));
    // As after a claim: the timer covers these leases (a completion that cannot be recorded is retried when they expire).
    this.armAt(claim.leaseUntil);
  }

  private track(id: string, delivery: Promise<void>): void {
    this.active++;
    this.inFlight.add(delivery);
    this.held.add(id);
    void delivery.finally(() => {
      this.active--;
      this.inFlight.delete(delivery);
      this.held.delete(id);
      // Only a dispatcher that left due events unclaimed for lack of room needs to look again; new
      // events wake it themselves, and a retry this delivery scheduled armed the timer (settle).
      if (this.saturated) {
        this.saturated = false;
        this.wake();
      }
    });
  }

  /** One timer, set to the next due retry or lease expiry. */
  private async arm(fixedDelayMs?: number): Promise<void> {
    if (this.stopped) return;
    const next = fixedDelayMs === undefined ? await this.events.nextDueAt() : this.deps.clock.now() + fixedDelayMs;
    // Only ever earlier: a retry armed while the query ran (armAt) is newer than its answer. A timer
    // left for an earlier time than needed costs one early wake-up, which arms again.
    if (next !== null) this.armAt(next);
  }

  /** Makes sure the timer fires by `at`; never moves it later (a retry this process just scheduled needs no query). */
  private armAt(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, at - this.deps.clock.now()), this.options.maxSleepMs);
    this.timerAt = this.deps.clock.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, delay);
    this.timer.unref();
  }

  private emit(change: EventChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private async deliver(event: EventRecord): Promise<void> {
    const startedAt = this.deps.clock.now();
    let error: InvocationError | null = null;
    let invocation: string | null = null;
    let version: number | null = null;
    try {
      this.emit({ event, status: "running" });
      const target = await this.deps.scripts.get(event.app, event.script);
      if (!target) {
        error = { code: "SCRIPT_NOT_FOUND", message: `No script '${event.script}' in app '${event.app}'.` };
      } else {
        // The lease must outlast the run, or another node could start the same attempt meanwhile.
        const needed = target.limits.wallMs + LEASE_MARGIN_MS;
        if (needed > this.options.leaseMs) await this.events.extendLease(event, this.options.nodeId, this.deps.clock.now() + needed);
        const result = await this.deps.invoker
          .run(target, {
            trigger: event.kind,
            event: event.payload,
            attempt: event.attempts,
            eventId: event.id,
            chainDepth: event.chainDepth,
            isDeadLetterHandler: event.isDeadLetterHandler,
          })
          .catch((failure: unknown) => {
            // The executor's queue is full: a failed attempt, retried with backoff like any other.
            if (failure instanceof PiCloudError && failure.code === "OVERLOADED") return failure;
            throw failure;
          });
        if (result instanceof PiCloudError) {
          error = { code: result.code, message: result.message };
        } else {
          invocation = result.id;
          version = result.version;
          if (!result.outcome.ok) error = result.outcome.error;
        }
      }
      await this.settle(event, startedAt, { error, invocation, version });
    } catch (failure) {
      // The database is unreachable or similar: the lease expires and the event is retried then.
      this.deps.logger.error({ err: failure, event: event.id }, "could not record an event's outcome");
    }
  }

  private async settle(
    event: EventRecord,
    startedAt: number,
    result: { error: InvocationError | null; invocation: string | null; version: number | null },
  ): Promise<void> {
    const now = this.deps.clock.now();
    const owner = this.options.nodeId;
    const { db } = this.deps;
    if (!result.error) {
      const applied = event.isDeadLetterHandler
        ? await db.transaction(async (tx) => {
            const ok = await this.events.finishAttempt(tx, event, owner, now, { status: "done" });
            if (ok) await DeadLetterStore.setHandlerStatus(tx, String(event.payload.deadLetterId), "ok");
            return ok;
          })
        : await this.completions.done(event);
      if (applied) this.emit({ event, status: "done" });
      return;
    }
    const { stack: _stack, ...errorData } = result.error;
    const attempt: AttemptRecord = {
      attempt: event.attempts,
      at: new Date(startedAt).toISOString(),
      durationMs: now - startedAt,
      invocation: result.invocation,
      version: result.version,
      error: errorData,
    };
    const retriable = result.error.retriable !== false;
    if (retriable && event.attempts < event.maxAttempts) {
      const runAt = now + backoffDelay(event, event.attempts + 1, this.deps.random);
      if (await this.events.finishAttempt(db, event, owner, now, { status: "pending", runAt, attempt })) {
        this.emit({ event, status: "pending" });
        this.armAt(runAt);
      }
      return;
    }
    if (event.isDeadLetterHandler) {
      // A failing dead-letter handler is recorded, and never produces another dead letter.
      const applied = await db.transaction(async (tx) => {
        const ok = await this.events.finishAttempt(tx, event, owner, now, { status: "failed", attempt });
        if (ok) await DeadLetterStore.setHandlerStatus(tx, String(event.payload.deadLetterId), "failed");
        return ok;
      });
      if (applied) this.emit({ event, status: "failed" });
      return;
    }
    const handler = await this.deps.triggers.deadLetterHandler(event.app, event.script);
    const deadLetterId = newId(now);
    const attempts = [...event.errors, attempt];
    const applied = await db.transaction(async (tx) => {
      if (!(await this.events.finishAttempt(tx, event, owner, now, { status: "dead", attempt }))) return false;
      await DeadLetterStore.insert(tx, deadLetterId, event, attempts, handler ? "pending" : null, now);
      if (handler) {
        const payload = {
          type: "dead_letter",
          deadLetterId,
          eventId: event.id,
          script: event.script,
          version: result.version,
          event: event.payload,
          attempts: attempts.map((a) => ({ attempt: a.attempt, at: a.at, error: a.error })),
          firstAttemptAt: attempts[0]?.at ?? null,
          deadAt: new Date(now).toISOString(),
        };
        await EventStore.insert(
          tx,
          [
            {
              app: event.app,
              triggerId: handler.id,
              script: handler.script,
              kind: "dead_letter",
              payloadJson: JSON.stringify(payload),
              chainDepth: event.chainDepth,
              isDeadLetterHandler: true,
              maxAttempts: handler.maxAttempts,
              backoffMs: handler.backoffMs,
              backoffMaxMs: handler.backoffMaxMs,
              runAt: now,
            },
          ],
          this.deps.origin,
        );
      }
      return true;
    });
    if (applied) {
      this.emit({ event, status: "dead", deadLetterId });
      if (handler) this.wake();
    }
  }

  /**
   * SIGTERM: stop claiming, let deliveries finish for up to `timeoutMs`, then hand the events still
   * held back to the queue at once (another node takes them now, not after the lease). Returns how
   * many were handed back.
   */
  async drainAndStop(timeoutMs: number): Promise<number> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unlisten?.();
    await this.pumping;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (finished) return 0;
    const handedBack = await this.events.handBack([...this.held], this.options.nodeId, this.deps.clock.now(), this.deps.origin);
    if (handedBack > 0) this.deps.logger.warn({ handedBack }, "drain timeout: handed unfinished events back");
    return handedBack;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unlisten?.();
    await this.pumping;
    await Promise.allSettled([...this.inFlight]);
  }
}

/**
 * Successful deliveries are marked done in batches, one statement (and one commit) each, with one batch in
 * flight at a time: those finishing while a batch commits go together in the next, so under load a commit's
 * wait gathers the next batch (group commit, no timer); at low load a lone completion goes at the next turn.
 */
class CompletionBatch {
  private pending: { event: EventRecord; resolve: (applied: boolean) => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly flushBatch: (events: EventRecord[]) => Promise<Set<string>>) {}

  done(event: EventRecord): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ event, resolve, reject }) === 1 && !this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flushing = true;
    try {
      const applied = await this.flushBatch(batch.map((item) => item.event));
      for (const item of batch) item.resolve(applied.has(item.event.id));
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) setImmediate(() => void this.flush());
    }
  }
}
