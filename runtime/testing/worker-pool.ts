// A worker pool for the tests that hold its threads with endless loops: generous instance and queue
// limits (a test's loops end when it closes the pool), no SDK, and a wait on the pool's own state.
import { silentLogger } from "../shared/log.js";
import { type ExecutorQueueOptions, WorkerPool } from "../executor/worker-pool.js";
import { until } from "./until.js";

/** A host that answers every SDK call with null (these tests' scripts make none). */
export const noSdk = async (): Promise<string> => "null";

export const startPool = (workers: number, queue: Partial<ExecutorQueueOptions> = {}): Promise<WorkerPool> =>
  WorkerPool.start({
    workers,
    logger: silentLogger(),
    instanceMaxUses: 1_000,
    instanceMaxAgeMs: 60_000,
    queue: { queueTimeoutMs: 60_000, ...queue },
  });

/** Waits until `done()` holds (the pool's stats, its burst workers), checked every 20 ms. */
export const untilTrue = (done: () => boolean, what: string, timeoutMs = 30_000): Promise<true> =>
  until(what, async () => done() || undefined, timeoutMs, 20);
