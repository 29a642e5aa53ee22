// Inline runs on the main thread (inline-runner.ts): only versions that proved quick and host-free on
// the workers run there, within a small CPU budget; anything else is abandoned without effect, re-run
// on a worker and demoted. Results, logs, errors and isolation are the same as on a worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BindingCall } from "../bindings/channel.js";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";
import { WorkerPool } from "./worker-pool.js";

const PROMOTE_AFTER = 3;

let nextVersion = 1;

/** A request for a fresh version of a script; `event` steers what the script does. */
function requestFor(source: string, overrides: Partial<InvokeRequest> = {}) {
  const version = nextVersion++;
  return (event: Record<string, unknown> = {}): InvokeRequest => ({
    app: "a",
    script: "s",
    version,
    source,
    context: { app: overrides.app ?? "a", script: overrides.script ?? "s", event },
    limits: { ...DEFAULT_LIMITS, cpuMs: 1_000, wallMs: 5_000 },
    strict: false,
    trigger: "test",
    ...overrides,
  });
}

const noSdk = async () => "null";

describe("inline runs", () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    pool = await WorkerPool.start({
      workers: 1,
      logger: silentLogger(),
      instanceMaxUses: 1_000,
      instanceMaxAgeMs: 60_000,
      inline: { promoteAfter: PROMOTE_AFTER, demoteMs: 200 },
    });
  });
  afterAll(async () => {
    await pool.close();
  });

  const runs = () => pool.inlineStats()?.runs ?? 0;
  const abandoned = () => pool.inlineStats()?.abandoned ?? 0;

  /** Runs the version until it runs inline (the engine module is created in the background meanwhile). */
  async function promote(make: (event?: Record<string, unknown>) => InvokeRequest): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const before = runs();
      await pool.invoke(make(), noSdk);
      if (runs() > before) return;
      if (i >= PROMOTE_AFTER) await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error("the version never ran inline");
  }

  it("a quick host-free version runs inline after proving itself on a worker, with its result and logs", async () => {
    const make = requestFor(
      "let n = 0; export default async function (ctx) { n++; console.log('call', ctx.event.i); return { n, i: ctx.event.i } }",
    );
    for (let i = 0; i < PROMOTE_AFTER; i++) await pool.invoke(make({ i }), noSdk);
    expect(runs()).toBe(0);
    await promote(make);
    const before = runs();
    const outcome = await pool.invoke(make({ i: 42 }), noSdk);
    expect(runs()).toBe(before + 1);
    expect(outcome).toMatchObject({ ok: true, queuedMs: 0 });
    expect(JSON.parse((outcome as { resultJson: string }).resultJson)).toMatchObject({ i: 42 });
    expect(outcome.logs).toEqual([expect.objectContaining({ level: "log", message: "call 42" })]);
    expect(outcome.cpuMs).toBeGreaterThanOrEqual(0);
  });

  it("a script error inline is the same coded error, with its line", async () => {
    const make = requestFor(
      "export default async function (ctx) {\n  if (ctx.event.fail) throw new TypeError('bad input');\n  return 1;\n}",
    );
    await promote(make);
    const before = runs();
    const outcome = await pool.invoke(make({ fail: true }), noSdk);
    expect(runs()).toBe(before + 1);
    expect(outcome).toMatchObject({ ok: false, error: { code: "SCRIPT_ERROR", message: "TypeError: bad input", line: 2 } });
  });

  it("a version that turns CPU-heavy is stopped within its inline budget, re-run on a worker under its own limit, and demoted", async () => {
    const make = requestFor("export default async function (ctx) { if (ctx.event.burn) { while (true) {} } return 'quick' }");
    await promote(make);
    const before = { runs: runs(), abandoned: abandoned() };
    const started = performance.now();
    const pending = pool.invoke(make({ burn: true }), noSdk);
    // The main thread was held only for the inline budget (2 ms) plus scheduling noise, not the 1 s CPU limit.
    const heldMs = performance.now() - started;
    const outcome: InvokeOutcome = await pending;
    expect(heldMs).toBeLessThan(500);
    expect(outcome).toMatchObject({ ok: false, error: { code: "SCRIPT_TIMEOUT" } });
    // The worker ran it for its real CPU limit, not the inline budget.
    expect(outcome.cpuMs).toBeGreaterThan(500);
    expect(abandoned()).toBe(before.abandoned + 1);
    expect(runs()).toBe(before.runs);
    // Demoted: the next run goes to a worker even though it is quick.
    await expect(pool.invoke(make(), noSdk)).resolves.toMatchObject({ ok: true, resultJson: '"quick"' });
    expect(runs()).toBe(before.runs);
  });

  it("a demotion lasts its period; the version then earns its way back", async () => {
    const make = requestFor(
      "export default async function (ctx) { if (ctx.event.burn) { const end = Date.now() + 50; while (Date.now() < end) {} } return 'ok' }",
    );
    await promote(make);
    await pool.invoke(make({ burn: true }), noSdk);
    const demotedAt = runs();
    await new Promise((r) => setTimeout(r, 250));
    await promote(make);
    expect(runs()).toBeGreaterThan(demotedAt);
  });

  it("a binding call is never made from an inline run: the run is abandoned first and the worker makes the call once", async () => {
    const calls: BindingCall[] = [];
    const sdk = async (call: BindingCall) => {
      calls.push(call);
      return "7";
    };
    const make = requestFor(
      "export default async function (ctx) { if (ctx.event.read) return { v: await kv.collection('c').get('k') }; return 'none' }",
    );
    await promote(make);
    const before = { runs: runs(), abandoned: abandoned() };
    const outcome = await pool.invoke(make({ read: true }), sdk);
    expect(outcome).toMatchObject({ ok: true, resultJson: '{"v":7}' });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ binding: "kv", op: "get" });
    expect(abandoned()).toBe(before.abandoned + 1);
    // A version that calls the host stays on the workers.
    for (let i = 0; i < PROMOTE_AFTER * 3; i++) await pool.invoke(make(), sdk);
    expect(runs()).toBe(before.runs);
  });

  it("keeps apps and scripts apart: globals set inline by one are never seen by another", async () => {
    const source =
      "export default async function (ctx) { const seen = globalThis.owner; globalThis.owner = ctx.app + '/' + ctx.script; return seen ?? null }";
    const makeA = requestFor(source, { app: "a", script: "one" });
    const makeB = requestFor(source, { app: "b", script: "one" });
    const makeA2 = requestFor(source, { app: "a", script: "two" });
    await promote(makeA);
    await promote(makeB);
    await promote(makeA2);
    const before = runs();
    const [a, b, a2] = [await pool.invoke(makeA(), noSdk), await pool.invoke(makeB(), noSdk), await pool.invoke(makeA2(), noSdk)];
    expect(runs()).toBe(before + 3);
    expect(a).toMatchObject({ ok: true, resultJson: '"a/one"' });
    expect(b).toMatchObject({ ok: true, resultJson: '"b/one"' });
    expect(a2).toMatchObject({ ok: true, resultJson: '"a/two"' });
  });

  it("scripts of one app with different memory limits keep their own inline modules (no thrashing between them)", async () => {
    const small = requestFor("export default async function () { return 'small' }", {
      app: "m",
      limits: { ...DEFAULT_LIMITS, memoryMiB: 32, cpuMs: 1_000, wallMs: 5_000 },
    });
    const large = requestFor("export default async function () { return 'large' }", {
      app: "m",
      limits: { ...DEFAULT_LIMITS, memoryMiB: 64, cpuMs: 1_000, wallMs: 5_000 },
    });
    await promote(small);
    await promote(large);
    const before = runs();
    for (let i = 0; i < 10; i++) {
      await expect(pool.invoke(small(), noSdk)).resolves.toMatchObject({ resultJson: '"small"' });
      await expect(pool.invoke(large(), noSdk)).resolves.toMatchObject({ resultJson: '"large"' });
    }
    expect(runs()).toBe(before + 20);
  });

  it("strict mode never runs inline (a fresh instance for every invocation)", async () => {
    const make = requestFor("let n = 0; export default async function () { n++; return n }", { strict: true });
    const before = runs();
    for (let i = 0; i < PROMOTE_AFTER * 4; i++)
      await expect(pool.invoke(make(), noSdk)).resolves.toMatchObject({ ok: true, resultJson: "1" });
    expect(runs()).toBe(before);
  });

  it("forgetting an app drops its inline versions: they prove themselves again", async () => {
    const make = requestFor("export default async function () { return 'x' }", { app: "c" });
    await promote(make);
    pool.forgetApp("c");
    const before = runs();
    await pool.invoke(make(), noSdk);
    expect(runs()).toBe(before);
  });
});

describe("inline runs switched off", () => {
  it("every run goes to a worker", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 60_000 });
    try {
      const make = requestFor("export default async function () { return 1 }");
      for (let i = 0; i < 30; i++) await pool.invoke(make(), noSdk);
      expect(pool.inlineStats()).toBeUndefined();
    } finally {
      await pool.close();
    }
  });
});
