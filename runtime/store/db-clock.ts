// The database's clock, read locally: leases, due times and heartbeats are compared with `now()`
// on the database, so every node must compute them on that clock, not its own. The offset is
// measured at start and refreshed by every heartbeat (half the round trip is the error bound).
import type { Clock } from "../shared/clock.js";
import type { Queryable } from "./db.js";

export class DbClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** `dbNow` was read by a statement sent at `sentAt` and answered at `receivedAt` (local ms). */
  observe(dbNow: number, sentAt: number, receivedAt: number): void {
    this.offsetMs = dbNow - (sentAt + receivedAt) / 2;
  }

  async sync(db: Queryable): Promise<void> {
    const sentAt = Date.now();
    const rows = await db.query<{ now: Date }>("select now() as now");
    const receivedAt = Date.now();
    if (rows[0]) this.observe(new Date(rows[0].now).getTime(), sentAt, receivedAt);
  }

  get offset(): number {
    return this.offsetMs;
  }
}
