// A deploy's check (validate.ts) is not one of its app's runs: it is admitted outside the app's concurrency
// and queue, within the checks' own budget (deploy-checks.ts), so an app saturated by its own runs can still
// be deployed to (the fix for a runaway script comes then). It still runs on a worker thread under the
// script's limits, and a check that loops stalls no run: none is sent behind it, burst workers cover it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PiCloudError } from "../shared/errors.js";
import { DEFAULT_LIMITS, type Limits } from "../shared/limits.js";
import type { InvokeRequest } from "../shared/wire.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { noSdk, startPool, untilTrue } from "../testing/worker-pool.js";
import type { WorkerPool } from "./worker-pool.js";

describe("a deploy's check is not one of the app's runs", () => {
  let t: TestRuntime;

  beforeAll(async () => {
    t = await startTestRuntime({ flags: { limits: { cpuMs: 5_000, wallMs: 10_000 } } });
    await t.api("POST", "/apps", { id: "busy", settings: { limits: { concurrency: 1, queue: 0 } } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("deploying a fix to an app whose run slots are all taken succeeds", async () => {
    const slow = "export default async function () { const t = Date.now(); while (Date.now() - t < 2500) {} return 'slow' }";
    expect((await t.deploy("busy", "slow", slow)).statusCode).toBe(201);
    const inFlight = t.runtime.app.inject({ method: "GET", url: "/busy/slow" });
    // Let the run take the app's one slot.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const started = performance.now();
    const fix = await t.deploy("busy", "slow", "export default async function () { return 'fixed' }");
    const tookMs = performance.now() - started;
    expect((await inFlight).statusCode).toBe(200);
    expect(fix.statusCode, `${fix.body} after ${Math.round(tookMs)} ms`).toBe(201);
  });
});

describe("what a deploy waits for when no executor thread has room", () => {
  let t: TestRuntime;

  beforeAll(async () => {
    t = await startTestRuntime({
      flags: { executorWorkers: 1, executorBurstWorkers: 0, executorQueueTimeoutMs: 1_000, limits: { cpuMs: 4_000, wallMs: 10_000 } },
    });
    await t.api("POST", "/apps", { id: "loops" });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("with its one worker held by a long run and no burst worker, a deploy waits out the queue timeout, then 503 OVERLOADED with retry-after", async () => {
    expect((await t.deploy("loops", "spin", "export default async function () { while (true) {} }")).statusCode).toBe(201);
    const spinning = t.runtime.app.inject({ method: "GET", url: "/loops/spin" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const refused = await t.deploy("loops", "spin", "export default async function () { return 'fixed' }");
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json().error).toMatchObject({ code: "OVERLOADED" });
    expect(refused.json().error.message).toContain("The deploy's check waited 1000 ms");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await spinning).json().error).toMatchObject({ code: "SCRIPT_TIMEOUT" });
    // The thread is free again: the same deploy goes through.
    expect((await t.deploy("loops", "spin", "export default async function () { return 'fixed' }")).statusCode).toBe(201);
  });
});

/** Endless loops end at this CPU limit (the most allowed), or when the pool closes: longer than any test here. */
const SPIN_LIMITS: Limits = { ...DEFAULT_LIMITS, cpuMs: 60_000, wallMs: 60_000 };
const SPIN = "export default async function () { while (true) {} }";
const QUICK = "export default async function (ctx) { return ctx.app }";

const run = (app: string, source: string, limits = DEFAULT_LIMITS): InvokeRequest => ({
  app,
  script: "s",
  version: 1,
  source,
  context: { app, script: "s" },
  limits,
  strict: false,
  trigger: "test",
});
/** What validate.ts sends: the module's top level in a fresh sandbox, its default export's kind back. */
const check = (app: string, source: string, limits = DEFAULT_LIMITS): InvokeRequest => ({
  app,
  script: "s",
  version: 0,
  revision: "deploy-check",
  source,
  context: { app, script: "s" },
  limits,
  strict: true,
  trigger: "test",
  validate: true,
});
/** An endless loop; one still queued when the pool closes is refused, which counts as its end here. */
const spin = (pool: WorkerPool, app: string) =>
  pool.invoke(run(app, SPIN, SPIN_LIMITS), noSdk).catch((error: { code: string }) => ({ ok: false, refused: error.code }));
/** A promise and whether it has settled yet. */
function watched<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  return { promise: tracked, settled: () => done };
}

describe("deploy checks in the worker pool", () => {
  it("an app's own full concurrency and queue do not refuse its check", async () => {
    const pool = await startPool(2);
    try {
      const full = { ...SPIN_LIMITS, concurrency: 1, queue: 0 };
      const loop = pool.invoke(run("busy", SPIN, full), noSdk).catch(() => undefined);
      await untilTrue(() => pool.stats().inFlight === 1, "the app's one run dispatched");
      await expect(pool.invoke(run("busy", QUICK, full), noSdk)).rejects.toMatchObject({ code: "OVERLOADED" });
      expect(await pool.invoke(check("busy", QUICK, full), noSdk)).toMatchObject({ ok: true, resultJson: '"function"' });
      await pool.close();
      await loop;
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("while the app's endless loops hold every worker, its check goes to a burst worker and answers while they run", async () => {
    const pool = await startPool(2);
    try {
      const spins = [spin(pool, "shop"), spin(pool, "shop"), spin(pool, "shop")];
      await untilTrue(() => pool.stats().inFlight === 2, "both loops dispatched");
      const checked = await pool.invoke(check("shop", QUICK), noSdk);
      expect(checked).toMatchObject({ ok: true, resultJson: '"function"' });
      // The app's third loop still waits for a regular worker: the check took none of its place.
      expect(pool.stats()).toMatchObject({ queued: 1, inFlight: 2 });
      expect(pool.burstWorkers()).toBeGreaterThanOrEqual(1);
      expect((checked.queuedMs ?? 0) + checked.durationMs).toBeLessThan(SPIN_LIMITS.cpuMs / 2);
      await pool.close();
      for (const outcome of await Promise.all(spins)) expect(outcome).toMatchObject({ ok: false });
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("a check that loops ends with SCRIPT_TIMEOUT at the script's CPU limit, and no run waits behind it on its worker", async () => {
    const pool = await startPool(1, { burstWorkers: 1 });
    try {
      // The script's last checks were quick: that says nothing about the next one (each check is new code).
      for (let i = 0; i < 8; i++) expect(await pool.invoke(check("shop", QUICK), noSdk)).toMatchObject({ ok: true });
      const looping = watched(pool.invoke(check("shop", `while (true) {}\n${QUICK}`, { ...DEFAULT_LIMITS, cpuMs: 8_000 }), noSdk));
      // At once, before the check has run long: a run sent to its worker now would wait out the loop.
      const calm = await pool.invoke(run("demo", QUICK), noSdk);
      expect(calm).toMatchObject({ ok: true, resultJson: '"demo"' });
      expect(looping.settled()).toBe(false);
      expect(pool.burstWorkers()).toBe(1);
      expect(await looping.promise).toMatchObject({ ok: false, error: { code: "SCRIPT_TIMEOUT" } });
      expect(pool.stats()).toMatchObject({ queued: 0, inFlight: 0 });
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("the checks' own budget: past it one waits, then one more is refused at once with a coded OVERLOADED", async () => {
    const pool = await startPool(2, { deployChecks: 1, deployChecksWaiting: 1 });
    try {
      const looping = watched(pool.invoke(check("a", `while (true) {}\n${QUICK}`, { ...DEFAULT_LIMITS, cpuMs: 3_000 }), noSdk));
      await untilTrue(() => pool.stats().inFlight === 1, "the first check dispatched");
      const waiting = watched(pool.invoke(check("b", QUICK), noSdk));
      const refused = await pool.invoke(check("c", QUICK), noSdk).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(PiCloudError);
      expect(refused).toMatchObject({ code: "OVERLOADED", status: 503 });
      expect((refused as PiCloudError).message).toContain("its limit for deploys checked at once");
      // Apps' runs are not in that budget: they run on the other worker meanwhile.
      expect(await pool.invoke(run("a", QUICK), noSdk)).toMatchObject({ ok: true, resultJson: '"a"' });
      expect(waiting.settled()).toBe(false);
      expect(await looping.promise).toMatchObject({ ok: false, error: { code: "SCRIPT_TIMEOUT" } });
      expect(await waiting.promise).toMatchObject({ ok: true, resultJson: '"function"' });
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("with no burst worker, a check waits for a regular worker held by a long run, and is refused after the queue timeout", async () => {
    const pool = await startPool(1, { burstWorkers: 0, queueTimeoutMs: 1_000 });
    try {
      const loop = spin(pool, "shop");
      await untilTrue(() => pool.stats().inFlight === 1, "the loop dispatched");
      const refused = await pool.invoke(check("shop", QUICK), noSdk).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "OVERLOADED" });
      expect((refused as PiCloudError).message).toContain("The deploy's check waited 1000 ms");
      await pool.close();
      await loop;
    } finally {
      await pool.close();
    }
  }, 120_000);
});
