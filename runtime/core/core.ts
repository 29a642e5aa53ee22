// The core every process starts first: configuration, logger, clock, the database (migrated),
// the bus, the stores, and the two caches both roles read (scripts for ingress and test runs,
// triggers for the KV write path). Roles (node, manager) are started on top of it.
import type { BootPhases } from "../shared/boot-phases.js";
import type { Config } from "../shared/config.js";
import { type Clock, systemClock } from "../shared/clock.js";
import type { Logger } from "../shared/log.js";
import { AdminAuth } from "./auth.js";
import { EventOutbox } from "../store/event-outbox.js";
import { ScriptCache } from "../orchestrator/script-cache.js";
import { TriggerCache } from "../orchestrator/trigger-cache.js";
import { AppStore } from "../store/apps.js";
import { type DataDirLock, lockDataDir } from "../store/data-dir-lock.js";
import type { Db } from "../store/db.js";
import { DeadLetterStore } from "../store/dead-letters.js";
import { EventStore } from "../store/events.js";
import { InvocationStore } from "../store/invocations.js";
import { InvocationStatsStore } from "../store/invocation-stats.js";
import { KvStore } from "../store/kv.js";
import { kvBatchOptions } from "../store/kv-batch.js";
import { openDatabase, pgliteDirectory } from "../store/open-db.js";
import { ScriptStore } from "../store/scripts.js";
import { TokenStore } from "../store/tokens.js";
import { listTriggers, TriggerStore } from "../store/triggers.js";
import type { Resolver } from "../bindings/fetch/host.js";
import { AppBindingsCache } from "../orchestrator/app-bindings-cache.js";
import { EgressStore } from "../store/egress.js";
import { loadSecretBoxes } from "../store/secrets-key.js";
import { SecretStore } from "../store/secrets.js";
import { NodeStore } from "../store/nodes.js";
import type { KvReadCache } from "../store/kv-cache.js";
import { Bus } from "../store/bus.js";
import { busKvCache, type KvCacheMode, type KvCacheStatus, kvCacheMiB, kvCacheStatus, kvNotification } from "./kv-cache-bus.js";
import { KvOwnership, listenApplicationName } from "../store/kv-ownership.js";
import { DbClock } from "../store/db-clock.js";
import type { Lifecycle } from "./health.js";
import { Stoppers } from "./stoppers.js";

export interface CoreOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Tests pass "memory://" to skip the data directory entirely. */
  readonly pgliteLocation?: string;
  /** DNS for scripts' outbound fetch (tests inject one so that no name leaves the machine). */
  readonly resolver?: Resolver | undefined;
  /** "apply" (manager, serve) or "wait" for another process to apply them (node). */
  readonly migrations?: "apply" | "wait";
  /** What this process runs (default "serve"): a `serve` on Postgres takes its database's KV for itself (store/kv-ownership.ts). */
  readonly role?: "serve" | "manager" | "node";
  /** Start-up timing: marks "database" once it is open and migrated. */
  readonly phases?: BootPhases;
}

export interface Core {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly db: Db;
  readonly bus: Bus;
  /** Embedded PGlite: this process is the only one on its database. */
  readonly embedded: boolean;
  /** Where data lives: the PGlite directory or the (password-less) database URL. */
  readonly dataLocation: string;
  /** Whether a secrets key is configured (store/secrets-key.ts): without one, setting a secret fails SECRETS_KEY_MISSING. */
  readonly secretsAvailable: boolean;
  readonly apps: AppStore;
  readonly scripts: ScriptStore;
  readonly triggerStore: TriggerStore;
  readonly kv: KvStore;
  /** The KV read cache, when this process has one (for /metrics). */
  readonly kvCache: KvReadCache | undefined;
  /** Whether the KV read cache serves reads now, and why (for /metrics). */
  kvCacheStatus(): KvCacheStatus;
  /** The KV writers' lock on Postgres (undefined on the embedded database). */
  readonly kvOwnership: KvOwnership | undefined;
  readonly invocations: InvocationStore;
  readonly invocationStats: InvocationStatsStore;
  readonly tokens: TokenStore;
  readonly events: EventStore;
  readonly deadLetters: DeadLetterStore;
  readonly scriptCache: ScriptCache;
  readonly triggerCache: TriggerCache;
  /** Adds KV writes' trigger events in their transaction; a node's dispatcher takes its own from it (handOffTo). */
  readonly outbox: EventOutbox;
  /** Admin-token checks: the admin API, and /metrics on every process. */
  readonly auth: AdminAuth;
  readonly secrets: SecretStore;
  readonly egress: EgressStore;
  /** Each app's secrets and egress policy, as the invoker reads them on every run (node and test runs). */
  readonly appBindings: AppBindingsCache;
  readonly resolver: Resolver | undefined;
  readonly nodes: NodeStore;
  /** Draining (SIGTERM) and other readiness inputs. */
  readonly lifecycle: Lifecycle;
  /** The database's clock when no clock was injected and the database is shared; undefined otherwise. */
  readonly dbClock: DbClock | undefined;
  stop(): Promise<void>;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

export async function startCore(options: CoreOptions): Promise<Core> {
  const { config, logger } = options;
  const embedded = !config.databaseUrl;
  // Shared database: leases, due times and heartbeats on its clock, so machines' skew does not matter.
  const dbClock = !options.clock && !embedded ? new DbClock() : undefined;
  const clock = options.clock ?? dbClock ?? systemClock;
  const useDataDir = embedded && options.pgliteLocation === undefined;
  const lock: DataDirLock | undefined = useDataDir ? lockDataDir(config.dataDir) : undefined;
  const stoppers = new Stoppers();
  if (lock) stoppers.push(() => lock.release());
  // On Postgres a `serve` that caches KV takes the database's KV for itself if no other process is on
  // it; every other process (and a `serve` beside them) takes it shared (store/kv-ownership.ts).
  const role = options.role ?? "serve";
  const cacheMiB = kvCacheMiB(config.kvCacheMiB, embedded || role === "serve");
  const kvOwnership = embedded ? undefined : new KvOwnership(role === "serve" && cacheMiB > 0 ? "exclusive" : "shared", config.nodeId);
  try {
    const pgliteLocation = options.pgliteLocation ?? pgliteDirectory(config.dataDir);
    const db = await openDatabase({
      databaseUrl: config.databaseUrl,
      pgliteLocation,
      migrations: options.migrations ?? "apply",
      onWaiting: ({ applied, needed }) =>
        logger.warn(
          { applied, needed },
          `waiting for the manager to migrate the database (schema ${applied}, this version needs ${needed})`,
        ),
      postgres: {
        applicationName: listenApplicationName(role),
        ...(kvOwnership && { session: { connected: (session) => kvOwnership.acquire(session), lost: () => kvOwnership.lost() } }),
        onStateChange: (state, error) =>
          state === "down"
            ? logger.warn({ err: error }, "lost the database's change notifications; reconnecting")
            : logger.info("change notifications are back; catching up"),
      },
    });
    stoppers.push(() => db.close());
    // Before the connection closes: the cache stops serving, and the lease's row goes (store/kv-ownership.ts).
    if (kvOwnership) stoppers.push(() => kvOwnership.release());
    options.phases?.mark("database");
    await dbClock?.sync(db);
    const bus = new Bus(db);
    await bus.start();
    stoppers.push(() => bus.stop());

    const apps = new AppStore(db);
    const scripts = new ScriptStore(db);
    const triggerCache = new TriggerCache(db, bus, (q, app) => listTriggers(q, { app }));
    await triggerCache.start();
    stoppers.push(() => triggerCache.stop());
    const outbox = new EventOutbox({
      triggers: triggerCache,
      clock,
      maxChainDepth: config.eventMaxChainDepth,
      origin: bus.origin,
      // Other processes hear of committed events from the insert's NOTIFY; this one at once.
      onCommitted: () => void bus.publish("events.due", {}),
    });
    const scriptCache = new ScriptCache({ apps, scripts, bus, config });
    await scriptCache.start();
    stoppers.push(() => scriptCache.stop());

    // Secrets are sealed with a key kept outside the database (store/secrets-key.ts says where from).
    const boxes = loadSecretBoxes({
      secretsKey: config.secretsKey,
      secretsKeyFile: config.secretsKeyFile,
      secretsOldKey: config.secretsOldKey,
      dataDir: useDataDir ? config.dataDir : undefined,
      ephemeral: embedded && !useDataDir,
    });
    const secrets = new SecretStore(db, boxes.current);
    if (boxes.old && boxes.current) {
      const resealed = await secrets.reseal(boxes.old);
      if (resealed > 0) logger.info({ resealed }, "re-sealed secrets with the new key");
    }
    const egress = new EgressStore(db);
    const appBindings = new AppBindingsCache({ secrets, egress, bus });
    stoppers.push(appBindings.start());

    // A KV read cache kept exact by this process's writes and, when others share the database, theirs
    // through the bus; writes by a process that does not own the database prove that nobody does.
    const cacheMode: KvCacheMode = { embedded, configuredMiB: config.kvCacheMiB, ownership: kvOwnership };
    const kvCache = cacheMiB > 0 ? busKvCache(db, bus, cacheMiB * 1024 * 1024, cacheMode) : undefined;
    if (kvCache) stoppers.push(async () => kvCache.stop());
    const kv = new KvStore(db, {
      hook: outbox,
      cache: kvCache?.cache,
      notification: kvNotification(bus, cacheMode),
      guarded: kvOwnership ? () => !kvOwnership.owner : undefined,
      owner: kvOwnership,
      batch: kvBatchOptions(config.kvBatchInFlight),
    });

    const tokens = new TokenStore(db);
    const auth = new AdminAuth(tokens, bus);
    stoppers.push(() => auth.stop());

    return {
      config,
      logger,
      clock,
      db,
      bus,
      embedded,
      dataLocation: config.databaseUrl ? redactUrl(config.databaseUrl) : pgliteLocation,
      secretsAvailable: boxes.current !== undefined,
      apps,
      scripts,
      triggerStore: new TriggerStore(db),
      kv,
      kvCache: kvCache?.cache,
      kvCacheStatus: () => kvCacheStatus(db, cacheMode, cacheMiB),
      kvOwnership,
      invocations: new InvocationStore(db),
      invocationStats: new InvocationStatsStore(db),
      tokens,
      events: new EventStore(db),
      deadLetters: new DeadLetterStore(db),
      scriptCache,
      triggerCache,
      outbox,
      auth,
      secrets,
      egress,
      appBindings,
      resolver: options.resolver,
      nodes: new NodeStore(db),
      lifecycle: { draining: false },
      dbClock,
      stop: () => stoppers.stopAll(),
    };
  } catch (error) {
    await stoppers.stopAll().catch(() => {});
    throw error;
  }
}
