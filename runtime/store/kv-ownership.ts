// Who may write KV to a Postgres database, proven by the database: one advisory lock key, held for
// the life of each process's LISTEN connection. A single-node `picloud serve` takes it exclusively
// and may then cache KV reads without telling anyone of its writes (there is nobody else); every other
// process takes it shared. Writes by a process that does not own the database take the same key
// shared for their own transaction (`pg_try_advisory_xact_lock_shared` in the statement, see kv.ts),
// so none can commit while an owner holds it, whatever this process believes about its connections.
import os from "node:os";
import { PiCloudError } from "../shared/errors.js";
import type { Queryable } from "./db.js";
import { NodeStore } from "./nodes.js";

/** Arbitrary and stable ("picloud kv writers"); beside migrate.ts's 7_340_812. Must stay below 2^31 (see HOLDERS). */
export const KV_LOCK_KEY = 7_340_813;

/**
 * - `owner`: this process holds the key exclusively (a single-node `serve`): no other process writes KV.
 * - `shared`: this process holds it shared (a cluster process, or a `serve` beside one).
 * - `lost`: the LISTEN connection, and with it the lock, is away; reconnecting.
 */
export type KvOwnershipState = "owner" | "shared" | "lost";

/** How long a start (or reconnect) waits for an exclusive holder to leave before DATABASE_OWNED. */
const OWNER_LEAVING_MS = 2_000;
/** How long a `serve` waits for the key exclusively on each try (a PostgreSQL interval). */
const EXCLUSIVE_WAIT = "150ms";

/** The backends holding the key: bigint advisory keys below 2^32 show as classid 0, objid = key, objsubid 1. */
const HOLDERS = `select l.mode, a.application_name, host(a.client_addr) as addr, a.pid
  from pg_locks l left join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.classid = 0 and l.objid = ${KV_LOCK_KEY} and l.objsubid = 1 and l.granted
    and l.database = (select oid from pg_database where datname = current_database())`;

/** The application_name of a process's LISTEN connection, which holds the lock: names it to whoever finds the database taken. */
export function listenApplicationName(role: string): string {
  return `picloud ${role} ${os.hostname()} pid ${process.pid}`.slice(0, 63);
}

export class KvOwnership {
  private current: KvOwnershipState = "lost";
  private readonly listeners = new Set<(state: KvOwnershipState) => void>();

  /**
   * `exclusive`: a `serve` that caches KV; it falls back to `shared` when other processes hold the key,
   * or when another live process is registered in `nodes` (`selfId` is this process's row): a process of
   * a release before the lock (275c3b2) takes no lock and writes unseen, but registers and heartbeats.
   */
  constructor(
    readonly wants: "exclusive" | "shared",
    private readonly selfId = "",
  ) {}

  get state(): KvOwnershipState {
    return this.current;
  }

  /** True while this process alone writes KV to the database. */
  get owner(): boolean {
    return this.current === "owner";
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
  async acquire(session: Queryable): Promise<void> {
    // An owner that just stopped (or whose connection was just terminated) holds the key until its
    // backend has ended, which can take a while on a loaded server: some patience before giving up.
    const deadline = Date.now() + OWNER_LEAVING_MS;
    for (let attempt = 0; ; attempt++) {
      if (this.wants === "exclusive" && (await lockExclusive(session))) {
        if (!(await new NodeStore(session).othersLive(this.selfId))) return this.set("owner");
        // Someone writes without the lock (an older release still running): no cache, shared like beside a current node.
        await session.query(`select pg_advisory_unlock(${KV_LOCK_KEY}::bigint)`);
      }
      if (await tryLock(session, "pg_try_advisory_lock_shared")) return this.set("shared");
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
    this.set("lost");
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

async function describeHolders(session: Queryable): Promise<string> {
  const rows = await session
    .query<{ mode: string; application_name: string | null; addr: string | null; pid: number }>(HOLDERS)
    .catch(() => []);
  const owner = rows.find((row) => row.mode === "ExclusiveLock") ?? rows[0];
  if (!owner) return "it was released just now; try again";
  return `held by "${owner.application_name || "an unnamed connection"}"${owner.addr ? ` from ${owner.addr}` : ""}, backend pid ${owner.pid}`;
}
