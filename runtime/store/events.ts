// The event outbox and its delivery state. Every row is one delivery of one event to one script;
// rows are claimed with row locks and a lease, so any node may take any event and a node that
// dies mid-event only delays it until the lease expires.
import { newId } from "../shared/ids.js";
import type { Db, NamedStatement, Queryable } from "./db.js";
import type { InvocationError } from "./invocations.js";
import type { RetryPolicy } from "./triggers.js";

export type EventStatus = "pending" | "running" | "done" | "dead" | "failed";
export type EventKind = "kv" | "schedule" | "dead_letter";

export interface AttemptRecord {
  readonly attempt: number;
  readonly at: string;
  readonly durationMs: number;
  readonly invocation: string | null;
  readonly version: number | null;
  readonly error: InvocationError;
}

export interface EventRecord {
  readonly id: string;
  readonly app: string;
  readonly triggerId: string | null;
  readonly script: string;
  readonly kind: EventKind;
  readonly payload: Record<string, unknown>;
  readonly status: EventStatus;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  readonly chainDepth: number;
  readonly isDeadLetterHandler: boolean;
  readonly runAt: string;
  readonly leaseOwner: string | null;
  readonly errors: AttemptRecord[];
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface NewEvent extends RetryPolicy {
  readonly app: string;
  readonly triggerId: string | null;
  readonly script: string;
  readonly kind: EventKind;
  /** JSON text of ctx.event. */
  readonly payloadJson: string;
  readonly chainDepth: number;
  readonly isDeadLetterHandler?: boolean;
  readonly runAt: number;
  readonly id?: string;
}

interface EventRow extends Record<string, unknown> {
  id: string;
  app_id: string;
  trigger_id: string | null;
  script_name: string;
  kind: EventKind;
  payload: Record<string, unknown>;
  status: EventStatus;
  attempts: number;
  max_attempts: number;
  backoff_ms: number;
  backoff_max_ms: number;
  chain_depth: number;
  is_dead_letter_handler: boolean;
  run_at: Date;
  lease_owner: string | null;
  errors: AttemptRecord[];
  created_at: Date;
  finished_at: Date | null;
}

const toEvent = (r: EventRow): EventRecord => ({
  id: r.id,
  app: r.app_id,
  triggerId: r.trigger_id,
  script: r.script_name,
  kind: r.kind,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  backoffMs: r.backoff_ms,
  backoffMaxMs: r.backoff_max_ms,
  chainDepth: r.chain_depth,
  isDeadLetterHandler: r.is_dead_letter_handler,
  runAt: r.run_at.toISOString(),
  leaseOwner: r.lease_owner,
  errors: r.errors,
  createdAt: r.created_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
});

const iso = (ms: number) => new Date(ms).toISOString();

/** Byte length of a key as UTF-8, then its bytes: the order jsonb keeps an object's keys in. */
const byJsonbKey = (a: string, b: string) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A parsed JSON value with its objects' keys in jsonb's order: what reading the stored payload back gives. */
function jsonbOrdered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonbOrdered);
  if (value === null || typeof value !== "object") return value;
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(byJsonbKey)) ordered[key] = jsonbOrdered((value as Record<string, unknown>)[key]);
  return ordered;
}

/** NOTIFY channel that wakes dispatchers in every process when events are added. */
export const EVENTS_CHANNEL = "picloud_events";

/**
 * The dispatcher's statements, prepared once per connection on Postgres (db.ts: NamedStatement). Their
 * generic plans are their custom ones: lookups by id, and scans of the small partial indexes of pending
 * and running events (events_due, events_leased), whatever the parameters.
 */
const INSERT: NamedStatement = {
  name: "picloud_events_insert",
  text: `with inserted as (
         insert into events (id, app_id, trigger_id, script_name, kind, payload, status, attempts, lease_owner, lease_until,
                             max_attempts, backoff_ms, backoff_max_ms, chain_depth, is_dead_letter_handler, run_at, created_at, updated_at)
         select id, app_id, trigger_id, script_name, kind, payload, case when held then 'running' else 'pending' end,
                case when held then 1 else 0 end, case when held then $15::text end, case when held then $16::timestamptz end,
                max_attempts, backoff_ms, backoff_max_ms, chain_depth, is_dead_letter_handler, run_at, run_at, run_at
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::int[], $8::int[], $9::int[],
                     $10::int[], $11::boolean[], $12::timestamptz[], $13::boolean[])
              as e(id, app_id, trigger_id, script_name, kind, payload, max_attempts, backoff_ms, backoff_max_ms,
                   chain_depth, is_dead_letter_handler, run_at, held)
         returning id
       )
       select pg_notify($14, $17) from inserted limit 1`,
};
/**
 * A CTE that makes the statement's own transaction commit without waiting for its WAL flush (a setting local
 * to the transaction, so the connection goes back to the pool as it was). For the dispatcher's bookkeeping
 * run alone (claims, completions), never inside a caller's transaction: on this machine a synchronous commit
 * cost the backend ~200 µs of CPU and 4-9 ms of wall time (docs/architecture.md, "Events"). What a Postgres
 * crash may lose is the last few hundred ms of them: a lost claim leaves its event due (it is claimed again),
 * a lost completion leaves it running until its lease expires (it runs again: at least once, as documented).
 * A handler's own writes commit synchronously, and their flush carries every earlier claim with it.
 */
const RELAXED = "relaxed as (select set_config('synchronous_commit', 'off', true))";
const FINISH_DONE: NamedStatement = {
  name: "picloud_events_finish_done",
  text: `with ${RELAXED}
       update events set status = 'done', lease_until = null, updated_at = $3, finished_at = $3
       from unnest($1::text[], $2::int[]) as f(id, attempts)
       where events.id = f.id and events.attempts = f.attempts and events.lease_owner = $4 and events.status = 'running'
         and exists (select from relaxed)
       returning events.id`,
};
/**
 * The columns toEvent reads, named: a prepared statement's result type is fixed when it is prepared, so
 * `returning *` would fail ("cached plan must not change result type") once a migration adds a column,
 * on nodes still running the older version (docs/cluster.md: old nodes keep running).
 */
const EVENT_COLUMNS =
  "id, app_id, trigger_id, script_name, kind, payload, status, attempts, max_attempts, backoff_ms, backoff_max_ms, chain_depth, is_dead_letter_handler, run_at, lease_owner, errors, created_at, finished_at";
/**
 * Pending events and expired leases are looked up apart, each in its own partial index, so a claim reads
 * about `limit` rows whatever the backlog: one condition over both (an OR) was a bitmap scan of every due
 * event, sorted, for each claim (~1 ms of Postgres CPU per claim on a 3,000-event backlog, ~0.3 ms now;
 * docs/architecture.md, "Events"). Pending ones come in events_due's order, by run_at; the index holds no
 * id, so events with the same run_at come in the order their rows lie (mostly the order they were inserted),
 * not strictly by id. The claim takes the first `limit` of both by (run_at, id). Rows a lookup locked that
 * the claim does not take are free again when the statement ends. It commits without waiting for the
 * flush (RELAXED).
 */
export const CLAIM_DUE: NamedStatement = {
  name: "picloud_events_claim",
  text: `with ${RELAXED}, due as (
         select id, run_at from events where status = 'pending' and run_at <= $1
         order by run_at limit $4 for update skip locked
       ), expired as (
         select id, run_at from events where status = 'running' and lease_until <= $1
         order by run_at, id limit $4 for update skip locked
       )
       update events set status = 'running', attempts = attempts + 1, lease_owner = $2, lease_until = $3, updated_at = $1
       where id in (select id from (select id, run_at from due union all select id, run_at from expired) as d order by run_at, id limit $4)
         and exists (select from relaxed)
       returning ${EVENT_COLUMNS}`,
};
const NEXT_DUE: NamedStatement = {
  name: "picloud_events_next_due",
  text: `select least(
         (select min(run_at) from events where status = 'pending'),
         (select min(lease_until) from events where status = 'running')
       ) as at`,
};

/** Events an inserting node claims for itself in the insert (EventStore.insert). */
export interface InsertClaim {
  readonly owner: string;
  /** Epoch ms, on the database's clock like every lease. */
  readonly leaseUntil: number;
  /** How many of the inserted events, from the first. */
  readonly count: number;
}

export interface EventFilter {
  readonly app?: string | undefined;
  readonly script?: string | undefined;
  readonly status?: EventStatus | undefined;
  readonly before?: string | undefined;
  readonly limit?: number | undefined;
}

export class EventStore {
  constructor(private readonly db: Db) {}

  /**
   * Inserts events inside the caller's transaction (the outbox write), in one statement, and
   * notifies listeners (delivered on commit). `origin` (the inserting runtime's bus origin) is the
   * notification's payload: that runtime wakes its own dispatcher directly and ignores its own NOTIFY.
   * `claimed`: the first `count` events are inserted already claimed (first attempt, running under
   * that lease), for the inserting node to run once the transaction commits. They notify too: other
   * nodes then know of the lease, and retry the event when it expires (its holder died).
   */
  static async insert(q: Queryable, events: readonly NewEvent[], origin = "", claimed?: InsertClaim): Promise<string[]> {
    if (events.length === 0) return [];
    const ids = events.map((event) => event.id ?? newId(event.runAt));
    const column = <T>(pick: (e: NewEvent) => T) => events.map(pick);
    const held = (i: number) => claimed !== undefined && i < claimed.count;
    await q.query(INSERT, [
      ids,
      column((e) => e.app),
      column((e) => e.triggerId),
      column((e) => e.script),
      column((e) => e.kind),
      column((e) => e.payloadJson),
      column((e) => e.maxAttempts),
      column((e) => e.backoffMs),
      column((e) => e.backoffMaxMs),
      column((e) => e.chainDepth),
      column((e) => e.isDeadLetterHandler ?? false),
      column((e) => iso(e.runAt)),
      events.map((_, i) => held(i)),
      EVENTS_CHANNEL,
      claimed?.owner ?? null,
      claimed ? iso(claimed.leaseUntil) : null,
      origin,
    ]);
    return ids;
  }

  /** What insert(…, claimed) stored for one of the events it claimed, as claimDue would have returned it. */
  static claimedRecord(event: NewEvent, id: string, claimed: InsertClaim): EventRecord {
    return {
      id,
      app: event.app,
      triggerId: event.triggerId,
      script: event.script,
      kind: event.kind,
      payload: jsonbOrdered(JSON.parse(event.payloadJson)) as Record<string, unknown>,
      status: "running",
      attempts: 1,
      maxAttempts: event.maxAttempts,
      backoffMs: event.backoffMs,
      backoffMaxMs: event.backoffMaxMs,
      chainDepth: event.chainDepth,
      isDeadLetterHandler: event.isDeadLetterHandler ?? false,
      runAt: iso(event.runAt),
      leaseOwner: claimed.owner,
      errors: [],
      createdAt: iso(event.runAt),
      finishedAt: null,
    };
  }

  /** Marks several successfully handled events done in one statement; returns the ids this node still held. */
  async finishDone(events: readonly EventRecord[], owner: string, now: number): Promise<Set<string>> {
    const rows = await this.db.query<{ id: string }>(FINISH_DONE, [
      events.map((e) => e.id),
      events.map((e) => e.attempts),
      iso(now),
      owner,
    ]);
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Claims up to `limit` due events: pending ones whose time has come, and running ones whose
   * lease expired (their node died). SKIP LOCKED lets several nodes claim side by side.
   */
  async claimDue(options: { now: number; owner: string; leaseMs: number; limit: number }): Promise<EventRecord[]> {
    const rows = await this.db.query<EventRow>(CLAIM_DUE, [
      iso(options.now),
      options.owner,
      iso(options.now + options.leaseMs),
      options.limit,
    ]);
    return rows.map(toEvent).sort((a, b) => (a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /**
   * Records the outcome of an attempt, only if this node still holds the lease for it
   * (fencing: a node whose lease expired must not overwrite the newer holder's state).
   * `next` is the next due time for a retry, or the final status.
   */
  async finishAttempt(
    q: Queryable,
    event: EventRecord,
    owner: string,
    now: number,
    outcome:
      | { status: "done" }
      | { status: "pending"; runAt: number; attempt: AttemptRecord }
      | { status: "dead" | "failed"; attempt: AttemptRecord },
  ): Promise<boolean> {
    const attempt = "attempt" in outcome ? JSON.stringify([outcome.attempt]) : "[]";
    const runAt = outcome.status === "pending" ? iso(outcome.runAt) : null;
    const rows = await q.query(
      `update events set status = $4, errors = errors || $5::jsonb, run_at = coalesce($6::timestamptz, run_at),
              lease_until = null, updated_at = $7, finished_at = case when $4 = 'pending' then null else $7::timestamptz end
       where id = $1 and lease_owner = $2 and attempts = $3 and status = 'running'
       returning id`,
      [event.id, owner, event.attempts, outcome.status, attempt, runAt, iso(now)],
    );
    return rows.length > 0;
  }

  /**
   * Makes every claimed event due again at once. Only for a database no other process can use
   * (embedded PGlite behind its lock file): the previous holder of those leases is known dead.
   */
  /** A draining node gives events it still holds back at once, instead of letting their leases run out. */
  /**
   * Gives this node's unfinished events back to the queue, and tells every listening process (one
   * NOTIFY per transaction, delivered on commit): another node takes them now, not when their lease
   * would have run out. `origin` names this process, which ignores its own notification.
   */
  async handBack(ids: readonly string[], owner: string, now: number, origin = ""): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.db.query(
      `with handed as (
         update events set status = 'pending', run_at = $3, lease_until = null, lease_owner = null
         where id = any($1) and lease_owner = $2 and status = 'running' returning id
       )
       select id, pg_notify($4, $5) from handed`,
      [ids, owner, iso(now), EVENTS_CHANNEL, origin],
    );
    return rows.length;
  }

  async releaseAllLeases(now: number): Promise<number> {
    const rows = await this.db.query(
      "update events set status = 'pending', run_at = $1, lease_until = null, lease_owner = null where status = 'running' returning id",
      [iso(now)],
    );
    return rows.length;
  }

  /** Extends this node's lease on a running event (for scripts whose wall-time limit outlasts the default lease). */
  async extendLease(event: EventRecord, owner: string, until: number): Promise<boolean> {
    const rows = await this.db.query(
      "update events set lease_until = greatest(lease_until, $4) where id = $1 and lease_owner = $2 and attempts = $3 and status = 'running' returning id",
      [event.id, owner, event.attempts, iso(until)],
    );
    return rows.length > 0;
  }

  /** The earliest moment something becomes due: a pending event's time or a lease's expiry. */
  async nextDueAt(): Promise<number | null> {
    const rows = await this.db.query<{ at: Date | null }>(NEXT_DUE);
    return rows[0]?.at ? rows[0].at.getTime() : null;
  }

  async list(filter: EventFilter = {}): Promise<EventRecord[]> {
    const rows = await this.db.query<EventRow>(
      `select * from events
       where ($1::text is null or app_id = $1) and ($2::text is null or script_name = $2)
         and ($3::text is null or status = $3) and ($4::text is null or id < $4)
       order by id desc limit $5`,
      [filter.app ?? null, filter.script ?? null, filter.status ?? null, filter.before ?? null, filter.limit ?? 50],
    );
    return rows.map(toEvent);
  }

  async get(id: string): Promise<EventRecord | undefined> {
    const rows = await this.db.query<EventRow>("select * from events where id = $1", [id]);
    return rows[0] && toEvent(rows[0]);
  }

  async counts(app?: string): Promise<Record<EventStatus, number>> {
    const rows = await this.db.query<{ status: EventStatus; n: number }>(
      "select status, count(*)::int as n from events where ($1::text is null or app_id = $1) group by status",
      [app ?? null],
    );
    const counts: Record<EventStatus, number> = { pending: 0, running: 0, done: 0, dead: 0, failed: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  /** Finished events are history: keep at most `maxCount` and none older than `maxAgeMs`. */
  async prune(options: { maxCount: number; maxAgeMs: number; now: number }): Promise<number> {
    const byAge = await this.db.query("delete from events where status in ('done', 'dead', 'failed') and finished_at < $1 returning 1", [
      iso(options.now - options.maxAgeMs),
    ]);
    const byCount = await this.db.query(
      `delete from events where status in ('done', 'dead', 'failed') and id < (
         select id from events where status in ('done', 'dead', 'failed') order by id desc offset $1 limit 1
       ) returning 1`,
      [options.maxCount - 1],
    );
    return byAge.length + byCount.length;
  }
}
