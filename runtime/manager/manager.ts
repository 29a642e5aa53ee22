// The manager role: the admin API (apps, scripts, KV, triggers, events, tokens), the live stream,
// the dashboard, retention and test runs. One manager per cluster; `serve` runs it beside a node.
import type { FastifyInstance } from "fastify";
import type { Core } from "../core/core.js";
import { Stoppers } from "../core/stoppers.js";
import { validateScript } from "../executor/validate.js";
import { queueOptionsOf, WorkerPool } from "../executor/worker-pool.js";
import type { NodeServices } from "../node/node.js";
import { DEFAULT_RECORDER_OPTIONS, InvocationRecorder } from "../orchestrator/invocation-recorder.js";
import { effectiveSettings } from "../orchestrator/effective-settings.js";
import { Invoker } from "../orchestrator/invoker.js";
import { startRetention } from "../orchestrator/retention.js";
import { registerAdminApi, type RouteModule } from "./admin-api.js";
import { ControlPlane } from "./control-plane.js";
import { DEFAULT_UI_DIR, registerDashboard } from "./dashboard.js";
import { scriptEndpoints } from "./script-endpoints.js";
import type { ApiServices, EventFeed } from "./services.js";

const RETENTION_INTERVAL_MS = 5 * 60_000;
/** Per-minute aggregates are small (one row per active script and minute): kept for 30 days. */
const STATS_RETENTION_MS = 30 * 24 * 3_600_000;

export interface ManagerOptions {
  /** The node in the same process (`serve`): test runs and the live stream use it. */
  readonly node?: Pick<NodeServices, "invoker" | "recorder" | "dispatcher" | "executor">;
  /** The built renderer to serve at / (the Electron build passes its own). */
  readonly uiDir?: string;
  readonly extraApiRoutes?: readonly RouteModule[];
}

export interface ManagerRole {
  readonly services: ApiServices;
  /**
   * Creates the first admin token when there is none and no PICLOUD_ADMIN_TOKEN, and returns its
   * only plain-text copy. Call it once the server listens: a start that fails (a busy port) must
   * not use up the one chance to see it.
   */
  createInitialAdminToken(): Promise<string | undefined>;
  /** What runs test invocations (the node's services in `serve`). */
  readonly runner: Runner;
  /** Adds the admin API and the dashboard to the process's HTTP server. */
  registerHttp(app: FastifyInstance): Promise<void>;
  stop(): Promise<void>;
}

type Runner = Pick<NodeServices, "invoker" | "recorder" | "executor">;

/** A manager without a node in its process sees no event state changes (nodes run events). */
const NO_EVENT_FEED: EventFeed = { subscribe: () => () => {} };

export async function startManager(core: Core, options: ManagerOptions = {}): Promise<ManagerRole> {
  const { config, logger, clock, tokens } = core;
  const stoppers = new Stoppers();
  try {
    if (config.adminToken) await tokens.ensure("PICLOUD_ADMIN_TOKEN", config.adminToken);

    // Test runs need an executor: the node's in `serve`, a small one of the manager's own otherwise.
    const runner: Runner = options.node ?? (await startTestRunner(core, stoppers));

    const services: ApiServices = {
      config,
      secrets: core.secrets,
      egress: core.egress,
      appBindings: core.appBindings,
      apps: core.apps,
      scripts: core.scripts,
      kv: core.kv,
      invocations: core.invocations,
      invocationStats: core.invocationStats,
      tokens,
      auth: core.auth,
      control: new ControlPlane({
        db: core.db,
        apps: core.apps,
        scripts: core.scripts,
        triggerStore: core.triggerStore,
        scriptCache: core.scriptCache,
        triggerCache: core.triggerCache,
        bus: core.bus,
        clock,
        // Every deploy runs the module's top level once on this process's executor, under the limits it will run with.
        check: async ({ app, name, source }) => {
          const appRow = await core.apps.require(app);
          const own = await core.scripts.settings(app, name).catch(() => ({}));
          const { limits } = effectiveSettings(config.limits, appRow.settings, own);
          await validateScript(runner.executor, { app, name, source, limits });
        },
      }),
      scriptCache: core.scriptCache,
      invoker: runner.invoker,
      recorder: runner.recorder,
      triggers: core.triggerStore,
      triggerCache: core.triggerCache,
      events: core.events,
      deadLetters: core.deadLetters,
      dispatcher: options.node?.dispatcher ?? NO_EVENT_FEED,
      nodes: core.nodes,
      // `serve` runs a node beside the manager; a manager alone hands out its nodes' addresses.
      endpoints: scriptEndpoints(options.node !== undefined, core.nodes),
    };

    const retention = { maxCount: config.invocationRetentionCount, maxAgeMs: config.invocationRetentionHours * 3_600_000 };
    stoppers.push(
      startRetention(
        {
          invocations: () => core.invocations.prune({ ...retention, now: clock.now() }),
          // Nodes down for a day are forgotten (a SIGTERMed node removes itself at once).
          nodes: () => core.nodes.pruneDown(24 * 3_600_000),
          invocationStats: () => core.invocationStats.prune({ maxAgeMs: STATS_RETENTION_MS, now: clock.now() }),
          events: () => core.events.prune({ ...retention, now: clock.now() }),
        },
        RETENTION_INTERVAL_MS,
        logger.child({ role: "retention" }),
      ),
    );

    return {
      services,
      runner,
      async createInitialAdminToken() {
        if (config.adminToken || (await tokens.count()) > 0) return undefined;
        return (await tokens.create("initial")).token;
      },
      async registerHttp(app) {
        await registerAdminApi(app, services, options.extraApiRoutes);
        await registerDashboard(app, options.uiDir ?? DEFAULT_UI_DIR);
      },
      stop: () => stoppers.stopAll(),
    };
  } catch (error) {
    await stoppers.stopAll().catch(() => {});
    throw error;
  }
}

/** A manager without a node in its process runs test invocations on a one-worker executor of its own. */
async function startTestRunner(core: Core, stoppers: Stoppers): Promise<Runner> {
  const { config, logger, clock } = core;
  const executor = await WorkerPool.start({
    workers: 1,
    logger: logger.child({ role: "executor" }),
    instanceMaxUses: config.instanceMaxUses,
    instanceMaxAgeMs: config.instanceMaxAgeMs,
    queue: queueOptionsOf(config),
  });
  stoppers.push(() => executor.close());
  stoppers.push(core.bus.subscribe("apps.changed", ({ app }) => executor.forgetApp(app)));
  const recorder = new InvocationRecorder(
    { invocations: core.invocations, stats: core.invocationStats },
    DEFAULT_RECORDER_OPTIONS,
    logger.child({ role: "recorder" }),
  );
  stoppers.push(() => recorder.stop());
  return {
    executor,
    recorder,
    invoker: new Invoker({ executor, kv: core.kv, recorder, clock, appBindings: core.appBindings, resolver: core.resolver }),
  };
}
