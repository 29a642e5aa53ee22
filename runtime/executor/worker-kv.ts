// A script's KV calls served inside its executor worker, on the worker's own small Postgres pool: a
// get or set then costs no thread hop to the main thread and back (two per call otherwise), and the
// pg protocol work runs on the worker's core instead of the main thread's. Only on Postgres without a
// KV read cache (the cache and PGlite live on the main thread, so calls keep crossing there).
// The worker imports this module only when the pool turns it on, so a PGlite worker never loads pg.
//
// What stays as on the main thread: the same KvStore and kvHost (validation, limits, error codes),
// the app and chain depth from the invocation (never the guest), and KV triggers: a write that
// matches one inserts its events in the same transaction, through the same EventOutbox, from a copy
// of the app's triggers that the main thread's TriggerCache invalidates by message. After such a
// commit the worker tells the main thread, whose dispatcher wakes (other processes hear the insert's
// NOTIFY, which carries this runtime's bus origin so that its own dispatcher ignores it, as for its main thread's writes).
import { kvHost } from "../bindings/kv/host.js";
import { DbClock } from "../store/db-clock.js";
import { EventOutbox } from "../store/event-outbox.js";
import { coerceError } from "../shared/errors.js";
import type { Queryable } from "../store/db.js";
import { KvStore } from "../store/kv.js";
import { postgresPool } from "../store/postgres/index.js";
import { type KvTrigger, listTriggers, type Trigger } from "../store/triggers.js";

/** What the main thread sends to turn worker-side KV on. */
export interface WorkerKvSettings {
  readonly databaseUrl: string;
  /** Connections of this worker's pool, opened on demand. */
  readonly poolSize: number;
  readonly maxChainDepth: number;
  /** The runtime's bus origin: its trigger events' NOTIFY carries it, and its own dispatcher ignores that one. */
  readonly origin: string;
  /** The main thread's DbClock offset (database clock - local clock, ms) when it turned KV on. */
  readonly clockOffsetMs: number;
}

/** The `application_name` of the workers' connections, as pg_stat_activity shows them. */
export const WORKER_KV_APPLICATION = "picloud-kv-worker";

/** How often the worker re-reads the database's clock (the due time of the events it inserts). */
const CLOCK_SYNC_MS = 60_000;

/** This worker's copy of the apps' triggers: loaded on first use, dropped when the main thread says they changed. */
class WorkerTriggers {
  private readonly byApp = new Map<string, Trigger[]>();
  /** Bumped by every invalidation: a load that started before one is not kept. */
  private generation = 0;

  constructor(private readonly q: Queryable) {}

  peek(app: string): readonly Trigger[] | undefined {
    return this.byApp.get(app);
  }

  async kvTriggers(app: string, q: Queryable = this.q): Promise<KvTrigger[]> {
    let triggers = this.byApp.get(app);
    if (!triggers) {
      const generation = this.generation;
      triggers = await listTriggers(q, { app });
      if (generation === this.generation) this.byApp.set(app, triggers);
    }
    return triggers.filter((t): t is KvTrigger => t.kind === "kv");
  }

  /** `app`, or "*" for all (the main thread's LISTEN connection was away). */
  invalidate(app: string): void {
    this.generation++;
    if (app === "*") this.byApp.clear();
    else this.byApp.delete(app);
  }
}

export class WorkerKv {
  private readonly pool;
  private readonly kv: KvStore;
  private readonly triggers: WorkerTriggers;
  private readonly clock = new DbClock();
  private clockSyncedAt = performance.now();

  constructor(settings: WorkerKvSettings, eventsCommitted: () => void) {
    this.pool = postgresPool(settings.databaseUrl, settings.poolSize, WORKER_KV_APPLICATION);
    this.triggers = new WorkerTriggers(this.pool);
    const outbox = new EventOutbox({
      triggers: this.triggers,
      clock: { now: () => this.now() },
      maxChainDepth: settings.maxChainDepth,
      origin: settings.origin,
      onCommitted: eventsCommitted,
    });
    // Never the owner's writes (an owning `serve` caches, so its kv calls stay on the main thread): guarded.
    this.kv = new KvStore(this.pool, { hook: outbox, guarded: () => true });
    const local = Date.now();
    this.clock.observe(local + settings.clockOffsetMs, local, local);
  }

  /** One kv call of an invocation of `app`; rejects with `{ code, message }` like the main thread's answer. */
  call(app: string, chainDepth: number, op: string, args: string): Promise<string> {
    return kvHost({ kv: this.kv }, { app, origin: { chainDepth } })(op, args).catch((error: unknown) => {
      const coded = coerceError(error);
      throw {
        code: coded.code,
        message: coded.code === "INTERNAL" ? "The kv call failed." : coded.message,
        ...(coded.code === "INTERNAL" && { internal: error }),
      };
    });
  }

  triggersChanged(app: string): void {
    this.triggers.invalidate(app);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** The database's clock, as the main thread's DbClock keeps it; re-read in the background now and then. */
  private now(): number {
    const at = performance.now();
    if (at - this.clockSyncedAt > CLOCK_SYNC_MS) {
      this.clockSyncedAt = at;
      this.clock.sync(this.pool).catch(() => {
        this.clockSyncedAt = Number.NEGATIVE_INFINITY;
      });
    }
    return this.clock.now();
  }
}
