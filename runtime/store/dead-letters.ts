// Dead letters: events that failed for good, with every attempt, kept until replayed or deleted.
import type { Db, Queryable } from "./db.js";
import type { AttemptRecord, EventKind, EventRecord } from "./events.js";

export interface DeadLetter {
  readonly id: string;
  readonly app: string;
  readonly eventId: string;
  readonly triggerId: string | null;
  readonly script: string;
  readonly version: number | null;
  readonly kind: EventKind;
  /** The original event (what the script saw as ctx.event). */
  readonly event: Record<string, unknown>;
  readonly attempts: AttemptRecord[];
  readonly chainDepth: number;
  readonly firstAttemptAt: string | null;
  readonly createdAt: string;
  /** What the dead-letter handler did with it: null when there is none (yet). */
  readonly handlerStatus: "pending" | "ok" | "failed" | null;
}

interface DeadLetterRow extends Record<string, unknown> {
  id: string;
  app_id: string;
  event_id: string;
  trigger_id: string | null;
  script_name: string;
  version: number | null;
  kind: EventKind;
  payload: Record<string, unknown>;
  attempts: AttemptRecord[];
  chain_depth: number;
  first_attempt_at: Date | null;
  created_at: Date;
  handler_status: DeadLetter["handlerStatus"];
}

const toDeadLetter = (r: DeadLetterRow): DeadLetter => ({
  id: r.id,
  app: r.app_id,
  eventId: r.event_id,
  triggerId: r.trigger_id,
  script: r.script_name,
  version: r.version,
  kind: r.kind,
  event: r.payload,
  attempts: r.attempts,
  chainDepth: r.chain_depth,
  firstAttemptAt: r.first_attempt_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
  handlerStatus: r.handler_status,
});

export interface DeadLetterFilter {
  readonly app?: string | undefined;
  readonly script?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly before?: string | undefined;
  readonly limit?: number | undefined;
}

export class DeadLetterStore {
  constructor(private readonly db: Db) {}

  /** Written in the same transaction that marks the event dead. */
  static async insert(
    q: Queryable,
    id: string,
    event: EventRecord,
    attempts: AttemptRecord[],
    handlerStatus: DeadLetter["handlerStatus"],
    now: number,
  ): Promise<void> {
    await q.query(
      `insert into dead_letters (id, app_id, event_id, trigger_id, script_name, version, kind, payload, attempts, chain_depth,
                                 first_attempt_at, created_at, handler_status)
       values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13)`,
      [
        id,
        event.app,
        event.id,
        event.triggerId,
        event.script,
        attempts.at(-1)?.version ?? null,
        event.kind,
        JSON.stringify(event.payload),
        JSON.stringify(attempts),
        event.chainDepth,
        attempts[0]?.at ?? null,
        new Date(now).toISOString(),
        handlerStatus,
      ],
    );
  }

  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const rows = await this.db.query<DeadLetterRow>(
      `select * from dead_letters
       where ($1::text is null or app_id = $1) and ($2::text is null or script_name = $2)
         and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4)
         and ($5::text is null or id < $5)
       order by id desc limit $6`,
      [filter.app ?? null, filter.script ?? null, filter.since ?? null, filter.until ?? null, filter.before ?? null, filter.limit ?? 50],
    );
    return rows.map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const rows = await this.db.query<DeadLetterRow>("select * from dead_letters where id = $1", [id]);
    return rows[0] && toDeadLetter(rows[0]);
  }

  async count(app?: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>("select count(*)::int as n from dead_letters where ($1::text is null or app_id = $1)", [
      app ?? null,
    ]);
    return rows[0]?.n ?? 0;
  }

  static async setHandlerStatus(q: Queryable, deadLetterId: string, status: "ok" | "failed"): Promise<void> {
    await q.query("update dead_letters set handler_status = $2 where id = $1", [deadLetterId, status]);
  }

  /** Removes and returns dead letters (for replay or deletion), atomically. */
  static async take(q: Queryable, ids: readonly string[]): Promise<DeadLetter[]> {
    const rows = await q.query<DeadLetterRow>("delete from dead_letters where id = any($1::text[]) returning *", [ids]);
    return rows.map(toDeadLetter);
  }
}
