// Keeps a process's KV read cache exact across processes: every write on a shared database carries a
// `kv.changed` NOTIFY (sent by the write's own statement), and each process drops what others changed.
import type { Db, Notification } from "../store/db.js";
import { KvReadCache } from "../store/kv-cache.js";
import { BUS_CHANNEL, type Bus } from "./bus.js";

export const DEFAULT_EMBEDDED_KV_CACHE_MIB = 16;

/**
 * The cache size this process uses. On by default only for the embedded database: on Postgres every
 * KV write must then NOTIFY, and Postgres serialises the commits of notifying transactions across the
 * whole server (50 writers of distinct keys: ~2,000-3,000 writes/s without, ~330-480 with), so a
 * cluster opts in, on every process alike.
 */
export function kvCacheMiB(configured: number | undefined, embedded: boolean): number {
  return configured ?? (embedded ? DEFAULT_EMBEDDED_KV_CACHE_MIB : 0);
}

/**
 * The NOTIFY a write to this key sends, for other processes' caches: on a shared database whose
 * processes cache (`cacheMiB` > 0, the same setting everywhere); none for an embedded one (no other process).
 */
export function kvNotification(
  bus: Bus,
  embedded: boolean,
  cacheMiB: number,
): ((app: string, collection: string, key: string) => Notification) | undefined {
  if (embedded || cacheMiB <= 0) return undefined;
  return (app, collection, key) => ({ channel: BUS_CHANNEL, payload: bus.envelope("kv.changed", { app, collection, key }) });
}

/** A read cache of `maxBytes` wired to the bus; `stop` unsubscribes it. */
export function busKvCache(db: Db, bus: Bus, maxBytes: number): { cache: KvReadCache; stop: () => void } {
  // While the LISTEN connection is away, other processes' writes go unheard: the cache stands aside.
  const cache = new KvReadCache({ maxBytes, live: () => db.health().listening });
  const unsubscribe = [
    bus.subscribe("kv.changed", ({ app, collection, key }) => cache.invalidate(app, collection, key)),
    // An app deleted and created again must not find its old values.
    bus.subscribe("apps.changed", ({ app }) => cache.invalidateApp(app)),
    // Notifications sent while LISTEN was away are lost.
    bus.onReconnect(() => cache.clear()),
  ];
  return {
    cache,
    stop: () => {
      for (const off of unsubscribe) off();
    },
  };
}
