// `picloud serve`, `picloud manager` and `picloud node`: a runtime process in the foreground,
// drained gracefully on SIGTERM/SIGINT (exit 0 once everything is handed over and closed).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type RoleProcess, type RuntimeOptions, startManagerProcess, startNodeProcess, startRuntime } from "../main.js";
import { type Config, type ConfigFlags, loadConfig } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { PICLOUD_VERSION } from "../shared/version.js";

type Starter = (options: RuntimeOptions) => Promise<RoleProcess>;

async function run(flags: ConfigFlags, start: Starter, banner: (process: RoleProcess, url: string) => string[]): Promise<void> {
  const config = loadConfig(flags);
  const logger = createLogger(config.logLevel);
  const runtime = await start({ config, logger });
  let url: string;
  try {
    url = await runtime.listen();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, "draining");
    const force = setTimeout(() => process.exit(1), forceExitAfterMs(config));
    force.unref();
    runtime.drain().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  // One write, so a reader never sees the URL without the token line that belongs with it.
  const lines = banner(runtime, url);
  if (!runtime.secretsAvailable) lines.push(SECRETS_OFF);
  const token = await runtime.createInitialAdminToken();
  if (token) {
    lines.push(`Admin token (shown once, store it now): ${token}`);
    lines.push(`  export PICLOUD_URL=${url} PICLOUD_TOKEN=${token}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  // `code` tells a bundle (out/runtime) from the TypeScript sources (runtime/cli).
  // `cpuMs`: CPU time of all threads so far; on a busy machine it says more than the wall-clock marks.
  const cpu = process.cpuUsage();
  logger.info(
    {
      phases: runtime.phases.toJSON(),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      code: path.dirname(fileURLToPath(import.meta.url)),
    },
    "started (ms since process start)",
  );
}

/** Said at start when no secrets key is configured (a Postgres database has no data directory to keep one in). */
const SECRETS_OFF =
  "Secrets: off until a key is set: PICLOUD_SECRETS_KEY or PICLOUD_SECRETS_KEY_FILE, the same on every process (docs/scripts.md)";

/** Drain grace + drain timeout + time to flush and close; past that the process exits 1. */
function forceExitAfterMs(config: Config): number {
  return config.drainGraceMs + config.drainTimeoutMs + 15_000;
}

export function serve(flags: ConfigFlags): Promise<void> {
  return run(flags, startRuntime, (runtime, url) => [`PiCloud ${PICLOUD_VERSION} listening on ${url}`, `Data: ${runtime.dataLocation}`]);
}

export function manager(flags: ConfigFlags): Promise<void> {
  return run(flags, startManagerProcess, (runtime, url) => [
    `PiCloud ${PICLOUD_VERSION} manager listening on ${url}`,
    `Data: ${runtime.dataLocation}`,
  ]);
}

export function node(flags: ConfigFlags): Promise<void> {
  return run(flags, startNodeProcess, (runtime, url) => [`node ${runtime.name()} listening on ${url}`]);
}
