// KV calls of scripts running inline on the main thread (executorInlineCalls): the same behaviour as on
// a worker — values, error codes, KV triggers committed with the write, the chain depth of the run —
// on both backends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../store/db.js";
import { BACKENDS } from "../testing/databases.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { until } from "../testing/until.js";
import type { WorkerPool } from "./worker-pool.js";

const PROMOTE_AFTER = 3;

describe.each(BACKENDS)("kv calls of inline runs on %s", (backend) => {
  let t: TestRuntime;
  let db: Db;

  const api = (method: string, path: string, body?: unknown) => t.apiOk(method, path, body);
  const call = (app: string, script: string, query = "") => t.runtime.app.inject({ method: "GET", url: `/${app}/${script}${query}` });
  const kvGet = (app: string, collection: string, key: string) => t.kvGet(app, collection, key);
  const inlineRuns = () => (t.runtime.services.executor as WorkerPool).inlineStats()?.runs ?? 0;
  const app = (scripts: Record<string, string>) => t.appWith("ik", scripts);
  /** Calls the script until one call runs inline (a version earns it with a few quick runs on the workers). */
  async function promote(id: string, script: string, query = ""): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const before = inlineRuns();
      expect((await call(id, script, query)).statusCode).toBe(200);
      if (inlineRuns() > before) return;
      if (i >= PROMOTE_AFTER) await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("the version never ran inline");
  }

  beforeAll(async () => {
    // A short streak, a lenient qualifying time and short demotions: a loaded machine (the suite runs
    // two files at once) must not keep the versions from earning inline runs; the budget is the real one.
    t = await startTestRuntime({
      backend,
      flags: { executorInlineCalls: true, eventMaxChainDepth: 2 },
      inline: { promoteAfter: PROMOTE_AFTER, promoteMaxMs: 50, demoteMs: 50 },
    });
    db = t.runtime.db;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("a get+set counter counts every call exactly once, inline or on a worker", async () => {
    const id = await app({
      count: "const c = kv.collection('c'); const n = ((await c.get('n')) ?? 0) + 1; await c.set('n', n); return { n };",
    });
    await promote(id, "count");
    const calls = Number(await kvGet(id, "c", "n"));
    const before = inlineRuns();
    for (let i = 1; i <= 10; i++) expect((await call(id, "count")).json()).toEqual({ n: calls + i });
    // (A run over its 2 ms budget on a loaded machine goes to a worker instead: most, not all, ran inline.)
    expect(inlineRuns()).toBeGreaterThan(before);
    expect(await kvGet(id, "c", "n")).toBe(calls + 10);
  });

  it("keeps the store's error codes", async () => {
    const id = await app({
      put: "const size = Number(ctx.request.query.size ?? 1); const key = 'k'.repeat(Number(ctx.request.query.key ?? 1)); try { await kv.collection('c').set(key, 'x'.repeat(size)); return 'stored'; } catch (e) { return { name: e.name, code: e.code }; }",
    });
    await promote(id, "put");
    const before = inlineRuns();
    for (let i = 0; i < 3; i++) expect((await call(id, "put", "?key=513")).json()).toEqual({ name: "KvError", code: "KV_INVALID_KEY" });
    expect(inlineRuns()).toBeGreaterThan(before);
    // Building a 1 MiB value takes longer than an inline run may: the guest catches the interrupt across
    // the await, yet the run is re-run on a worker and answers as a worker does.
    expect((await call(id, "put", `?size=${1024 * 1024 + 1}`)).json()).toEqual({ name: "KvError", code: "KV_VALUE_TOO_LARGE" });
  });

  it("an inline write commits its trigger events and wakes the dispatcher; triggered runs keep their chain depth", async () => {
    const id = await app({
      write: "await kv.collection('orders').set(ctx.request.query.key ?? 'warm', { total: 5 }); return 'ok';",
      // Reads when called over HTTP (so it proves itself as a calling version), writes when triggered.
      again:
        "if (!ctx.event) return await kv.collection('x').get('y'); const c = kv.collection('loop'); try { await c.set('k', ctx.event.value + 1); } catch (e) { await kv.collection('out').set('error', { code: e.code, value: ctx.event.value }); }",
      record: "await kv.collection('seen').set(ctx.event.key, ctx.event.value);",
    });
    await promote(id, "write");
    await promote(id, "again");
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "record", collection: "orders" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "again", collection: "loop", maxAttempts: 1 });
    const before = inlineRuns();
    expect((await call(id, "write", "?key=o1")).statusCode).toBe(200);
    expect(await until("the trigger's write", () => kvGet(id, "seen", "o1"))).toEqual({ total: 5 });
    // A chain: the API's write of loop/k triggers `again` (inline), whose write triggers it again, and
    // so on until a write is refused past the chain limit (2): at the same point as on a worker.
    await api("PUT", `/apps/${id}/kv/loop/k`, { value: 0 });
    expect(await until("the refused write", () => kvGet(id, "out", "error"))).toEqual({ code: "EVENT_CHAIN_TOO_DEEP", value: 2 });
    const depths = await db.query<{ chain_depth: number }>(
      "select chain_depth from events where app_id = $1 and script_name = 'again' order by created_at",
      [id],
    );
    expect(depths.map((row) => row.chain_depth)).toEqual([0, 1, 2]);
    expect(inlineRuns()).toBeGreaterThan(before);
  });
});
