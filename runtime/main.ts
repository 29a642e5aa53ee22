// Composition root: config -> logger -> core -> roles -> HTTP -> listen. A process is the core plus
// the roles it runs: `serve` (and the Electron main process, and the tests) runs manager + node,
// `picloud manager` the manager alone, `picloud node` a node alone. Returns a handle that shuts
// everything down in reverse order.
import type { FastifyInstance } from "fastify";
import os from "node:os";
import { type Core, startCore } from "./core/core.js";
import { healthRoutes } from "./core/health.js";
import { advertisedUrl, localUrl } from "./core/advertised-url.js";
import { defaultNodeName, Membership } from "./core/membership.js";
import { Stoppers } from "./core/stoppers.js";
import { buildHttpApp, type HttpRole } from "./manager/http-app.js";
import { RuntimeMetrics } from "./manager/metrics.js";
import { registerMetricsRoute } from "./manager/routes/metrics.js";
import { startManager } from "./manager/manager.js";
import type { ApiServices } from "./manager/services.js";
import { LoadWindow } from "./node/load.js";
import { registerNoAdminApi } from "./node/no-admin-api.js";
import type { InlineOptions } from "./executor/inline-policy.js";
import type { WorkerPool } from "./executor/worker-pool.js";
import { type NodeIdentity, type NodeServices, startExecutor, startNode } from "./node/node.js";
import { holdYoungGenerations, limitHeapGrowth } from "./shared/heap-growth.js";
import { BootPhases } from "./shared/boot-phases.js";
import { PiCloudError } from "./shared/errors.js";
import type { Resolver } from "./bindings/fetch/host.js";
import type { Clock } from "./shared/clock.js";
import type { Config } from "./shared/config.js";
import type { Logger } from "./shared/log.js";
import { PICLOUD_VERSION } from "./shared/version.js";
import type { Db } from "./store/db.js";
import type { NodeRoleName } from "./store/nodes.js";

export interface RuntimeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Tests pass "memory://" to skip the data directory entirely. */
  readonly pgliteLocation?: string;
  /** Backoff jitter source (tests make it deterministic). */
  readonly random?: () => number;
  /** DNS for scripts' outbound fetch (tests inject one so that no name leaves the machine). */
  readonly resolver?: Resolver;
  /** The built renderer to serve at / (the Electron build passes its own). */
  readonly uiDir?: string;
  /** Tuning of inline runs when the config switches them on (tests shorten the promotion). */
  readonly inline?: Partial<InlineOptions>;
}

/** What a process runs: `serve` everything; a cluster has one `manager` and any number of `node`s. */
export type ProcessRole = NodeRoleName;

/** Everything `serve` runs, flat: the admin API's services plus the node's (tests reach in here). */
export type RuntimeServices = ApiServices & NodeServices & { readonly metrics: RuntimeMetrics };

/** A running process: its HTTP server, roles and shutdown paths. */
export interface RoleProcess {
  readonly role: ProcessRole;
  readonly app: FastifyInstance;
  readonly core: Core;
  readonly db: Db;
  /** Manager and serve: see ManagerRole.createInitialAdminToken (call after listen). */
  createInitialAdminToken(): Promise<string | undefined>;
  /** When each start-up step finished, in ms since the process started. */
  readonly phases: BootPhases;
  /** Where data lives: the PGlite directory or the (password-less) database URL. */
  readonly dataLocation: string;
  /** Whether a secrets key is configured: without one, app secrets cannot be set. */
  readonly secretsAvailable: boolean;
  /** This process's name in the nodes table and in `x-picloud-node`. */
  readonly name: () => string;
  /** Listens, then registers this process in the nodes table (heartbeats start). */
  listen(): Promise<string>;
  /**
   * SIGTERM: /readyz answers 503 at once, the node stops claiming events, in-flight requests and
   * events get `drainTimeoutMs` to finish (unfinished events are handed back), records are
   * flushed, the process deregisters and everything closes.
   */
  drain(): Promise<void>;
  /** Stops at once (in-flight HTTP requests still finish). */
  close(): Promise<void>;
}

export interface Runtime extends RoleProcess {
  readonly services: RuntimeServices;
}

/** GET /metrics for this process: its own recorder and executor. */
function startMetrics(
  core: Core,
  runner: Pick<NodeServices, "recorder" | "executor">,
  stoppers: Stoppers,
): HttpRole & { metrics: RuntimeMetrics } {
  const { config } = core;
  const metrics = new RuntimeMetrics({
    recorder: runner.recorder,
    version: PICLOUD_VERSION,
    executor: {
      workers: () => config.executorWorkers,
      burstWorkers: () => runner.executor.burstWorkers(),
      stats: () => runner.executor.stats(),
      refusals: () => runner.executor.refusals(),
      workerStats: () => runner.executor.workerStats(),
      inlineStats: () => runner.executor.inlineStats(),
    },
    db: core.db,
    kvCache: core.kvCache,
    kvCacheStatus: () => core.kvCacheStatus(),
    wasmMemoryBytes: core.db.wasmMemoryBytes && (() => core.db.wasmMemoryBytes?.() ?? 0),
  });
  stoppers.push(() => metrics.stop());
  return {
    metrics,
    registerHttp: async (app) => registerMetricsRoute(app, { metrics, auth: core.auth, public: config.metricsPublic }),
  };
}

interface Started {
  readonly createInitialAdminToken?: () => Promise<string | undefined>;
  readonly runner: Pick<NodeServices, "recorder" | "executor">;
  readonly dispatcher?: NodeServices["dispatcher"];
  readonly roles: readonly HttpRole[];
}

/** Core, then the roles `build` starts, then one HTTP server over them; on failure, stops whatever started. */
async function startProcess<T extends Started>(
  role: ProcessRole,
  options: RuntimeOptions,
  build: (core: Core, stoppers: Stoppers, identity: NodeIdentity, executor: () => Promise<WorkerPool> | undefined) => Promise<T>,
): Promise<RoleProcess & { started: T; metrics: RuntimeMetrics }> {
  limitHeapGrowth();
  const phases = new BootPhases();
  // The worker threads start (each compiles QuickJS) while the core opens the database.
  const early =
    role === "manager"
      ? undefined
      : startExecutor(options.config, options.logger, options.inline).then((pool) => {
          phases.mark("workers");
          return pool;
        });
  early?.catch(() => {}); // observed below; a core failure is the one to report
  let handedOver = false;
  const takeExecutor = () => {
    handedOver = true;
    return early;
  };
  let core: Core;
  try {
    core = await startCore({ ...options, migrations: role === "node" ? "wait" : "apply", role, phases });
  } catch (error) {
    await early?.then((pool) => pool.close()).catch(() => {});
    throw error;
  }
  phases.mark("core");
  const { config, logger } = core;
  const stoppers = new Stoppers();
  stoppers.push(() => core.stop());
  try {
    const identity: NodeIdentity = { name: config.nodeName ?? os.hostname() };
    const started = await build(core, stoppers, identity, takeExecutor);
    phases.mark("roles");
    const metrics = startMetrics(core, started.runner, stoppers);
    const load = new LoadWindow();
    stoppers.push(started.runner.recorder.subscribe((record) => load.add(record.durationMs, record.status === "ok")));
    const membership = new Membership({
      store: core.nodes,
      bus: core.bus,
      id: config.nodeId,
      role,
      version: PICLOUD_VERSION,
      heartbeatMs: config.heartbeatMs,
      logger: logger.child({ role: "membership" }),
      ...(core.dbClock && { clock: core.dbClock }),
      exclusiveDatabase: core.embedded,
      load: () => ({
        ...load.summary(),
        inFlight: started.runner.executor.inFlightCount(),
        eventsClaimed: started.dispatcher?.claimedTotal ?? 0,
      }),
    });
    const app = await buildHttpApp({ config, logger, version: PICLOUD_VERSION }, [
      healthRoutes(core.db, core.lifecycle),
      metrics,
      ...started.roles,
    ]);
    phases.mark("http");
    let closing: Promise<void> | undefined;
    const close = (drainFirst: boolean) => {
      closing ??= (async () => {
        if (drainFirst) {
          core.lifecycle.draining = true;
          await membership.drain().catch(() => {});
          // Still serving while a load balancer's health checks notice the 503 on /readyz.
          if (config.drainGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainGraceMs));
          await Promise.all([app.close(), started.dispatcher?.drainAndStop(config.drainTimeoutMs)]);
        } else {
          await app.close();
        }
        await membership.stop();
        await stoppers.stopAll();
      })();
      return closing;
    };
    return {
      role,
      app,
      core,
      db: core.db,
      createInitialAdminToken: async () => started.createInitialAdminToken?.(),
      phases,
      dataLocation: core.dataLocation,
      secretsAvailable: core.secretsAvailable,
      name: () => identity.name,
      started,
      metrics: metrics.metrics,
      async listen() {
        try {
          await app.ready();
          phases.mark("ready");
          await app.listen({ host: config.host, port: config.port });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
          throw new PiCloudError(
            "PORT_IN_USE",
            `Port ${config.port} on ${config.host} is already in use (another PiCloud?). Start on another port with --port N, or --port 0 for any free one.`,
          );
        }
        const address = app.server.address();
        const port = typeof address === "object" && address ? address.port : config.port;
        const url = localUrl(config.host, port);
        identity.name = config.nodeName ?? defaultNodeName(url);
        await membership.start(identity.name, advertisedUrl(config.host, port, config.publicUrl));
        phases.mark("listening");
        holdYoungGenerations();
        return url;
      },
      drain: () => close(true),
      close: () => close(false),
    };
  } catch (error) {
    if (!handedOver) await early?.then((pool) => pool.close()).catch(() => {});
    await stoppers.stopAll().catch(() => {});
    throw error;
  }
}

/** `serve`: core + node + manager in one process (the default, and the desktop app's mode). */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const started = await startProcess("serve", options, async (core, stoppers, identity, executor) => {
    const node = await startNode(core, { identity, executor: executor(), ...(options.random && { random: options.random }) });
    stoppers.push(() => node.stop());
    const manager = await startManager(core, { node: node.services, ...(options.uiDir && { uiDir: options.uiDir }) });
    stoppers.push(() => manager.stop());
    return {
      runner: manager.runner,
      services: manager.services,
      createInitialAdminToken: () => manager.createInitialAdminToken(),
      node,
      dispatcher: node.services.dispatcher,
      roles: [manager, node],
    };
  });
  const { node, services } = started.started;
  return { ...started, services: { ...services, ...node.services, metrics: started.metrics } };
}

/** `picloud manager`: core + manager (admin API, dashboard, stream, retention, test runs). */
export function startManagerProcess(options: RuntimeOptions): Promise<RoleProcess> {
  return startProcess("manager", options, async (core, stoppers) => {
    const manager = await startManager(core, { ...(options.uiDir && { uiDir: options.uiDir }) });
    stoppers.push(() => manager.stop());
    return { runner: manager.runner, createInitialAdminToken: () => manager.createInitialAdminToken(), roles: [manager] };
  });
}

/** `picloud node`: core + node (script endpoints, executor, events, schedules); it never migrates. */
export function startNodeProcess(options: RuntimeOptions): Promise<RoleProcess> {
  return startProcess("node", options, async (core, stoppers, identity, executor) => {
    const node = await startNode(core, { identity, executor: executor(), ...(options.random && { random: options.random }) });
    stoppers.push(() => node.stop());
    return { runner: node.services, dispatcher: node.services.dispatcher, roles: [{ registerHttp: registerNoAdminApi }, node] };
  });
}
