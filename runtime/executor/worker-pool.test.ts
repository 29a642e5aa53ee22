// Engine faults: a worker thread that dies mid-invocation is replaced; its invocation fails with
// ENGINE_FAULT and nothing else is affected.
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeRequest } from "../shared/wire.js";
import { STRICT_TEMPLATE_DEFAULTS } from "./protocol.js";
import { type ExecutorQueueOptions, WorkerPool } from "./worker-pool.js";

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
/** The request a strict Workers-style run is given. */
const http = { method: "GET", path: "/a/s", subpath: "/", query: {}, headers: {}, body: null, url: "/a/s" };

const startPool = (workers: number, queue?: Partial<ExecutorQueueOptions>) =>
  WorkerPool.start({ workers, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 60_000, ...(queue && { queue }) });

/** Fault injection: the pool's worker threads (private by design). */
const workersOf = (pool: WorkerPool) => (pool as unknown as { slots: { worker: Worker; inFlight: Map<number, unknown> }[] }).slots;

describe("worker pool", () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    pool = await startPool(2);
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

  it("invocations queued behind a run whose worker dies run on its replacement", async () => {
    const single = await startPool(1, { maxInFlightPerWorker: 1 });
    try {
      const spin = "export default async function () { const end = Date.now() + 3000; while (Date.now() < end) {} return 'done' }";
      const busy = single.invoke(request(spin, { version: 20 }), noSdk);
      await new Promise((r) => setTimeout(r, 200));
      const queued = [1, 2, 3].map(() => single.invoke(request("export default async () => 'ok'", { version: 21 }), noSdk));
      await new Promise((r) => setTimeout(r, 50));
      await workersOf(single)[0]?.worker.terminate();
      expect(await busy).toMatchObject({ ok: false, error: { code: "ENGINE_FAULT" } });
      // Before: failing the lost run let the next queued job onto the dead worker, and failed it too.
      for (const outcome of await Promise.all(queued)) expect(outcome).toMatchObject({ ok: true, resultJson: '"ok"' });
    } finally {
      await single.close();
    }
  });

  it("a script's source reaches a fresh worker after a restart (no stale source cache)", async () => {
    const outcome = await pool.invoke(request("export default async function () { return 'v1 again' }", { version: 1 }), noSdk);
    expect(outcome).toMatchObject({ ok: true, resultJson: '"v1 again"' });
  });

  it("a version whose limits changed runs under the new ones on a worker that already has it", async () => {
    const source = "export default async function () { console.log('x'.repeat(300)); console.log('y'); return 'ok' }";
    const run = (logBytes: number) =>
      pool.invoke(request(source, { version: 4, limits: { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000, logBytes } }), noSdk);
    // Enough runs that both workers hold the version with its first limits.
    for (let i = 0; i < 4; i++) expect((await run(65_536)).logs).toHaveLength(2);
    for (let i = 0; i < 4; i++) {
      const capped = await run(350);
      expect(capped.logs.map((l) => l.message)).toEqual(["x".repeat(300), "[picloud] log limit reached; further output dropped"]);
    }
  });

  it("refuses work once closed", async () => {
    const closing = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 10, instanceMaxAgeMs: 1_000 });
    await closing.close();
    await expect(closing.invoke(request("export default async () => 1"), noSdk)).rejects.toMatchObject({ code: "EXECUTOR_UNAVAILABLE" });
  });
});

/** Burns `ms` of CPU in the guest, then answers. */
const burn = (ms: number, answer = "'burnt'") =>
  `export default async function () { const end = Date.now() + ${ms}; while (Date.now() < end) {} return ${answer} }`;

const quick = "export default async function (ctx) { return ctx.app }";

async function settledAll<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(promises);
}

describe("worker pool admission", () => {
  it("a CPU-heavy backlog never trips the watchdog: it watches only runs that execute", async () => {
    // 28 runs of 250 ms on one worker take 7 s: past wall (400 ms) + grace counted from dispatch, whether the
    // grace is this test's 300 ms or the old fixed 5 s (the old pool killed the worker under such a backlog).
    const pool = await startPool(1, { watchdogGraceMs: 300, queueTimeoutMs: 60_000 });
    try {
      const limits = { ...DEFAULT_LIMITS, cpuMs: 2_000, wallMs: 400 };
      const runs = Array.from({ length: 28 }, () => pool.invoke(request(burn(250), { limits }), noSdk));
      const outcomes = await Promise.all(runs);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ ok: true, resultJson: '"burnt"' });
      // Wall time counts from the start of execution; the wait (up to 7 s) is reported apart. A 250 ms
      // run on a machine loaded by other test files has measured 1,114 ms: the bound only has to tell the two.
      for (const outcome of outcomes) expect(outcome.durationMs).toBeLessThan(2_500);
      expect(Math.max(...outcomes.map((o) => o.queuedMs ?? 0))).toBeGreaterThan(5_000);
      expect(pool.stats()).toEqual({ queued: 0, inFlight: 0, watchdogsArmed: 0 });
    } finally {
      await pool.close();
    }
  });

  it("a full app queue answers OVERLOADED at once, with a retry-after, and frees everything", async () => {
    const pool = await startPool(1);
    try {
      const limits = { ...DEFAULT_LIMITS, cpuMs: 2_000, wallMs: 5_000, concurrency: 1, queue: 2 };
      const runs = Array.from({ length: 5 }, () => pool.invoke(request(burn(150), { limits }), noSdk));
      const results = await settledAll(runs);
      const fulfilled = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(fulfilled).toHaveLength(3);
      expect(refused).toHaveLength(2);
      for (const r of refused) {
        expect(r.reason).toMatchObject({ code: "OVERLOADED", status: 503 });
        expect(r.reason.details.retryAfter).toBeGreaterThanOrEqual(1);
        expect(r.reason.message).toMatch(
          /^App '\S+' runs at most 1 invocation at a time and queues at most 2 \(its concurrency and queue limits\): 1 running, 2 waiting; retry after \d+ s\.$/,
        );
      }
      expect(pool.stats()).toEqual({ queued: 0, inFlight: 0, watchdogsArmed: 0 });
    } finally {
      await pool.close();
    }
  });

  it("an invocation that waits past the queue timeout is refused with OVERLOADED", async () => {
    const pool = await startPool(1, { queueTimeoutMs: 100 });
    try {
      const limits = { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 5_000, concurrency: 1 };
      const first = pool.invoke(request(burn(600), { limits }), noSdk);
      const second = pool.invoke(request(burn(600), { limits }), noSdk);
      await expect(second).rejects.toMatchObject({ code: "OVERLOADED" });
      expect(pool.stats().queued).toBe(0);
      expect(await first).toMatchObject({ ok: true });
      expect(pool.stats()).toEqual({ queued: 0, inFlight: 0, watchdogsArmed: 0 });
    } finally {
      await pool.close();
    }
  });

  it("apps take turns: a calm app's request runs before a heavy app's backlog", async () => {
    const pool = await startPool(1, { queueTimeoutMs: 60_000 });
    try {
      const limits = { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 5_000 };
      const order: string[] = [];
      const heavy = Array.from({ length: 6 }, (_, i) =>
        pool.invoke(request(burn(150), { app: "heavy", limits }), noSdk).then(() => order.push(`heavy${i}`)),
      );
      // Let the first heavy run start, then the calm one arrives behind five queued heavy runs.
      await new Promise((r) => setTimeout(r, 50));
      const calm = pool
        .invoke(request(quick, { app: "calm", script: "c", context: { app: "calm", script: "c" } }), noSdk)
        .then((o) => order.push("calm") && o);
      await Promise.all([...heavy, calm]);
      expect(order.indexOf("calm")).toBeLessThanOrEqual(2);
      expect(await calm).toBeTruthy();
    } finally {
      await pool.close();
    }
  });

  it("sync scripts take, run and release one sandbox per worker turn: no churn above the idle cap", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 100_000, instanceMaxAgeMs: 60_000 });
    try {
      for (let round = 0; round < 5; round++) {
        const outcomes = await Promise.all(Array.from({ length: 200 }, () => pool.invoke(request(quick, { version: 7 }), noSdk)));
        for (const outcome of outcomes) expect(outcome).toMatchObject({ ok: true, resultJson: '"a"' });
      }
      const [stats] = await pool.workerStats();
      // Before: every invocation of a batch took its own instance (200 in flight > 32 idle kept: ~170 rebuilt per round).
      expect(stats?.instancesCreated).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });

  it("a version whose stack limit changed runs in a new instance built with the new limit", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 100_000, instanceMaxAgeMs: 60_000 });
    try {
      const deep = "function down(n) { return n === 0 ? 0 : 1 + down(n - 1) }\nexport default (ctx) => down(ctx.event.depth)";
      const base = { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000 };
      const at = (depth: number, stackKiB: number) =>
        pool.invoke(
          request(deep, { version: 9, context: { app: "a", script: "s", event: { depth } }, limits: { ...base, stackKiB } }),
          noSdk,
        );
      expect(await at(10, 64)).toMatchObject({ ok: true, resultJson: "10" }); // leaves a warm 64 KiB instance
      expect(await at(600, 64)).toMatchObject({ ok: false, error: { code: "SCRIPT_STACK" } });
      expect(await at(10, 64)).toMatchObject({ ok: true, resultJson: "10" });
      // The same version, now allowed a deeper stack (a script settings change): the warm instance must not serve it.
      expect(await at(600, 256)).toMatchObject({ ok: true, resultJson: "600" });
    } finally {
      await pool.close();
    }
  });

  it("strict runs once the app has shown repeat use restore its template: no instance built, and nothing a run changed is seen by the next", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 100_000, instanceMaxAgeMs: 60_000 });
    try {
      const source = `let count = 0;
export default { async fetch() {
  const seen = { count: ++count, proto: typeof Array.prototype.leak, global: typeof globalThis.leaked, response: typeof Response.prototype.leak, random: Math.random() };
  Array.prototype.leak = 1; globalThis.leaked = 1; Response.prototype.leak = 1;
  return Response.json(seen);
} }`;
      const strict = () =>
        pool.invoke(request(source, { version: 30, strict: true, context: { app: "a", script: "s", request: http } }), noSdk);
      const seen = (outcome: Awaited<ReturnType<typeof strict>>) => {
        if (!outcome.ok) throw new Error(outcome.error.message);
        return JSON.parse(outcome.response?.text ?? "null");
      };
      const randoms = new Set<number>();
      const { afterRuns } = STRICT_TEMPLATE_DEFAULTS;
      // The template is built in the background from the app's afterRuns-th strict run in the worker.
      for (let i = 0; i < afterRuns; i++) randoms.add(seen(await strict()).random);
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 30; i++) {
        const { random, ...rest } = seen(await strict());
        expect(rest).toEqual({ count: 1, proto: "undefined", global: "undefined", response: "undefined" });
        randoms.add(random);
      }
      expect(randoms.size).toBe(30 + afterRuns);
      const [stats] = await pool.workerStats();
      expect(stats?.instancesCreated).toBeLessThanOrEqual(afterRuns + 1);
      expect(stats?.strictTemplates).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("strict templates: none for apps called less than afterRuns times, at most `max` kept (an idle one makes room), one module per app", async () => {
    const max = 2;
    const pool = await WorkerPool.start({
      workers: 1,
      logger: silentLogger(),
      instanceMaxUses: 100_000,
      instanceMaxAgeMs: 60_000,
      strictTemplates: { max, evictAfterIdleMs: 1_500 },
    });
    try {
      const source = "export default { async fetch() { return Response.json(Math.random()) } }";
      const strict = (app: string) =>
        pool.invoke(request(source, { app, strict: true, context: { app, script: "s", request: http } }), noSdk);
      const { afterRuns } = STRICT_TEMPLATE_DEFAULTS;
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const rounds = async (apps: string[], n: number) => {
        for (let round = 0; round < n; round++) {
          for (const app of apps) expect((await strict(app)).ok).toBe(true);
          await pause(200);
        }
      };
      const stats = async () => (await pool.workerStats())[0] as Awaited<ReturnType<WorkerPool["workerStats"]>>[number];
      const MiB = 1024 * 1024;
      await rounds(["r0", "r1", "r2"], afterRuns - 1);
      expect(await stats()).toMatchObject({ strictTemplates: 0, instancesCreated: 3 * (afterRuns - 1), engineBytes: 3 * 16 * MiB });

      // Three hot apps, room for two templates: the third runs as without templates (no eviction of a busy one).
      await rounds(["h0", "h1", "h2"], afterRuns + 2);
      let now = await stats();
      expect(now.strictTemplates).toBe(max);
      // The rare apps' modules, and per hot app either its template or its ordinary module.
      expect(now.engineBytes).toBe(6 * 16 * MiB);
      let before = now.instancesCreated;
      await rounds(["h0", "h1"], 3);
      expect((await stats()).instancesCreated).toBe(before);
      await rounds(["h2"], 3);
      expect((await stats()).instancesCreated).toBe(before + 3);

      // Once h0 has been idle for evictAfterIdleMs, h2's next run of its own streak replaces its template.
      await pause(1_600);
      await rounds(["h1"], 1);
      await rounds(["h2"], afterRuns + 1);
      now = await stats();
      expect(now.strictTemplates).toBe(max);
      expect(now.strictTemplatesBuilt).toBe(max + 1);
      expect(now.strictTemplatesDropped).toEqual({ faulted: 0, grown: 0, evicted: 1, idle: 0, app_changed: 0 });
      before = now.instancesCreated;
      await rounds(["h1", "h2"], 3);
      expect((await stats()).instancesCreated).toBe(before);
      await rounds(["h0"], 1);
      expect((await stats()).instancesCreated).toBe(before + 1);
    } finally {
      await pool.close();
    }
  });

  it("a strict app under steady concurrent load gets its template: the build is not starved by runs building instances", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 100_000, instanceMaxAgeMs: 60_000 });
    try {
      const source = "export default { async fetch() { return Response.json(1) } }";
      const strict = () => pool.invoke(request(source, { strict: true, context: { app: "a", script: "s", request: http } }), noSdk);
      const end = Date.now() + 1_500;
      let runs = 0;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (Date.now() < end) {
            expect((await strict()).ok).toBe(true);
            runs++;
          }
        }),
      );
      const [stats] = await pool.workerStats();
      // Without waiting for the build, every run after the afterRuns-th built an instance (~800 in 4 s).
      expect(runs).toBeGreaterThan(50);
      expect(stats).toMatchObject({ strictTemplates: 1 });
      expect(stats?.instancesCreated).toBeLessThan(STRICT_TEMPLATE_DEFAULTS.afterRuns + 3);
    } finally {
      await pool.close();
    }
  });

  it("a strict app whose runs overlap keeps its ordinary module for the runs that find its template busy", async () => {
    // A large dispatch budget: a pair is sent to the worker together however long the first runs took (a first
    // run's engine build under load taught the pool a cost above the default 50 ms, which held the second back).
    const pool = await WorkerPool.start({
      workers: 1,
      logger: silentLogger(),
      instanceMaxUses: 100_000,
      instanceMaxAgeMs: 60_000,
      queue: { dispatchBudgetMs: 60_000 },
    });
    try {
      const source = "export default { async fetch() { await kv.collection('c').get('k'); return Response.json(1) } }";
      // Host calls answered only once `together` runs wait in one: a pair's runs overlap however slowly the
      // machine delivers them (a fixed 30 ms delay let the first end before the second began under load).
      let waiting: (() => void)[] = [];
      let together = 1;
      const gatedSdk = () =>
        new Promise<string>((resolve) => {
          waiting.push(() => resolve("null"));
          if (waiting.length < together) return;
          for (const answer of waiting) answer();
          waiting = [];
        });
      const strict = () => pool.invoke(request(source, { strict: true, context: { app: "a", script: "s", request: http } }), gatedSdk);
      const pair = async () => {
        together = 2;
        const outcomes = await Promise.all([strict(), strict()]);
        together = 1;
        return outcomes;
      };
      const MiB = 1024 * 1024;
      for (let i = 0; i < STRICT_TEMPLATE_DEFAULTS.afterRuns; i++) expect((await strict()).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      // Alone, a run from the template drops the ordinary module: one module.
      expect((await strict()).ok).toBe(true);
      expect((await pool.workerStats())[0]).toMatchObject({ strictTemplates: 1, engineBytes: 16 * MiB });
      // Two at once: one from the template, one in the ordinary module (built again); the next run keeps it.
      for (const outcome of await pair()) expect(outcome).toMatchObject({ ok: true });
      expect((await strict()).ok).toBe(true);
      const [stats] = await pool.workerStats();
      expect(stats).toMatchObject({ strictTemplates: 1, engineBytes: 32 * MiB });
      const created = stats?.instancesCreated ?? 0;
      for (let i = 0; i < 5; i++) for (const outcome of await pair()) expect(outcome.ok).toBe(true);
      // Each pair built one instance (in the kept module) and restored the template once.
      expect((await pool.workerStats())[0]?.instancesCreated).toBe(created + 5);
    } finally {
      await pool.close();
    }
  });

  it("scripts that await host calls still share instances once their runs end", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 100_000, instanceMaxAgeMs: 60_000 });
    try {
      const source = "export default async function () { return JSON.parse(await kv.collection('c').get('k')) }";
      const sdk = async () => JSON.stringify(JSON.stringify("v"));
      for (let round = 0; round < 5; round++) {
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => pool.invoke(request(source, { version: 8 }), sdk)));
        for (const outcome of outcomes) expect(outcome).toMatchObject({ ok: true, resultJson: '"v"' });
      }
      const [stats] = await pool.workerStats();
      expect(stats?.instancesCreated).toBeLessThanOrEqual(20);
    } finally {
      await pool.close();
    }
  });
});

describe("every exit of an invocation releases its slot and watchdog", () => {
  let pool: WorkerPool;
  const idle = { queued: 0, inFlight: 0, watchdogsArmed: 0 };

  beforeAll(async () => {
    pool = await startPool(2, { queueTimeoutMs: 150 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("success", async () => {
    expect(await pool.invoke(request(quick, { version: 20 }), noSdk)).toMatchObject({ ok: true });
    expect(pool.stats()).toEqual(idle);
  });

  it("a script error, a load error and a missing handler", async () => {
    for (const [version, source, code] of [
      [21, "export default async function () { throw new Error('no') }", "SCRIPT_ERROR"],
      [22, "throw new Error('at load')\nexport default async function () {}", "SCRIPT_ERROR"],
      [23, "export default 42", "SCRIPT_NO_HANDLER"],
    ] as const) {
      expect(await pool.invoke(request(source, { version }), noSdk)).toMatchObject({ ok: false, error: { code } });
    }
    expect(pool.stats()).toEqual(idle);
  });

  it("CPU and wall timeouts", async () => {
    const limits = { ...DEFAULT_LIMITS, cpuMs: 50, wallMs: 100 };
    const spin = "export default async function () { for (;;) {} }";
    expect(await pool.invoke(request(spin, { version: 24, limits: { ...limits, wallMs: 5_000 } }), noSdk)).toMatchObject({
      ok: false,
      error: { code: "SCRIPT_TIMEOUT" },
    });
    const hang = "export default async function () { await kv.collection('c').get('k') }";
    expect(await pool.invoke(request(hang, { version: 25, limits }), () => new Promise(() => {}))).toMatchObject({
      ok: false,
      error: { code: "SCRIPT_WALL_TIMEOUT" },
    });
    expect(pool.stats()).toEqual(idle);
  });

  it("a CPU budget larger than the wall limit ends at the wall limit, as SCRIPT_WALL_TIMEOUT", async () => {
    const limits = { ...DEFAULT_LIMITS, cpuMs: 10_000, wallMs: 100 };
    const outcome = await pool.invoke(request("export default async function () { for (;;) {} }", { version: 26, limits }), noSdk);
    expect(outcome).toMatchObject({ ok: false, error: { code: "SCRIPT_WALL_TIMEOUT" } });
    expect(outcome.durationMs).toBeLessThan(2_000);
    expect(pool.stats()).toEqual(idle);
  });

  it("a host call that fails", async () => {
    const source = "export default async function () { return await kv.collection('c').get('k') }";
    const failing = async () => {
      throw new Error("database down");
    };
    expect(await pool.invoke(request(source, { version: 27 }), failing)).toMatchObject({ ok: false, error: { code: "SCRIPT_ERROR" } });
    expect(pool.stats()).toEqual(idle);
  });

  it("input that cannot be serialised is refused before it holds anything", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const context = { app: "a", script: "s", event: cyclic };
    await expect(pool.invoke(request(quick, { version: 28, context }), noSdk)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    await expect(
      pool.invoke(request(quick, { version: 28, context: { app: "a", script: "s", event: { deep } } }), noSdk),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(pool.stats()).toEqual(idle);
  });

  it("a full queue and a queue timeout", async () => {
    const limits = { ...DEFAULT_LIMITS, cpuMs: 2_000, wallMs: 2_000, concurrency: 1, queue: 1 };
    const runs = Array.from({ length: 3 }, () => pool.invoke(request(burn(400), { version: 29, limits }), noSdk));
    const results = await settledAll(runs);
    expect(results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code)).sort()).toEqual([
      "OVERLOADED",
      "OVERLOADED",
      "ok",
    ]);
    expect(pool.stats()).toEqual(idle);
  });

  it("a worker that dies mid-run", async () => {
    const busy = pool.invoke(request(burn(3_000), { version: 30, limits: { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000 } }), noSdk);
    for (let i = 0; i < 100 && !workersOf(pool).some((s) => s.inFlight.size > 0); i++) await new Promise((r) => setTimeout(r, 10));
    await workersOf(pool)
      .find((s) => s.inFlight.size > 0)
      ?.worker.terminate();
    expect(await busy).toMatchObject({ ok: false, error: { code: "ENGINE_FAULT" } });
    expect(pool.stats()).toEqual(idle);
    expect(await pool.invoke(request(quick, { version: 31 }), noSdk)).toMatchObject({ ok: true });
  });

  it("a pool that closes while invocations wait", async () => {
    const closing = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 10, instanceMaxAgeMs: 1_000 });
    const limits = { ...DEFAULT_LIMITS, cpuMs: 2_000, wallMs: 2_000, concurrency: 1 };
    const running = closing.invoke(request(burn(300), { limits }), noSdk);
    const waiting = expect(closing.invoke(request(burn(300), { limits }), noSdk)).rejects.toMatchObject({ code: "EXECUTOR_UNAVAILABLE" });
    await closing.close();
    expect(await running).toMatchObject({ ok: false, error: { code: "ENGINE_FAULT" } });
    await waiting;
    expect(closing.stats()).toEqual(idle);
  });
});
