// Event queue figures for /metrics: events by status, pending retries and dead letters.
import type { Queryable } from "./db.js";

export interface EventCounts {
  readonly byStatus: Readonly<Record<string, number>>;
  /** Pending events that already failed at least once: waiting for their retry. */
  readonly retrying: number;
  readonly deadLetters: number;
}

export async function eventCounts(q: Queryable): Promise<EventCounts> {
  const rows = await q.query<{ status: string; n: number; retrying: number }>(
    `select status, count(*)::int as n, (count(*) filter (where attempts > 0))::int as retrying
     from events where status <> 'done' group by status`,
  );
  const [dead] = await q.query<{ n: number }>("select count(*)::int as n from dead_letters");
  const byStatus: Record<string, number> = { pending: 0, running: 0, dead: 0, failed: 0 };
  for (const row of rows) byStatus[row.status] = row.n;
  return { byStatus, retrying: rows.find((r) => r.status === "pending")?.retrying ?? 0, deadLetters: dead?.n ?? 0 };
}
