// The node role: runs scripts. Script endpoints (ingress), the invoker over the QuickJS executor,
// the event dispatcher, the scheduler and the invocation recorder. Any number of nodes share one
// database; `serve` runs one node beside the manager in the same process.
import type { FastifyInstance } from "fastify";
import type { Core } from "../core/core.js";
import { Stoppers } from "../core/stoppers.js";
import type { InlineOptions } from "../executor/inline-policy.js";
import { queueOptionsOf, WorkerPool } from "../executor/worker-pool.js";
import { Dispatcher } from "../orchestrator/dispatcher.js";
import { registerIngress } from "../orchestrator/ingress.js";
import { DEFAULT_RECORDER_OPTIONS, InvocationRecorder } from "../orchestrator/invocation-recorder.js";
import { Invoker } from "../orchestrator/invoker.js";
import { Scheduler } from "../orchestrator/scheduler.js";

/** This node's name as clients see it (`x-picloud-node`); set once the process knows its port. */
export interface NodeIdentity {
  name: string;
}

export interface NodeOptions {
  readonly identity?: NodeIdentity;
  /** Backoff jitter source (tests make it deterministic). */
  readonly random?: () => number;
  /** A pool the caller started early (while the database opened); the node owns it from here on. */
  readonly executor?: Promise<WorkerPool>;
}

/** The executor's worker threads; starting them takes a while (each compiles QuickJS), so callers may start it early. */
export function startExecutor(config: Core["config"], logger: Core["logger"], tuning: Partial<InlineOptions> = {}): Promise<WorkerPool> {
  const inlineCalls = config.executorInlineCalls;
  return WorkerPool.start({
    workers: config.executorWorkers,
    logger: logger.child({ role: "executor" }),
    instanceMaxUses: config.instanceMaxUses,
    instanceMaxAgeMs: config.instanceMaxAgeMs,
    queue: queueOptionsOf(config),
    inline: config.executorInline || inlineCalls ? { ...tuning, hostFree: config.executorInline, hostCalls: inlineCalls } : false,
  });
}

/**
 * On Postgres without a KV read cache, the executor workers serve scripts' kv calls on pools of their
 * own (executor/worker-kv.ts): no thread hop per call. Their trigger copies follow this process's
 * TriggerCache, and their trigger events wake this process's dispatcher. A cache (PGlite's, or
 * PICLOUD_KV_CACHE_MIB on Postgres) lives on the main thread, so calls keep crossing there; so do they
 * under an injected clock (tests), which the workers could not share.
 */
function serveKvInWorkers(core: Core, executor: WorkerPool): void {
  const { config, dbClock, bus } = core;
  if (!config.databaseUrl || core.kvCache || !dbClock || core.clock !== dbClock || config.kvWorkerConnections === 0) return;
  core.triggerCache.onChange((app) => executor.kvTriggersChanged(app));
  executor.serveKvInWorkers(
    {
      databaseUrl: config.databaseUrl,
      poolSize: config.kvWorkerConnections,
      maxChainDepth: config.eventMaxChainDepth,
      origin: bus.origin,
      clockOffsetMs: dbClock.offset,
    },
    () => void bus.publish("events.due", {}),
  );
}

/** What a node runs; `serve` hands the same instances to the manager (test runs, live stream). */
export interface NodeServices {
  readonly executor: WorkerPool;
  readonly recorder: InvocationRecorder;
  readonly invoker: Invoker;
  readonly dispatcher: Dispatcher;
  readonly scheduler: Scheduler;
}

export interface NodeRole {
  readonly services: NodeServices;
  /** Adds this role's routes (the script endpoints) to the process's HTTP server. */
  registerHttp(app: FastifyInstance): Promise<void>;
  stop(): Promise<void>;
}

export async function startNode(core: Core, options: NodeOptions = {}): Promise<NodeRole> {
  const { config, logger, clock, db, bus } = core;
  const stoppers = new Stoppers();
  try {
    const executor = await (options.executor ?? startExecutor(config, logger));
    stoppers.push(() => executor.close());
    // New settings (limits, strict mode) apply to fresh sandboxes only.
    stoppers.push(bus.subscribe("apps.changed", ({ app }) => executor.forgetApp(app)));

    const recorder = new InvocationRecorder(
      { invocations: core.invocations, stats: core.invocationStats },
      DEFAULT_RECORDER_OPTIONS,
      logger.child({ role: "recorder" }),
    );
    stoppers.push(() => recorder.stop());

    const invoker = new Invoker({ executor, kv: core.kv, recorder, clock, appBindings: core.appBindings, resolver: core.resolver });
    const dispatcher = new Dispatcher(
      {
        db,
        scripts: core.scriptCache,
        triggers: core.triggerCache,
        invoker,
        clock,
        logger: logger.child({ role: "dispatcher" }),
        origin: bus.origin,
        ...(options.random && { random: options.random }),
      },
      {
        nodeId: config.nodeId,
        leaseMs: config.eventLeaseMs,
        concurrency: config.eventConcurrency,
        maxSleepMs: 60 * 60_000,
        exclusive: core.embedded,
      },
    );
    const scheduler = new Scheduler({
      db,
      triggers: core.triggerCache,
      clock,
      logger: logger.child({ role: "scheduler" }),
      origin: bus.origin,
      onFired: () => void bus.publish("events.due", {}),
    });
    stoppers.push(bus.subscribe("events.due", () => dispatcher.wake()));
    // Trigger events of this process's own writes go straight to its dispatcher when it has room.
    core.outbox.handOffTo(dispatcher);
    stoppers.push(() => core.outbox.handOffTo(undefined));
    serveKvInWorkers(core, executor);
    // Events inserted while LISTEN was away were not announced: look for due work now.
    stoppers.push(bus.onReconnect(() => dispatcher.wake()));
    await dispatcher.start();
    stoppers.push(() => dispatcher.stop());
    await scheduler.start();
    stoppers.push(() => scheduler.stop());

    return {
      services: { executor, recorder, invoker, dispatcher, scheduler },
      async registerHttp(app) {
        // Every script response names the node that ran it (load-balancer debugging, cluster tests).
        await registerIngress(app, {
          scripts: core.scriptCache,
          invoker,
          bodyLimitBytes: config.bodyLimitBytes,
          identity: options.identity,
        });
      },
      stop: () => stoppers.stopAll(),
    };
  } catch (error) {
    await stoppers.stopAll().catch(() => {});
    throw error;
  }
}
