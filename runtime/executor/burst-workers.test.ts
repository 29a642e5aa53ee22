// Burst workers: while every worker is held by a long run, other apps' quick runs go to a few extra
// threads instead of waiting for those runs to end; a lone heavy app keeps just the regular workers,
// the cap holds however many heavy apps there are, and idle burst workers stop.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import type { InvokeRequest } from "../shared/wire.js";
import { noSdk, startPool, untilTrue } from "../testing/worker-pool.js";
import type { WorkerPool } from "./worker-pool.js";

/** Endless loops end at this CPU limit (the most allowed), or when the pool closes: longer than any test here. */
const SPIN_LIMITS = { ...DEFAULT_LIMITS, cpuMs: 60_000, wallMs: 60_000 };
const SPIN = "export default async function () { while (true) {} }";
const QUICK = "export default async function (ctx) { return ctx.app }";

const request = (app: string, source: string, limits = DEFAULT_LIMITS): InvokeRequest => ({
  app,
  script: "s",
  version: 1,
  source,
  context: { app, script: "s" },
  limits,
  strict: false,
  trigger: "test",
});
/** An endless loop; one still queued when the pool closes is refused, which counts as its end here. */
const spin = (pool: WorkerPool, app: string) =>
  pool.invoke(request(app, SPIN, SPIN_LIMITS), noSdk).catch((error: { code: string }) => ({ ok: false, refused: error.code }));

describe("burst workers", () => {
  it("a quick run of another app answers while one app's endless loops hold every worker; the burst worker stops when idle", async () => {
    const pool = await startPool(2, { burstIdleMs: 500 });
    try {
      const spins = [spin(pool, "shop"), spin(pool, "shop")];
      // A third loop of the same app waits for a regular worker: it never takes a burst worker.
      const third = spin(pool, "shop");
      await untilTrue(() => pool.stats().inFlight === 2, "both loops dispatched");
      const calm = await pool.invoke(request("demo", QUICK), noSdk);
      expect(calm).toMatchObject({ ok: true, resultJson: '"demo"' });
      expect(pool.burstWorkers()).toBe(1);
      // Before: the calm run waited for a loop's CPU limit (60 s here). Now it answered while both loops
      // still run (a burst worker starts in ~0.2 s idle, 1-2 s under load 20, from TypeScript sources).
      expect(pool.stats()).toMatchObject({ queued: 1, inFlight: 2 });
      expect((calm.queuedMs ?? 0) + calm.durationMs).toBeLessThan(SPIN_LIMITS.cpuMs / 2);
      // Idle for burstIdleMs, the burst worker stops (a timer: nothing polls).
      await untilTrue(() => pool.burstWorkers() === 0, "the idle burst worker to stop", 10_000);
      expect(pool.burstWorkersStarted()).toBe(1);
      await pool.close();
      for (const outcome of await Promise.all([...spins, third])) expect(outcome).toMatchObject({ ok: false });
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("a lone heavy app keeps every regular worker and no more: the spare burst worker takes none of its runs", async () => {
    const pool = await startPool(2);
    try {
      const spins = [spin(pool, "shop"), spin(pool, "shop"), spin(pool, "shop")];
      await untilTrue(() => pool.stats().inFlight === 2, "both loops dispatched");
      // Long past the point where both runs count as long (100 ms).
      await new Promise((r) => setTimeout(r, 600));
      expect(pool.burstWorkers()).toBeLessThanOrEqual(1);
      expect(pool.burstWorkersStarted()).toBeLessThanOrEqual(1);
      expect(pool.stats()).toMatchObject({ queued: 1, inFlight: 2 });
      await pool.close();
      await Promise.allSettled(spins);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("while every worker is held by a long run, a spare burst worker starts before any other run comes", async () => {
    // Another app's request then finds a thread up instead of waiting for one to boot (~0.1-0.3 s, seconds under load).
    const pool = await startPool(2, { burstIdleMs: 60_000 });
    try {
      const spins = [spin(pool, "shop"), spin(pool, "shop")];
      await untilTrue(() => pool.stats().inFlight === 2, "both loops dispatched");
      // Nothing waits: before, no burst worker started until another app's run came.
      await untilTrue(() => pool.burstWorkers() === 1, "the spare burst worker to start", 10_000);
      expect(pool.stats()).toMatchObject({ queued: 0, inFlight: 2 });
      const calm = await pool.invoke(request("demo", QUICK), noSdk);
      expect(calm).toMatchObject({ ok: true, resultJson: '"demo"' });
      expect(pool.burstWorkersStarted()).toBe(1);
      await pool.close();
      await Promise.allSettled(spins);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("the cap holds under many heavy apps: at most `burstWorkers` extra threads", async () => {
    const pool = await startPool(1, { burstWorkers: 2 });
    try {
      // Each new heavy app looks quick until its first loop proves long, so each may take a burst worker.
      const spins: Promise<unknown>[] = [];
      for (const app of ["h1", "h2", "h3", "h4", "h5"]) {
        spins.push(spin(pool, app));
        await new Promise((r) => setTimeout(r, 300));
      }
      await untilTrue(() => pool.burstWorkers() === 2 && pool.stats().inFlight === 3, "the burst workers to fill");
      await new Promise((r) => setTimeout(r, 600));
      expect(pool.burstWorkers()).toBe(2);
      expect(pool.burstWorkersStarted()).toBe(2);
      expect(pool.stats()).toMatchObject({ queued: 2, inFlight: 3 });
      await pool.close();
      await Promise.allSettled(spins);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("with burstWorkers 0 a quick run waits, as before", async () => {
    const pool = await startPool(1, { burstWorkers: 0, queueTimeoutMs: 1_000 });
    try {
      const loop = spin(pool, "shop");
      await untilTrue(() => pool.stats().inFlight === 1, "the loop dispatched");
      await expect(pool.invoke(request("demo", QUICK), noSdk)).rejects.toMatchObject({ code: "OVERLOADED" });
      expect(pool.burstWorkers()).toBe(0);
      await pool.close();
      await loop;
    } finally {
      await pool.close();
    }
  }, 120_000);
});
