// Cron schedules. Each tick becomes one event: the (trigger, tick time) pair is a unique key in
// schedule_runs, so with several processes exactly one of them fires each run.
// Missed ticks (the process was down or stalled): only the most recent one runs, once, when the
// scheduler next looks; older ones are skipped.
import { Cron } from "croner";
import { CRON_FORMAT } from "../shared/cron-format.js";
import type { Clock } from "../shared/clock.js";
import { PiCloudError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { EventStore } from "../store/events.js";
import { listTriggers, type ScheduleTrigger } from "../store/triggers.js";
import type { TriggerCache } from "./trigger-cache.js";

/** Validates a cron expression (see CRON_FORMAT) and time zone; returns the parsed job. */
export function parseCron(expression: string, timezone: string): Cron {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch {
    throw new PiCloudError("TRIGGER_INVALID", `Unknown time zone '${timezone}'.`);
  }
  try {
    return new Cron(expression, { timezone, paused: true });
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, "");
    const format = /space separated parts/.test(reason) ? `use ${CRON_FORMAT}` : reason;
    throw new PiCloudError("TRIGGER_INVALID", `Invalid cron expression '${expression}': ${format}.`);
  }
}

const MAX_TIMER_MS = 60 * 60_000;

interface Scheduled {
  readonly trigger: ScheduleTrigger;
  readonly cron: Cron;
  /** Ticks at or before this time have been considered. */
  checkedUntil: number;
}

export class Scheduler {
  private scheduled = new Map<string, Scheduled>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      db: Db;
      triggers: TriggerCache;
      clock: Clock;
      logger: Logger;
      /** This runtime's bus origin, for the events' NOTIFY (EventStore.insert). */
      origin?: string;
      onFired: () => void;
    },
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.deps.triggers.onChange(() => void this.reload());
    await this.reload();
  }

  /** Re-reads schedule triggers; new ones start from now, known ones keep their progress. */
  reload(): Promise<void> {
    this.reloading = (async () => {
      const triggers = await listTriggers(this.deps.db, { kind: "schedule" });
      const now = this.deps.clock.now();
      const next = new Map<string, Scheduled>();
      for (const trigger of triggers as ScheduleTrigger[]) {
        const known = this.scheduled.get(trigger.id);
        if (known) {
          next.set(trigger.id, known);
          continue;
        }
        try {
          // Looking back to the previous tick gives the one catch-up run after downtime (if it never ran).
          const cron = parseCron(trigger.cron, trigger.timezone);
          const previous = cron.previousRuns(1, new Date(now))[0]?.getTime();
          const created = Date.parse(trigger.createdAt);
          next.set(trigger.id, { trigger, cron, checkedUntil: previous !== undefined && previous > created ? previous - 1 : now });
        } catch (error) {
          this.deps.logger.error({ err: error, trigger: trigger.id }, "skipping a schedule that cannot be parsed");
        }
      }
      this.scheduled = next;
      await this.tick();
    })();
    return this.reloading;
  }

  /** Fires every schedule whose tick has come (at most one run per trigger per call), then re-arms. */
  async tick(now: number = this.deps.clock.now()): Promise<number> {
    let fired = 0;
    for (const entry of this.scheduled.values()) {
      let latest: number | undefined;
      let next = entry.cron.nextRun(new Date(entry.checkedUntil))?.getTime();
      while (next !== undefined && next <= now) {
        latest = next;
        next = entry.cron.nextRun(new Date(next))?.getTime();
      }
      entry.checkedUntil = Math.max(entry.checkedUntil, now);
      if (latest !== undefined && (await this.fire(entry.trigger, latest))) fired++;
    }
    if (fired > 0) this.deps.onFired();
    this.arm(now);
    return fired;
  }

  /** Inserts the run key and its event in one transaction; false when another process already fired it. */
  private async fire(trigger: ScheduleTrigger, at: number): Promise<boolean> {
    const scheduledAt = new Date(at).toISOString();
    try {
      return await this.deps.db.transaction(async (tx) => {
        const eventId = (
          await EventStore.insert(
            tx,
            [
              {
                app: trigger.app,
                triggerId: trigger.id,
                script: trigger.script,
                kind: "schedule",
                payloadJson: JSON.stringify({ type: "schedule", schedule: trigger.cron, timezone: trigger.timezone, scheduledAt }),
                chainDepth: 0,
                maxAttempts: trigger.maxAttempts,
                backoffMs: trigger.backoffMs,
                backoffMaxMs: trigger.backoffMaxMs,
                runAt: at,
              },
            ],
            this.deps.origin,
          )
        )[0];
        const won = await tx.query(
          "insert into schedule_runs (trigger_id, scheduled_at, event_id) values ($1, $2, $3) on conflict do nothing returning event_id",
          [trigger.id, scheduledAt, eventId],
        );
        if (won.length === 0) throw new AlreadyFired();
        return true;
      });
    } catch (error) {
      if (error instanceof AlreadyFired) return false;
      // The trigger was deleted meanwhile (foreign key), or the database is away: the next tick retries.
      this.deps.logger.warn({ err: error, trigger: trigger.id }, "could not fire a schedule");
      return false;
    }
  }

  private arm(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    let soonest: number | undefined;
    for (const entry of this.scheduled.values()) {
      const next = entry.cron.nextRun(new Date(Math.max(entry.checkedUntil, now)))?.getTime();
      if (next !== undefined && (soonest === undefined || next < soonest)) soonest = next;
    }
    if (soonest === undefined) return;
    const delay = Math.min(Math.max(0, soonest - now), MAX_TIMER_MS);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.reloading;
  }
}

/** Rolls back the event insert when another process won the run key. */
class AlreadyFired extends Error {}
