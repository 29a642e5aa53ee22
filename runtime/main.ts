// Composition root: config -> logger -> store -> roles -> HTTP -> listen. Used by `picloud serve`,
// the Electron main process and the tests; returns a handle that shuts everything down in order.
import type { FastifyInstance } from "fastify";
import { WorkerPool } from "./executor/worker-pool.js";
import { AdminAuth } from "./manager/auth.js";
import { ControlPlane } from "./manager/control-plane.js";
import { RuntimeMetrics } from "./manager/metrics.js";
import { buildHttpApp } from "./manager/http-app.js";
import type { ApiServices } from "./manager/services.js";
import { DEFAULT_RECORDER_OPTIONS, InvocationRecorder } from "./orchestrator/invocation-recorder.js";
import { Dispatcher } from "./orchestrator/dispatcher.js";
import { EventOutbox } from "./orchestrator/event-outbox.js";
import { Invoker } from "./orchestrator/invoker.js";
import { startRetention } from "./orchestrator/retention.js";
import { Scheduler } from "./orchestrator/scheduler.js";
import { TriggerCache } from "./orchestrator/trigger-cache.js";
import { ScriptCache } from "./orchestrator/script-cache.js";
import { type Clock, systemClock } from "./shared/clock.js";
import type { Config } from "./shared/config.js";
import type { Logger } from "./shared/log.js";
import { PICLOUD_VERSION } from "./shared/version.js";
import { AppStore } from "./store/apps.js";
import { type DataDirLock, lockDataDir } from "./store/data-dir-lock.js";
import type { Db } from "./store/db.js";
import { InvocationStore } from "./store/invocations.js";
import { InvocationStatsStore } from "./store/invocation-stats.js";
import { KvStore } from "./store/kv.js";
import { openDatabase, pgliteDirectory } from "./store/open-db.js";
import { ScriptStore } from "./store/scripts.js";
import { TokenStore } from "./store/tokens.js";
import { DeadLetterStore } from "./store/dead-letters.js";
import { EventStore } from "./store/events.js";
import { listTriggers, TriggerStore } from "./store/triggers.js";

const RETENTION_INTERVAL_MS = 5 * 60_000;
/** Per-minute aggregates are small (one row per active script and minute): kept for 30 days. */
const STATS_RETENTION_MS = 30 * 24 * 3_600_000;

export interface RuntimeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Tests pass "memory://" to skip the data directory entirely. */
  readonly pgliteLocation?: string;
  /** Backoff jitter source (tests make it deterministic). */
  readonly random?: () => number;
  /** The built renderer to serve at / (the Electron build passes its own). */
  readonly uiDir?: string;
}

export interface Runtime {
  readonly app: FastifyInstance;
  readonly services: ApiServices;
  readonly db: Db;
  /** Set when this start created the first admin token: its only plain-text copy. */
  readonly initialAdminToken: string | undefined;
  /** Where data lives: the PGlite directory or the (password-less) database URL. */
  readonly dataLocation: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const embedded = !config.databaseUrl;
  const useDataDir = embedded && options.pgliteLocation === undefined;
  const lock: DataDirLock | undefined = useDataDir ? lockDataDir(config.dataDir) : undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const pgliteLocation = options.pgliteLocation ?? pgliteDirectory(config.dataDir);
    const db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteLocation });
    cleanups.push(() => db.close());

    const apps = new AppStore(db);
    const scripts = new ScriptStore(db);
    const triggerStore = new TriggerStore(db);
    const triggerCache = new TriggerCache(db, (q, app) => listTriggers(q, { app }));
    await triggerCache.start();
    cleanups.push(() => triggerCache.stop());
    // The dispatcher is created below; writes committed before it exists are found when it starts.
    let dispatcher: Dispatcher | undefined;
    const outbox = new EventOutbox({
      triggers: triggerCache,
      clock,
      maxChainDepth: config.eventMaxChainDepth,
      onCommitted: () => dispatcher?.wake(),
    });
    const kv = new KvStore(db, outbox);
    const invocations = new InvocationStore(db);
    const tokens = new TokenStore(db);

    let initialAdminToken: string | undefined;
    if (config.adminToken) await tokens.ensure("PICLOUD_ADMIN_TOKEN", config.adminToken);
    else if ((await tokens.count()) === 0) initialAdminToken = (await tokens.create("initial")).token;

    const executor = await WorkerPool.start({
      workers: config.executorWorkers,
      logger: logger.child({ role: "executor" }),
      instanceMaxUses: config.instanceMaxUses,
      instanceMaxAgeMs: config.instanceMaxAgeMs,
    });
    cleanups.push(() => executor.close());

    const invocationStats = new InvocationStatsStore(db);
    const recorder = new InvocationRecorder(
      { invocations, stats: invocationStats },
      DEFAULT_RECORDER_OPTIONS,
      logger.child({ role: "recorder" }),
    );
    cleanups.push(() => recorder.stop());

    const scriptCache = new ScriptCache({ apps, scripts, db, config });
    await scriptCache.start();
    cleanups.push(() => scriptCache.stop());

    const invoker = new Invoker({ executor, kv, recorder, clock });
    dispatcher = new Dispatcher(
      {
        db,
        scripts: scriptCache,
        triggers: triggerCache,
        invoker,
        clock,
        logger: logger.child({ role: "dispatcher" }),
        ...(options.random && { random: options.random }),
      },
      {
        nodeId: config.nodeId,
        leaseMs: config.eventLeaseMs,
        concurrency: config.eventConcurrency,
        maxSleepMs: 60 * 60_000,
        exclusive: embedded,
      },
    );
    const scheduler = new Scheduler({
      db,
      triggers: triggerCache,
      clock,
      logger: logger.child({ role: "scheduler" }),
      onFired: () => dispatcher?.wake(),
    });
    const events = new EventStore(db);
    const services: ApiServices = {
      config,
      apps,
      scripts,
      kv,
      invocations,
      invocationStats,
      tokens,
      auth: new AdminAuth(tokens),
      control: new ControlPlane({ db, apps, scripts, triggerStore, scriptCache, triggerCache, executor, dispatcher, clock }),
      scriptCache,
      invoker,
      recorder,
      executor,
      triggers: triggerStore,
      triggerCache,
      events,
      deadLetters: new DeadLetterStore(db),
      dispatcher,
      scheduler,
      metrics: new RuntimeMetrics({
        recorder,
        version: PICLOUD_VERSION,
        executor: { workers: () => config.executorWorkers, inFlight: () => executor.inFlightCount() },
        db,
      }),
    };
    cleanups.push(() => services.metrics.stop());
    await dispatcher.start();
    cleanups.push(() => dispatcher?.stop());
    await scheduler.start();
    cleanups.push(() => scheduler.stop());
    const retention = { maxCount: config.invocationRetentionCount, maxAgeMs: config.invocationRetentionHours * 3_600_000 };
    cleanups.push(
      startRetention(
        {
          invocations: () => invocations.prune({ ...retention, now: clock.now() }),
          invocationStats: () => invocationStats.prune({ maxAgeMs: STATS_RETENTION_MS, now: clock.now() }),
          events: () => events.prune({ ...retention, now: clock.now() }),
        },
        RETENTION_INTERVAL_MS,
        logger.child({ role: "retention" }),
      ),
    );
    const app = await buildHttpApp(services, { logger, version: PICLOUD_VERSION, ...(options.uiDir && { uiDir: options.uiDir }) });
    let closing: Promise<void> | undefined;

    return {
      app,
      services,
      db,
      initialAdminToken,
      dataLocation: config.databaseUrl ? redactUrl(config.databaseUrl) : pgliteLocation,
      async listen() {
        await app.listen({ host: config.host, port: config.port });
        const address = app.server.address();
        const port = typeof address === "object" && address ? address.port : config.port;
        const host = config.host.includes(":") ? `[${config.host}]` : config.host;
        return `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
      },
      close() {
        // Stop accepting and drain in-flight requests first; then the roles, then the database.
        closing ??= (async () => {
          await app.close();
          for (const cleanup of cleanups.reverse()) await cleanup();
          lock?.release();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    lock?.release();
    throw error;
  }
}
