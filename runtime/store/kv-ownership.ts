// Who may write KV to a Postgres database, proven by the database: one advisory lock key, held for
// the life of each process's LISTEN connection. A single-node `picloud serve` takes it exclusively
// and may then cache KV reads without telling anyone of its writes (there is nobody else); every other
// process takes it shared. Writes by a process that does not own the database take the same key
// shared for their own transaction (`pg_try_advisory_xact_lock_shared` in the statement, see kv.ts),
// so none can commit while an owner holds it, whatever this process believes about its connections.
//
// The owner learns that its lock is gone only when its event loop reads the message that ends the
// session, which can come after another process was granted the lock and wrote. So its cache serves
// only under a lease: for LEASE_MS after it sent a statement its lock connection answered (the lock was
// held when that statement ran), on its own monotonic clock, checked at every read. A process that
// takes the lock and finds another holder's row in kv_owner_lease (an owner that may still hold a
// lease) waits out that lease, plus a margin, before its take counts. docs/architecture.md has the proof.
//
// The lease gates the owner's reads; its writes are gated by the same row: the owner records itself
// there before it writes as the owner, and each of its writes commits only while the row still names
// it (checked in the write's own statement, migration 16). A newcomer replaces or deletes the row
// before its fence, so a write an old owner sends after that is refused; the old owner then proves its
// lock on its lock connection (confirm()), which fails once the lock is gone: it stops being the owner
// and the write goes the way every other process's does.
import { randomUUID } from "node:crypto";
import os from "node:os";
import { PiCloudError } from "../shared/errors.js";
import type { Queryable } from "./db.js";
import { type LiveNode, NodeStore } from "./nodes.js";

/** Arbitrary and stable ("picloud kv writers"); beside migrate.ts's 7_340_812. Must stay below 2^31 (see HOLDERS). */
export const KV_LOCK_KEY = 7_340_813;

/**
 * - `owner`: this process holds the key exclusively (a single-node `serve`): no other process writes KV.
 * - `shared`: this process holds it shared (a cluster process, or a `serve` beside one).
 * - `lost`: the LISTEN connection, and with it the lock, is away; reconnecting.
 */
export type KvOwnershipState = "owner" | "shared" | "lost";

/**
 * Taken shared (per transaction, in the statement) by every write of an owner; a new owner takes it
 * exclusively and releases it before its cache serves, so no write of a previous owner still in
 * flight (waiting on a row lock when that owner's lock connection died) can commit after.
 */
export const KV_OWNER_WRITES_KEY = 7_340_814;

/** How long a new owner waits for the owner-writes key on each try, then gives its own writes a moment. */
const FENCE_WAIT = "50ms";

/** How long a start (or reconnect) waits for the fence before it goes on with the cache off. */
const FENCE_PATIENCE_MS = 1_000;

/** How long a start (or reconnect) waits for an exclusive holder to leave before DATABASE_OWNED. */
const OWNER_LEAVING_MS = 2_000;
/** How long a `serve` waits for the key exclusively on each try (a PostgreSQL interval). */
const EXCLUSIVE_WAIT = "150ms";

/** Records an owner in kv_owner_lease (the one row): before its first write as the owner, and when a write of it was refused. */
const RECORD = `insert into kv_owner_lease (id, holder, lease_ms) values (1, $1, $2)
  on conflict (id) do update set holder = excluded.holder, lease_ms = excluded.lease_ms, taken_at = now()`;

/**
 * The lock connection as KvOwnership sees it: statements, and `drop`, which gives the connection up
 * (the process reconnects and takes the lock again) when it answered a statement with an error.
 */
export interface LockSession extends Queryable {
  drop?(error: unknown): void;
}

/**
 * What an owner's writes prove in their own statement (store/kv.ts): that kv_owner_lease names
 * `holder`. A refused one calls `confirm`, which records the row again on the lock connection if
 * the lock is still held, or else makes this process no longer the owner before it resolves.
 */
export interface KvOwnerWrites {
  readonly holder: string;
  confirm(): Promise<void>;
}

/** How long a cached read may be served after the owner sent a statement its lock connection answered. */
export const KV_LEASE_MS = 1_000;

/**
 * What a process that finds another holder's row waits beyond its lease_ms: the two machines' monotonic
 * clocks may run at slightly different rates (1%: far beyond a real clock's drift of some ppm), and a fixed margin.
 */
const LEASE_RATE_MARGIN = 0.01;
const LEASE_MARGIN_MS = 50;

/** After a renewal that failed (not migrated yet: no kv_owner_lease), how long before the next try. */
const RENEW_RETRY_MS = 100;

/**
 * Renewals (one each half lease, on a timer) stop after this many in a row with no read of the cache
 * between them: an idle process sends nothing; its next read goes to the database and renews.
 */
const IDLE_RENEWALS = 20;

/** How long after the other rows' expiry (on the database's clock) a `serve` sharing because of them looks again. */
const RECHECK_MARGIN_MS = 100;

/** When that look finds the key held for a transaction (a guarded write in flight): the first pause before the next, doubled each time up to RECHECK_RETRY_MAX_MS. */
const RECHECK_RETRY_MS = 250;
const RECHECK_RETRY_MAX_MS = 30_000;

/** The backends holding the key: bigint advisory keys below 2^32 show as classid 0, objid = key, objsubid 1. */
const HOLDERS = `select l.mode, a.application_name, host(a.client_addr) as addr, a.pid, a.xact_start is null as idle
  from pg_locks l left join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.classid = 0 and l.objid = ${KV_LOCK_KEY} and l.objsubid = 1 and l.granted
    and l.database = (select oid from pg_database where datname = current_database())`;

/** The application_name of a process's LISTEN connection, which holds the lock: names it to whoever finds the database taken. */
export function listenApplicationName(role: string): string {
  return `picloud ${role} ${os.hostname()} pid ${process.pid}`.slice(0, 63);
}

export class KvOwnership implements KvOwnerWrites {
  private current: KvOwnershipState = "lost";
  /** Owner, and every write of a previous owner has ended: the cache may serve. */
  private fenced = false;
  private generation = 0;
  private readonly listeners = new Set<(state: KvOwnershipState) => void>();
  /** Armed while this `serve` shares only because of other processes' rows in `nodes`: fires when they expire. */
  private recheckTimer: NodeJS.Timeout | undefined;
  /** This process's name in kv_owner_lease: its writes as the owner commit only while the row names it. */
  readonly holder = randomUUID();
  /** The LISTEN connection that holds the lock, while it does. */
  private session: LockSession | undefined;
  /** performance.now() until which the cache may serve (the lease); 0: no lease. */
  private leaseDeadline = 0;
  /** performance.now() from which a read asks for a renewal (half the lease gone); Infinity once stopping. */
  private renewAt = 0;
  /** The generation of the renewal in flight, or -1. */
  private renewing = -1;
  /** The next renewal, while the cache is in use. */
  private renewTimer: NodeJS.Timeout | undefined;
  /** A read asked for the lease since the last renewal. */
  private used = false;
  /** Renewals in a row with no read between them. */
  private idleRenewals = 0;
  /** The generation whose row in kv_owner_lease is written (becoming the owner writes it, or else its first renewal). */
  private recorded = -1;
  /** The confirm() in flight, shared by every write refused meanwhile. */
  private confirming: { generation: number; done: Promise<void> } | undefined;

  /**
   * `exclusive`: a `serve` that caches KV; it falls back to `shared` when other processes hold the key,
   * or when another live process is registered in `nodes` (`selfId` is this process's row): a process of
   * a release before the lock (275c3b2) takes no lock and writes unseen, but registers and heartbeats.
   */
  constructor(
    readonly wants: "exclusive" | "shared",
    private readonly selfId = "",
    /** The lease's length (KV_LEASE_MS); shorter in tests. */
    private readonly leaseMs = KV_LEASE_MS,
  ) {}

  get state(): KvOwnershipState {
    return this.current;
  }

  /** True while this process alone writes KV to the database. */
  get owner(): boolean {
    return this.current === "owner";
  }

  /**
   * True while this process alone writes KV to the database and no write of a previous owner can still
   * commit: its cache may serve reads. Told to listeners when it turns true.
   */
  get cacheable(): boolean {
    return this.current === "owner" && this.fenced;
  }

  /**
   * The cache's test at every read: cacheable, and within a lease. No I/O: a timer renews the lease each
   * half lease while reads come; once they stop for IDLE_RENEWALS renewals it stops too, and a read that
   * finds half the lease run (after an idle while, or a blocked event loop) sends a renewal and answers
   * from the lease still running, if any.
   */
  leased(): boolean {
    if (!this.fenced || this.current !== "owner") return false;
    this.used = true;
    const now = performance.now();
    if (now >= this.renewAt) this.renew();
    return now < this.leaseDeadline;
  }

  /**
   * Proves the lock again: a statement on the lock connection, which runs only while the session (and
   * the lock) lives; the lease runs from when it was *sent*. The first of an ownership records this
   * process in kv_owner_lease, so a next holder of the lock knows to wait the lease out.
   */
  private renew(): void {
    const session = this.session;
    const generation = this.generation;
    if (!session || this.renewing === generation || this.renewAt === Infinity) return;
    clearTimeout(this.renewTimer);
    this.renewing = generation;
    const sent = performance.now();
    const statement = this.recorded === generation ? session.query("select 1") : session.query(RECORD, [this.holder, this.leaseMs]);
    statement
      .then(
        () => {
          if (generation !== this.generation || this.current !== "owner") return;
          this.recorded = generation;
          this.leaseDeadline = sent + this.leaseMs;
          if (this.renewAt === Infinity) return;
          this.renewAt = sent + this.leaseMs / 2;
          this.renewIn(Math.max(0, this.renewAt - performance.now()), generation);
        },
        // The connection is gone (lost() follows) or the table is not there yet (migrations run after the
        // lock is taken): no lease; tried again shortly.
        () => {
          if (generation !== this.generation || this.renewAt === Infinity) return;
          this.renewAt = performance.now() + RENEW_RETRY_MS;
          this.renewIn(RENEW_RETRY_MS, generation);
        },
      )
      .finally(() => {
        if (this.renewing === generation) this.renewing = -1;
      });
  }

  /** Arms the next renewal (unref'd); it is skipped, and none armed after it, once the cache has gone unread long enough. */
  private renewIn(delayMs: number, generation: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => {
      if (generation !== this.generation || this.current !== "owner") return;
      this.idleRenewals = this.used ? 0 : this.idleRenewals + 1;
      this.used = false;
      if (this.idleRenewals < IDLE_RENEWALS) this.renew();
    }, delayMs);
    this.renewTimer.unref();
  }

  /**
   * Stopping: the cache serves no more (no lease, none renewed), then this process's row goes, so the
   * next process to take the lock need not wait out a lease nobody holds. Before the connection closes.
   */
  async release(): Promise<void> {
    this.generation++;
    this.leaseDeadline = 0;
    this.renewAt = Infinity;
    clearTimeout(this.renewTimer);
    await this.session?.query("delete from kv_owner_lease where holder = $1", [this.holder]).catch(() => {});
  }

  /**
   * After a write of this owner was refused (store/kv.ts): the row may name another process (one that
   * took the database over while this one's event loop was blocked, before it heard that its lock
   * went), or none (a database migrated after this process became the owner), or the owner-writes key
   * was held (a fence). Records this process again on the lock connection, which answers only while
   * the session, and so the lock, lives; an error for an answer and this process stops being the owner
   * before the promise resolves (its cache stops serving, its writes are guarded from then on) and the
   * connection is given up, to take the lock afresh, as after a failed ping. One at a time: writes
   * refused meanwhile share it. Never rejects.
   */
  confirm(): Promise<void> {
    const session = this.session;
    const generation = this.generation;
    if (this.current !== "owner" || !session || this.renewAt === Infinity) return Promise.resolve();
    if (this.confirming?.generation === generation) return this.confirming.done;
    const done = session
      .query(RECORD, [this.holder, this.leaseMs])
      .then(
        () => {
          if (generation === this.generation) this.recorded = generation;
        },
        (error: unknown) => {
          if (generation !== this.generation) return; // lost() was heard meanwhile
          session.drop?.(error);
          if (generation === this.generation) this.lost();
        },
      )
      .finally(() => {
        if (this.confirming?.done === done) this.confirming = undefined;
      });
    this.confirming = { generation, done };
    return done;
  }

  /** Told of every change of state, synchronously. */
  onChange(listener: (state: KvOwnershipState) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Takes the key on the (new) LISTEN connection `session`: exclusively if wanted and free, else shared.
   * Throws DATABASE_OWNED, naming the holder, when another process owns the database.
   */
  async acquire(session: LockSession): Promise<void> {
    this.session = session;
    // An owner that just stopped (or whose connection was just terminated) holds the key until its
    // backend has ended, which can take a while on a loaded server: some patience before giving up.
    const deadline = Date.now() + OWNER_LEAVING_MS;
    for (let attempt = 0; ; attempt++) {
      let others: LiveNode[] = [];
      if (this.wants === "exclusive" && (await lockExclusive(session))) {
        await this.waitOutLease(session);
        others = await new NodeStore(session).othersLive(this.selfId);
        if (others.length === 0) return this.becomeOwner(session);
        // Someone writes without the lock (an older release still running): no cache, shared like beside a current node.
        await session.query(`select pg_advisory_unlock(${KV_LOCK_KEY}::bigint)`);
      }
      if (await tryLock(session, "pg_try_advisory_lock_shared")) {
        await this.waitOutLease(session);
        this.set("shared");
        // Or nobody does: a crashed process's row looks live until it misses its heartbeats (a `serve`
        // restarted at once after a crash finds its predecessor's). Looked at again when they expire.
        if (others.length > 0) this.recheckWhenExpired(session, others);
        return;
      }
      if (Date.now() >= deadline) {
        throw new PiCloudError(
          "DATABASE_OWNED",
          `Another PiCloud process owns this database's KV data (${await describeHolders(session)}): a single-node 'picloud serve' caches KV reads and allows no other process on its database. Stop it, or run several processes as 'picloud manager' plus 'picloud node' (docs/cluster.md), or set PICLOUD_KV_CACHE_MIB=0 on every 'picloud serve' that shares the database.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 20 * 2 ** attempt)));
    }
  }

  /** The LISTEN connection is gone, and the lock with it: called before anything else hears of it. */
  lost(): void {
    clearTimeout(this.recheckTimer);
    this.generation++;
    this.fenced = false;
    this.session = undefined;
    this.leaseDeadline = 0;
    clearTimeout(this.renewTimer);
    if (this.renewAt !== Infinity) this.renewAt = 0;
    this.set("lost");
  }

  /**
   * Arms one timer for when the rows of `others` (live processes that kept this `serve` from owning the
   * database while the key was free) count as down, on the database's clock.
   */
  private recheckWhenExpired(session: Queryable, others: readonly LiveNode[]): void {
    this.recheckIn(Math.max(...others.map((row) => row.expiresInMs)) + RECHECK_MARGIN_MS, session, others, 0);
  }

  /** One timer (unref'd; lost(), which closing the connection also calls, clears it) for the next look. */
  private recheckIn(delayMs: number, session: Queryable, others: readonly LiveNode[], retry: number): void {
    clearTimeout(this.recheckTimer);
    const generation = this.generation;
    this.recheckTimer = setTimeout(() => void this.recheck(session, generation, others, retry), delayMs);
    this.recheckTimer.unref();
  }

  /**
   * At the other rows' expiry: owner if the key can be had exclusively (no process holds it shared: none
   * joined meanwhile) and no other process is live any more, taking it exclusively before the shared hold
   * goes, so this session never holds neither. A row that beat again since is a live process (of a release
   * that takes no lock): shared, as beside it, until the next reconnect. Rows not expired yet (the timer
   * came early) are waited for again. A key held only for transactions (guarded writes in flight, this
   * process's own among them, one waiting on a row lock for longer than EXCLUSIVE_WAIT) is asked for
   * again after a pause doubled each time up to RECHECK_RETRY_MAX_MS; one held for a session (a process
   * that joined, or one whose activity this role may not see) keeps this `serve` shared, as at a start
   * beside it.
   */
  private async recheck(session: Queryable, generation: number, before: readonly LiveNode[], retry: number): Promise<void> {
    const current = () => generation === this.generation && this.current === "shared";
    if (!current()) return;
    let exclusive = false;
    try {
      if (!(await lockExclusive(session))) {
        if ((await heldForSession(session)) || !current()) return;
        this.recheckIn(Math.min(RECHECK_RETRY_MAX_MS, RECHECK_RETRY_MS * 2 ** retry), session, before, retry + 1);
        return;
      }
      exclusive = true;
      if (!current()) return; // lost meanwhile: the connection, and what it held, is gone
      const others = await new NodeStore(session).othersLive(this.selfId);
      if (others.length === 0) {
        await session.query(`select pg_advisory_unlock_shared(${KV_LOCK_KEY}::bigint)`);
        exclusive = false;
        if (current()) await this.becomeOwner(session);
        return;
      }
      await session.query(`select pg_advisory_unlock(${KV_LOCK_KEY}::bigint)`);
      exclusive = false;
      const unchanged = others.every((row) => before.some((old) => old.id === row.id && old.lastSeen === row.lastSeen));
      if (unchanged && current()) this.recheckWhenExpired(session, others);
    } catch {
      // The connection is gone (lost() follows, and the reconnect asks again), or a statement failed:
      // shared as before, without the exclusive hold that would keep every other process out.
      if (exclusive) await session.query(`select pg_advisory_unlock(${KV_LOCK_KEY}::bigint)`).catch(() => {});
    }
  }

  /**
   * Owner once recorded in kv_owner_lease (its writes are the owner's, and commit only while the row
   * names it); the cache waits until the fence has passed: up to FENCE_PATIENCE_MS here (at once, unless
   * a previous owner's write is still in flight), then in the background, so a start is not held up by a
   * row lock another transaction holds. No table yet (migrations run after the lock is taken): the first
   * write refused records it (confirm()).
   */
  private async becomeOwner(session: LockSession): Promise<void> {
    const generation = ++this.generation;
    this.fenced = false;
    this.leaseDeadline = 0;
    await session.query(RECORD, [this.holder, this.leaseMs]).then(
      () => {
        this.recorded = generation;
      },
      () => {},
    );
    if (generation !== this.generation) return; // lost meanwhile
    this.set("owner");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.fence(session, generation),
      new Promise((resolve) => {
        timer = setTimeout(resolve, FENCE_PATIENCE_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Takes the owner-writes key exclusively and releases it: granted once every write of a previous
   * owner has ended (refused: nothing). Tries of FENCE_WAIT with pauses, so this process's own writes
   * (which take the key shared and are refused while this waits) get through. In the background: a
   * previous owner's write may wait on a row lock for as long as a transaction holds it.
   */
  private async fence(session: Queryable, generation: number): Promise<void> {
    try {
      while (generation === this.generation) {
        await session.query(`set lock_timeout = '${FENCE_WAIT}'`);
        let granted = false;
        try {
          await session.query(`select pg_advisory_lock(${KV_OWNER_WRITES_KEY}::bigint)`);
          granted = true;
        } catch (error) {
          if ((error as { code?: string }).code !== "55P03") throw error;
        } finally {
          await session.query("set lock_timeout = 0");
        }
        if (granted) {
          await session.query(`select pg_advisory_unlock(${KV_OWNER_WRITES_KEY}::bigint)`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch {
      return; // the connection is gone: lost() follows
    }
    if (generation !== this.generation || this.current !== "owner") return;
    this.fenced = true;
    this.idleRenewals = 0;
    this.renew(); // the first lease (and the timer), so that the first read need not ask for it
    for (const listener of this.listeners) listener(this.current);
  }

  /**
   * Called holding the lock (either mode), before the take counts: if kv_owner_lease names another
   * process, an owner that may still serve cached reads under a lease it renewed before its lock went
   * (the lock is granted here only after that owner's session ended, so after every statement of it
   * that renewed a lease), waits that lease out from now, plus a margin, then deletes the row. Its own
   * row (this process owned the database before its connection went): nothing to wait for, since lost()
   * ended its lease in the turn that heard of it, before this connection was opened. No table (a
   * database not migrated yet): no process of this protocol has owned it.
   */
  private async waitOutLease(session: Queryable): Promise<void> {
    let rows: { holder: string; lease_ms: number }[];
    try {
      rows = await session.query<{ holder: string; lease_ms: number }>("select holder, lease_ms from kv_owner_lease");
    } catch (error) {
      if ((error as { code?: string }).code === "42P01") return; // undefined_table
      throw error;
    }
    const row = rows[0];
    if (!row || row.holder === this.holder) return;
    // On the monotonic clock: a timer is armed from the loop's cached time and can fire early by a long turn.
    const until = performance.now() + row.lease_ms * (1 + LEASE_RATE_MARGIN) + LEASE_MARGIN_MS;
    for (let left = until - performance.now(); left > 0; left = until - performance.now()) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
    }
    await session.query("delete from kv_owner_lease where holder = $1", [row.holder]);
  }

  private set(state: KvOwnershipState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}

async function tryLock(session: Queryable, fn: "pg_try_advisory_lock_shared"): Promise<boolean> {
  const rows = await session.query<{ ok: boolean }>(`select ${fn}(${KV_LOCK_KEY}::bigint) as ok`);
  return rows[0]?.ok === true;
}

/**
 * Waits up to EXCLUSIVE_WAIT for the key: guarded writes in flight (this process's own, made while its
 * lock was away) hold it shared for a moment, and while this request waits no new one can take it
 * (they retry, kv.ts), so it is granted once those end; a cluster's sessions hold it for good.
 */
async function lockExclusive(session: Queryable): Promise<boolean> {
  await session.query(`set lock_timeout = '${EXCLUSIVE_WAIT}'`);
  try {
    await session.query(`select pg_advisory_lock(${KV_LOCK_KEY}::bigint)`);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "55P03") return false; // lock_not_available: timed out
    throw error;
  } finally {
    await session.query("set lock_timeout = 0");
  }
}

/**
 * Whether another backend holds the key outside any transaction: for its session, a process's LISTEN
 * connection. A guarded write's hold ends with its transaction; a backend whose transaction start this
 * role may not see (another role's, without pg_read_all_stats) counts as a session's.
 */
async function heldForSession(session: Queryable): Promise<boolean> {
  const rows = await session.query<{ pid: number; idle: boolean | null }>(`${HOLDERS} and l.pid <> pg_backend_pid()`);
  return rows.some((row) => row.idle !== false);
}

async function describeHolders(session: Queryable): Promise<string> {
  const rows = await session
    .query<{ mode: string; application_name: string | null; addr: string | null; pid: number }>(HOLDERS)
    .catch(() => []);
  const owner = rows.find((row) => row.mode === "ExclusiveLock") ?? rows[0];
  if (!owner) return "it was released just now; try again";
  return `held by "${owner.application_name || "an unnamed connection"}"${owner.addr ? ` from ${owner.addr}` : ""}, backend pid ${owner.pid}`;
}
