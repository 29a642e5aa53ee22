// Composition root: config -> logger -> core -> roles -> HTTP -> listen. A process is the core plus
// the roles it runs: `serve` (and the Electron main process, and the tests) runs manager + node,
// `picloud manager` the manager alone, `picloud node` a node alone. Returns a handle that shuts
// everything down in reverse order.
import type { FastifyInstance } from "fastify";
import { type Core, startCore } from "./core/core.js";
import { Stoppers } from "./core/stoppers.js";
import { buildHttpApp, type HttpRole } from "./manager/http-app.js";
import { RuntimeMetrics } from "./manager/metrics.js";
import { registerMetricsRoute } from "./manager/routes/metrics.js";
import { type ManagerRole, startManager } from "./manager/manager.js";
import type { ApiServices } from "./manager/services.js";
import type { WorkerPool } from "./executor/worker-pool.js";
import { type NodeRole, type NodeServices, startExecutor, startNode } from "./node/node.js";
import { BootPhases } from "./shared/boot-phases.js";
import type { Clock } from "./shared/clock.js";
import type { Config } from "./shared/config.js";
import type { Logger } from "./shared/log.js";
import { PiCloudError } from "./shared/errors.js";
import { PICLOUD_VERSION } from "./shared/version.js";
import type { Db } from "./store/db.js";
import type { Resolver } from "./bindings/fetch/host.js";

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
}

/** Everything `serve` runs, flat: the admin API's services plus the node's (tests reach in here). */
export type RuntimeServices = ApiServices & NodeServices & { readonly metrics: RuntimeMetrics };

export interface Runtime {
  readonly app: FastifyInstance;
  readonly services: RuntimeServices;
  readonly core: Core;
  readonly db: Db;
  /** See ManagerRole.createInitialAdminToken: call after listen. */
  createInitialAdminToken(): Promise<string | undefined>;
  /** When each start-up step finished, in ms since the process started. */
  readonly phases: BootPhases;
  /** Where data lives: the PGlite directory or the (password-less) database URL. */
  readonly dataLocation: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** A process's HTTP server over its roles, with listen and an ordered close. */
interface Served {
  readonly app: FastifyInstance;
  listen(): Promise<string>;
  close(): Promise<void>;
}

async function serveRoles(core: Core, roles: readonly HttpRole[], stoppers: Stoppers): Promise<Served> {
  const { config, logger } = core;
  const app = await buildHttpApp({ config, logger, version: PICLOUD_VERSION }, roles);
  let closing: Promise<void> | undefined;
  return {
    app,
    async listen() {
      try {
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
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      return `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    },
    close() {
      // Stop accepting and drain in-flight requests first; then the roles, then the core.
      closing ??= (async () => {
        await app.close();
        await stoppers.stopAll();
      })();
      return closing;
    },
  };
}

/** GET /metrics for this process: its own recorder and executor. */
function startMetrics(
  core: Core,
  node: Pick<NodeServices, "recorder" | "executor">,
  stoppers: Stoppers,
): HttpRole & { metrics: RuntimeMetrics } {
  const { config } = core;
  const metrics = new RuntimeMetrics({
    recorder: node.recorder,
    version: PICLOUD_VERSION,
    executor: {
      workers: () => config.executorWorkers,
      stats: () => node.executor.stats(),
      workerStats: () => node.executor.workerStats(),
    },
    db: core.db,
  });
  stoppers.push(() => metrics.stop());
  return {
    metrics,
    registerHttp: async (app) => registerMetricsRoute(app, { metrics, auth: core.auth, public: config.metricsPublic }),
  };
}

/** Starts roles on a fresh core; on failure, stops whatever was started. */
async function compose<T>(options: RuntimeOptions, build: (core: Core, stoppers: Stoppers) => Promise<T>): Promise<T> {
  const core = await startCore(options);
  const stoppers = new Stoppers();
  stoppers.push(() => core.stop());
  try {
    return await build(core, stoppers);
  } catch (error) {
    await stoppers.stopAll().catch(() => {});
    throw error;
  }
}

/** `serve`: core + node + manager in one process (the default, and the desktop app's mode). */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const phases = new BootPhases();
  // The worker threads start (each compiles QuickJS) while the core opens the database.
  const executor = startExecutor(options.config, options.logger).then((pool) => {
    phases.mark("workers");
    return pool;
  });
  executor.catch(() => {}); // observed below; a core failure is the one to report
  let handedOver = false;
  try {
    return await composeServe(options, phases, () => {
      handedOver = true;
      return executor;
    });
  } catch (error) {
    if (!handedOver) await executor.then((pool) => pool.close()).catch(() => {});
    throw error;
  }
}

function composeServe(options: RuntimeOptions, phases: BootPhases, takeExecutor: () => Promise<WorkerPool>): Promise<Runtime> {
  return compose(options, async (core, stoppers) => {
    phases.mark("database");
    const node: NodeRole = await startNode(core, { executor: takeExecutor(), ...(options.random && { random: options.random }) });
    stoppers.push(() => node.stop());
    const manager: ManagerRole = await startManager(core, { node: node.services, ...(options.uiDir && { uiDir: options.uiDir }) });
    stoppers.push(() => manager.stop());
    const metrics = startMetrics(core, node.services, stoppers);
    const served = await serveRoles(core, [metrics, manager, node], stoppers);
    phases.mark("http");
    return {
      ...served,
      phases,
      async listen() {
        const url = await served.listen();
        phases.mark("listening");
        return url;
      },
      services: { ...manager.services, ...node.services, metrics: metrics.metrics },
      core,
      db: core.db,
      createInitialAdminToken: () => manager.createInitialAdminToken(),
      dataLocation: core.dataLocation,
    };
  });
}
