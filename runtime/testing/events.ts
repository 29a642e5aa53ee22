// Events as another process queues them, for dispatcher tests: pending, due now, its NOTIFY not heard
// by the dispatcher under test (the test wakes it, or inserts it through EventStore itself).
import { Dispatcher } from "../orchestrator/dispatcher.js";
import type { Invoker } from "../orchestrator/invoker.js";
import type { ScriptCache } from "../orchestrator/script-cache.js";
import type { TriggerCache } from "../orchestrator/trigger-cache.js";
import { systemClock } from "../shared/clock.js";
import { silentLogger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import type { NewEvent } from "../store/events.js";
import { migrate } from "../store/migrate.js";
import { openPglite } from "../store/pglite/index.js";

export const queuedEvent = (app: string, script: string): NewEvent => ({
  app,
  triggerId: null,
  script,
  kind: "kv",
  payloadJson: '{"type":"kv"}',
  chainDepth: 0,
  runAt: Date.now(),
  maxAttempts: 3,
  backoffMs: 1_000,
  backoffMaxMs: 1_000,
});

/**
 * A dispatcher (node "n1", exclusive) on a fresh in-memory PGlite holding app "a", whose scripts all have
 * a 1 s wall limit and no dead-letter handler. `wrap` puts a Db of the test's in front of the database
 * (to delay or count statements); `database` is the real one. Not started.
 */
export async function pgliteDispatcher(options: {
  invoker: Invoker;
  leaseMs: number;
  concurrency: number;
  wrap?: (database: Db) => Db;
  random?: () => number;
}): Promise<{ database: Db; dispatcher: Dispatcher; close: () => Promise<void> }> {
  const database = await openPglite("memory://");
  await migrate(database);
  await database.query("insert into apps (id) values ('a')");
  const dispatcher = new Dispatcher(
    {
      db: options.wrap ? options.wrap(database) : database,
      scripts: { get: async () => ({ limits: { wallMs: 1_000 } }) } as unknown as ScriptCache,
      triggers: { deadLetterHandler: async () => undefined } as unknown as TriggerCache,
      invoker: options.invoker,
      clock: systemClock,
      logger: silentLogger(),
      origin: "this-runtime",
      ...(options.random && { random: options.random }),
    },
    { nodeId: "n1", leaseMs: options.leaseMs, concurrency: options.concurrency, exclusive: true, maxSleepMs: 3_600_000 },
  );
  return {
    database,
    dispatcher,
    close: async () => {
      await dispatcher.drainAndStop(1_000);
      await database.close();
    },
  };
}
