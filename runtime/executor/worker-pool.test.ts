// Engine faults: a worker thread that dies mid-invocation is replaced; its invocation fails with
// ENGINE_FAULT and nothing else is affected.
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeRequest } from "../shared/wire.js";
import { WorkerPool } from "./worker-pool.js";

const request = (source: string, overrides: Partial<InvokeRequest> = {}): InvokeRequest => ({
  app: "a",
  script: "s",
  version: 1,
  source,
  context: { app: "a", script: "s" },
  limits: { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000 },
  strict: false,
  trigger: "test",
  ...overrides,
});

const noSdk = async () => "null";

/** Fault injection: the pool's worker threads (private by design). */
const workersOf = (pool: WorkerPool) => (pool as unknown as { slots: { worker: Worker; inFlight: Map<number, unknown> }[] }).slots;

describe("worker pool", () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    pool = await WorkerPool.start({ workers: 2, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 60_000 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("a worker that dies mid-invocation fails that invocation with ENGINE_FAULT and is replaced", async () => {
    const busy = pool.invoke(
      request("export default async function () { const end = Date.now() + 3000; while (Date.now() < end) {} return 'done' }", {
        version: 2,
      }),
      noSdk,
    );
    await new Promise((r) => setTimeout(r, 200));
    const slot = workersOf(pool).find((s) => s.inFlight.size > 0);
    expect(slot).toBeDefined();
    const dead = slot?.worker;
    await dead?.terminate();
    const outcome = await busy;
    expect(outcome).toMatchObject({ ok: false, error: { code: "ENGINE_FAULT" } });
    // The replacement serves again; the pool keeps its size.
    for (let i = 0; i < 6; i++) {
      const next = await pool.invoke(request("export default async function () { return 'alive' }", { version: 3 }), noSdk);
      expect(next).toMatchObject({ ok: true, resultJson: '"alive"' });
    }
    expect(workersOf(pool)).toHaveLength(2);
    expect(workersOf(pool).some((s) => s.worker === dead)).toBe(false);
  });

  it("a script's source reaches a fresh worker after a restart (no stale source cache)", async () => {
    const outcome = await pool.invoke(request("export default async function () { return 'v1 again' }", { version: 1 }), noSdk);
    expect(outcome).toMatchObject({ ok: true, resultJson: '"v1 again"' });
  });

  it("refuses work once closed", async () => {
    const closing = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 10, instanceMaxAgeMs: 1_000 });
    await closing.close();
    await expect(closing.invoke(request("export default async () => 1"), noSdk)).rejects.toMatchObject({ code: "EXECUTOR_UNAVAILABLE" });
  });
});
