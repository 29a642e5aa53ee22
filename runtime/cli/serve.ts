// `picloud serve`: the all-in-one runtime in the foreground, shut down gracefully on SIGTERM/SIGINT.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startRuntime } from "../main.js";
import { type ConfigFlags, loadConfig } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { PICLOUD_VERSION } from "../shared/version.js";

export async function serve(flags: ConfigFlags): Promise<void> {
  const config = loadConfig(flags);
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime({ config, logger });
  let url: string;
  try {
    url = await runtime.listen();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    runtime.close().then(
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
  const lines = [`PiCloud ${PICLOUD_VERSION} listening on ${url}`, `Data: ${runtime.dataLocation}`];
  const token = await runtime.createInitialAdminToken();
  if (token) {
    lines.push(`Admin token (shown once, store it now): ${token}`);
    lines.push(`  export PICLOUD_URL=${url} PICLOUD_TOKEN=${token}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  // `code` tells a bundle (out/runtime) from the TypeScript sources (runtime/cli).
  logger.info({ phases: runtime.phases.toJSON(), code: path.dirname(fileURLToPath(import.meta.url)) }, "started (ms since process start)");
}
