// Inline runs on the main thread (inline-runner.ts): only versions that proved quick and host-free on
// the workers run there, within a small CPU budget; anything else is abandoned without effect, re-run
// on a worker and demoted. Results, logs, errors and isolation are the same as on a worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BindingCall, SdkHost } from "../bindings/channel.js";
import { PiCloudError } from "../shared/errors.js";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";
import type { InlineOptions } from "./inline-policy.js";
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

/** A pool of one worker with these inline settings. */
const startPool = (inline: Partial<InlineOptions>) =>
  WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 60_000, inline });

/** Runs the version until it runs inline (the engine module is created in the background meanwhile). */
async function promoteOn(pool: WorkerPool, make: (event?: Record<string, unknown>) => InvokeRequest, sdk: SdkHost): Promise<void> {
  const runs = () => pool.inlineStats()?.runs ?? 0;
  for (let i = 0; i < 200; i++) {
    const before = runs();
    await pool.invoke(make(), sdk);
    if (runs() > before) return;
    if (i >= PROMOTE_AFTER) await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("the version never ran inline");
}

describe("inline runs", () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    pool = await startPool({ promoteAfter: PROMOTE_AFTER, demoteMs: 200 });
  });
  afterAll(async () => {
    await pool.close();
  });

  const runs = () => pool.inlineStats()?.runs ?? 0;
  const abandoned = () => pool.inlineStats()?.abandoned ?? 0;

  const promote = (make: (event?: Record<string, unknown>) => InvokeRequest) => promoteOn(pool, make, noSdk);

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

describe("inline runs of versions that call bindings (hostCalls)", () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    // A lenient qualifying time: a loaded machine must not keep the versions from earning inline runs.
    pool = await startPool({ promoteAfter: PROMOTE_AFTER, promoteMaxMs: 50, demoteMs: 60_000, hostFree: false, hostCalls: true });
  });
  afterAll(async () => {
    await pool.close();
  });

  const runs = () => pool.inlineStats()?.runs ?? 0;
  const abandoned = () => pool.inlineStats()?.abandoned ?? 0;

  /** A KV store in memory: the SDK host of every run, recording each call. */
  function memoryKv() {
    const values = new Map<string, string>();
    const calls: BindingCall[] = [];
    const sdk = async (call: BindingCall) => {
      calls.push(call);
      const [collection, key, value] = JSON.parse(call.args) as [string, string, unknown];
      const at = `${collection}/${key}`;
      if (call.op === "get") return values.get(at) ?? "null";
      if (call.op === "set") {
        values.set(at, JSON.stringify(value));
        return "null";
      }
      throw new PiCloudError("BAD_REQUEST", "no such op");
    };
    return { values, calls, sdk };
  }

  const promote = (make: (event?: Record<string, unknown>) => InvokeRequest, sdk: SdkHost) => promoteOn(pool, make, sdk);

  const COUNTER = `export default async function (ctx) {
  const c = kv.collection('c');
  const n = ((await c.get('n')) ?? 0) + 1;
  if (ctx.event.burnBeforeSet) { while (true) {} }
  await c.set('n', n);
  if (ctx.event.burnAfterSet) { while (true) {} }
  return { n };
}`;

  it("a quick get+set version runs inline after proving itself, its calls served by the invocation's SDK host", async () => {
    const kv = memoryKv();
    const make = requestFor(COUNTER, { app: "k1" });
    await promote(make, kv.sdk);
    const before = { runs: runs(), calls: kv.calls.length, n: Number(kv.values.get("c/n")) };
    const outcome = await pool.invoke(make(), kv.sdk);
    expect(runs()).toBe(before.runs + 1);
    expect(outcome).toMatchObject({ ok: true, queuedMs: 0, resultJson: JSON.stringify({ n: before.n + 1 }) });
    expect(kv.calls.slice(before.calls).map((c) => c.op)).toEqual(["get", "set"]);
    // Concurrent inline runs each hold their own instance, and all of them count.
    const all = await Promise.all(Array.from({ length: 20 }, () => pool.invoke(make(), kv.sdk)));
    expect(all.every((o) => o.ok)).toBe(true);
    expect(runs()).toBeGreaterThan(before.runs + 1);
  });

  it("a call's coded error reaches the script with its code; an internal one without its detail", async () => {
    const make = requestFor(
      "export default async function (ctx) { try { await kv.collection('c').get(ctx.event.key ?? 'k'); return 'read'; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } }",
      { app: "k2" },
    );
    const sdk = async (call: BindingCall) => {
      const [, key] = JSON.parse(call.args) as [string, string];
      if (key === "bad") throw new PiCloudError("KV_INVALID_KEY", "Keys are 1-512 characters.");
      if (key === "boom") throw new Error("secret connection detail");
      return "1";
    };
    await promote(make, sdk);
    const before = runs();
    const coded = await pool.invoke(make({ key: "bad" }), sdk);
    const internal = await pool.invoke(make({ key: "boom" }), sdk);
    expect(runs()).toBe(before + 2);
    expect(JSON.parse((coded as { resultJson: string }).resultJson)).toMatchObject({ name: "KvError", code: "KV_INVALID_KEY" });
    expect(JSON.parse((internal as { resultJson: string }).resultJson)).toEqual({
      name: "KvError",
      code: "INTERNAL",
      message: "The kv call failed.",
    });
  });

  it("over budget after reads only: abandoned and re-run on a worker under its own limit (no write was made twice)", async () => {
    const kv = memoryKv();
    const make = requestFor(COUNTER, { app: "k3" });
    await promote(make, kv.sdk);
    const before = { runs: runs(), abandoned: abandoned(), calls: kv.calls.length };
    const outcome = await pool.invoke(make({ burnBeforeSet: true }), kv.sdk);
    expect(outcome).toMatchObject({ ok: false, error: { code: "SCRIPT_TIMEOUT" } });
    expect(outcome.cpuMs).toBeGreaterThan(500);
    expect(abandoned()).toBe(before.abandoned + 1);
    // The read twice (inline, then on the worker), never a write.
    expect(kv.calls.slice(before.calls).map((c) => c.op)).toEqual(["get", "get"]);
    // Demoted: the next run goes to a worker.
    await expect(pool.invoke(make(), kv.sdk)).resolves.toMatchObject({ ok: true });
    expect(runs()).toBe(before.runs);
  });

  it("over budget after a write: never re-run, stopped within its allowance with ENGINE_FAULT, the app's calling versions demoted", async () => {
    const kv = memoryKv();
    const make = requestFor(COUNTER, { app: "k4" });
    await promote(make, kv.sdk);
    const before = { runs: runs(), abandoned: abandoned(), calls: kv.calls.length, n: Number(kv.values.get("c/n")) };
    // The main thread's longest stall while the run burns (a timer that should fire every 1 ms).
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    const outcome = await pool.invoke(make({ burnAfterSet: true }), kv.sdk);
    clearInterval(ticker);
    expect(outcome).toMatchObject({ ok: false, error: { code: "ENGINE_FAULT" } });
    // Its write stands and was made once.
    expect(kv.calls.slice(before.calls).map((c) => c.op)).toEqual(["get", "set"]);
    expect(Number(kv.values.get("c/n"))).toBe(before.n + 1);
    // Held for its allowance (10 ms of guest time) plus scheduling noise, not its 1 s CPU limit.
    expect(longest).toBeLessThan(500);
    expect(abandoned()).toBe(before.abandoned + 1);
    // It ran inline (and counts so); after it, the version runs on the workers, and so does any other
    // calling version of its app for a while.
    expect(runs()).toBe(before.runs + 1);
    await expect(pool.invoke(make(), kv.sdk)).resolves.toMatchObject({ ok: true });
    const other = requestFor(COUNTER, { app: "k4", script: "other" });
    for (let i = 0; i < PROMOTE_AFTER * 3; i++) await pool.invoke(other(), kv.sdk);
    expect(runs()).toBe(before.runs + 1);
  });

  it("an inline run awaiting the host holds one of its app's run slots: the concurrency limit holds", async () => {
    let active = 0;
    let most = 0;
    const sdk = async () => {
      most = Math.max(most, ++active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return "1";
    };
    const make = requestFor("export default async function () { return await kv.collection('c').get('k') }", {
      app: "k5",
      limits: { ...DEFAULT_LIMITS, cpuMs: 1_000, wallMs: 5_000, concurrency: 2 },
    });
    await promote(make, sdk);
    most = 0;
    const before = runs();
    const all = await Promise.all(Array.from({ length: 12 }, () => pool.invoke(make(), sdk)));
    expect(all.every((o) => o.ok)).toBe(true);
    expect(runs()).toBeGreaterThan(before);
    expect(most).toBeLessThanOrEqual(2);
  });
});
