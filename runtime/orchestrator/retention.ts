// Keeps history tables bounded (invocation records, finished events): prunes on a slow timer.
import type { Logger } from "../shared/log.js";

export type PruneTask = () => Promise<number>;

export function startRetention(tasks: Record<string, PruneTask>, intervalMs: number, logger: Logger): () => void {
  const run = async () => {
    for (const [name, task] of Object.entries(tasks)) {
      try {
        const deleted = await task();
        if (deleted > 0) logger.debug({ table: name, deleted }, "pruned history");
      } catch (error) {
        logger.error({ err: error, table: name }, "could not prune history");
      }
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
