// Keeps a process's KV read cache exact: on the embedded database and for a `serve` that owns its
// Postgres database (store/kv-ownership.ts) no other process writes KV, so its own writes are all it
// needs to know; on a shared database with PICLOUD_KV_CACHE_MIB set, every write carries a
// `kv.changed` NOTIFY (sent by the write's own statement), and each process drops what others changed.
import type { Db, Notification } from "../store/db.js";
import { KvReadCache } from "../store/kv-cache.js";
import type { KvOwnership } from "../store/kv-ownership.js";
import { BUS_CHANNEL, type Bus } from "../store/bus.js";

export const DEFAULT_KV_CACHE_MIB = 16;

/**
 * The cache size this process uses. On by default where it may be the only KV writer on its database
 * (`mayOwn`: the embedded database, or `serve` on Postgres, which then takes the database for itself);
 * a cluster process opts in, on every process alike, and each write then NOTIFYs: Postgres serialises
 * the commits of notifying transactions across the whole server (50 writers of distinct keys: ~2,000-3,000
 * writes/s without, ~330-480 with).
 */
export function kvCacheMiB(configured: number | undefined, mayOwn: boolean): number {
  return configured ?? (mayOwn ? DEFAULT_KV_CACHE_MIB : 0);
}

/** Whether the cache is serving reads now, and why (for /metrics). */
export interface KvCacheStatus {
  readonly on: boolean;
  /**
   * embedded: the embedded database (one process); owner: this `serve` owns its Postgres database;
   * notify: shared database, PICLOUD_KV_CACHE_MIB set, writes NOTIFY; shared: other processes share the
   * database and this one has no PICLOUD_KV_CACHE_MIB (off); lost: the LISTEN connection (and lock) is
   * away (off); fencing: this `serve` owns the database and waits out a previous owner's writes still
   * in flight (off); disabled: PICLOUD_KV_CACHE_MIB=0.
   */
  readonly reason: "embedded" | "owner" | "fencing" | "notify" | "shared" | "lost" | "disabled";
}

/** How a process's KV cache follows other processes' writes. */
export interface KvCacheMode {
  readonly embedded: boolean;
  /** PICLOUD_KV_CACHE_MIB as configured (undefined: the default). */
  readonly configuredMiB: number | undefined;
  /** The KV writers' lock on Postgres; undefined on the embedded database. */
  readonly ownership: KvOwnership | undefined;
}

/** PICLOUD_KV_CACHE_MIB set on a shared database: the cluster's NOTIFY mode. */
function notifyMode(mode: KvCacheMode): boolean {
  return !mode.embedded && (mode.configuredMiB ?? 0) > 0;
}

export function kvCacheStatus(db: Db, mode: KvCacheMode, cacheMiB: number): KvCacheStatus {
  if (cacheMiB <= 0) return { on: false, reason: "disabled" };
  if (mode.embedded || !mode.ownership) return { on: true, reason: "embedded" };
  if (!db.health().listening || mode.ownership.state === "lost") return { on: false, reason: "lost" };
  if (mode.ownership.cacheable) return { on: true, reason: "owner" };
  if (mode.ownership.owner) return { on: false, reason: "fencing" };
  return notifyMode(mode) ? { on: true, reason: "notify" } : { on: false, reason: "shared" };
}

/**
 * The NOTIFY a write to this key sends, for other processes' caches: in NOTIFY mode, unless this
 * process owns the database (nobody else caches); none for an embedded one (no other process).
 */
export function kvNotification(
  bus: Bus,
  mode: KvCacheMode,
): ((app: string, collection: string, key: string) => Notification | undefined) | undefined {
  if (!notifyMode(mode)) return undefined;
  const { ownership } = mode;
  return (app, collection, key) =>
    ownership?.owner ? undefined : { channel: BUS_CHANNEL, payload: bus.envelope("kv.changed", { app, collection, key }) };
}

/** A read cache of `maxBytes` wired to the bus; `stop` unsubscribes it. */
export function busKvCache(db: Db, bus: Bus, maxBytes: number, mode: KvCacheMode): { cache: KvReadCache; stop: () => void } {
  // It serves only while no write can go unheard: the LISTEN connection (which holds the lock) is up,
  // and this process owns the database or every writer NOTIFYs.
  const notifying = notifyMode(mode);
  const { ownership } = mode;
  const live = ownership
    ? () => db.health().listening && (ownership.cacheable || (notifying && ownership.state === "shared"))
    : () => db.health().listening;
  // A cached read of an owner needs its lease too (lost() ends it in the turn that hears the connection
  // went, before `listening` turns false, so the lease alone answers for the owner).
  const serving = ownership ? () => ownership.leased() || (notifying && ownership.state === "shared" && db.health().listening) : live;
  const cache = new KvReadCache({ maxBytes, live, serving });
  const unsubscribe = [
    bus.subscribe("kv.changed", ({ app, collection, key }) => cache.invalidate(app, collection, key)),
    // An app deleted and created again must not find its old values.
    bus.subscribe("apps.changed", ({ app }) => cache.invalidateApp(app)),
    // Notifications sent while LISTEN was away are lost, and without the lock another process may have written.
    bus.onReconnect(() => cache.clear()),
    // Owner, shared, lost, fenced: whatever it holds was read under other terms.
    ...(ownership ? [ownership.onChange(() => cache.clear())] : []),
  ];
  return {
    cache,
    stop: () => {
      for (const off of unsubscribe) off();
    },
  };
}
