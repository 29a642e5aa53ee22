import type { Worker } from "node:worker_threads";
// Scripts' kv calls served inside the executor workers (Postgres without a KV read cache): the same
// behaviour as on the main thread, KV triggers included, and a lost connection costs one call, not a worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../store/db.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { WORKER_KV_APPLICATION } from "./worker-kv.js";

describe("kv calls served in the executor workers (Postgres)", () => {
  let t: TestRuntime;
  let db: Db;

  const api = (method: string, path: string, body?: unknown) => t.apiOk(method, path, body);
  const call = (app: string, script: string) => t.runtime.app.inject({ method: "GET", url: `/${app}/${script}` });
  const kvGet = (app: string, collection: string, key: string) => t.kvGet(app, collection, key);
  /** The workers' connections to this test's database. */
  const workerConnections = async () =>
    (
      await db.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1",
        [WORKER_KV_APPLICATION],
      )
    )[0]?.n ?? 0;
  async function until<T>(what: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const value = await what();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new Error("timed out");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const app = (scripts: Record<string, string>) => t.appWith("wk", scripts);

  beforeAll(async () => {
    // Cache off (a `serve` that caches owns its database and keeps kv calls on the main thread).
    t = await startTestRuntime({ backend: "postgres", flags: { eventMaxChainDepth: 2, kvWorkerConnections: 4, kvCacheMiB: 0 } });
    db = t.runtime.db;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("serves get and set on the workers' own connections", async () => {
    const id = await app({
      count: "const c = kv.collection('c'); const n = ((await c.get('n')) ?? 0) + 1; await c.set('n', n); return { n };",
    });
    for (let i = 1; i <= 3; i++) expect((await call(id, "count")).json()).toEqual({ n: i });
    expect(await workerConnections()).toBeGreaterThan(0);
    expect(await kvGet(id, "c", "n")).toBe(3);
  });

  it("keeps the limits' error codes", async () => {
    const id = await app({
      big: "try { await kv.collection('c').set('k', 'x'.repeat(1024 * 1024 + 1)); return 'stored'; } catch (e) { return { name: e.name, code: e.code }; }",
      key: "try { await kv.collection('c').get('k'.repeat(513)); return 'read'; } catch (e) { return { name: e.name, code: e.code }; }",
    });
    expect((await call(id, "big")).json()).toEqual({ name: "KvError", code: "KV_VALUE_TOO_LARGE" });
    expect((await call(id, "key")).json()).toEqual({ name: "KvError", code: "KV_INVALID_KEY" });
  });

  it("a write in a worker fires KV triggers, with the chain depth of the run that wrote", async () => {
    const id = await app({
      write: "await kv.collection('orders').set('o1', { total: 5 }); return 'ok';",
      record:
        "await kv.collection('seen').set(ctx.event.collection + ':' + ctx.event.key, ctx.event); await kv.collection('next').set('n', ctx.event.key);",
      chained: "await kv.collection('seen').set('chained', ctx.event);",
    });
    // The first write finds no trigger, and the worker keeps that answer until the triggers change.
    expect((await call(id, "write")).statusCode).toBe(200);
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "record", collection: "orders" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "chained", collection: "next" });
    expect((await call(id, "write")).statusCode).toBe(200);
    // Woken by the worker's message, not by a timer: the handler runs promptly.
    expect(await until(() => kvGet(id, "seen", "orders:o1"))).toEqual({
      type: "kv",
      op: "update",
      collection: "orders",
      key: "o1",
      value: { total: 5 },
    });
    expect(await until(() => kvGet(id, "seen", "chained"))).toMatchObject({ collection: "next", key: "n", value: "o1" });
    const depths = await db.query<{ script_name: string; chain_depth: number }>(
      "select script_name, chain_depth from events where app_id = $1 order by created_at",
      [id],
    );
    expect(depths).toEqual([
      { script_name: "record", chain_depth: 0 },
      { script_name: "chained", chain_depth: 1 },
    ]);
  });

  it("refuses a write past the chain limit from a worker, as on the main thread", async () => {
    const id = await app({
      start: "await kv.collection('loop').set('k', 0); return 'ok';",
      again:
        "const c = kv.collection('loop'); try { await c.set('k', ctx.event.value + 1); } catch (e) { await kv.collection('out').set('error', e.code); }",
    });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "again", collection: "loop", maxAttempts: 1 });
    expect((await call(id, "start")).statusCode).toBe(200);
    expect(await until(() => kvGet(id, "out", "error"))).toBe("EVENT_CHAIN_TOO_DEEP");
  });

  it("a trigger event written in a worker is delivered even if that worker dies right after the commit", async () => {
    // The event's NOTIFY carries this runtime's origin and is ignored here: the worker's message that
    // wakes the dispatcher must leave before the guest resumes, or the worker's death takes it along.
    const id = await app({
      write: "await kv.collection('orders').set('o1', 1); const end = Date.now() + 3000; while (Date.now() < end) {} return 'ok';",
      record: "await kv.collection('seen').set(ctx.event.key, true);",
    });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "record", collection: "orders" });
    const slots = () => (t.runtime.services.executor as unknown as { slots: { worker: Worker; inFlight: Map<number, unknown> }[] }).slots;
    const running = call(id, "write");
    await until(async () => ((await db.query("select 1 from events where app_id = $1", [id])).length > 0 ? true : undefined));
    await slots()
      .find((slot) => slot.inFlight.size > 0)
      ?.worker.terminate();
    expect((await running).json().error.code).toBe("ENGINE_FAULT");
    expect(await until(() => kvGet(id, "seen", "o1"))).toBe(true);
  });

  it("a connection killed under load fails at most the calls on it: the worker lives, the next call succeeds", async () => {
    const id = await app({
      count: "const c = kv.collection('c'); const n = ((await c.get('n')) ?? 0) + 1; await c.set('n', n); return { n };",
    });
    await call(id, "count");
    // The pool's worker threads (a replaced worker has a new thread id).
    const threads = () =>
      (t.runtime.services.executor as unknown as { slots: { worker: { threadId: number } }[] }).slots.map((slot) => slot.worker.threadId);
    const before = threads();
    let stop = false;
    const statuses: number[] = [];
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) statuses.push((await call(id, "count")).statusCode);
    });
    await until(async () => ((await workerConnections()) > 0 && statuses.length > 20 ? true : undefined));
    // Only this test database's worker connections.
    const killed = await db.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1",
      [WORKER_KV_APPLICATION],
    );
    expect(killed.length).toBeGreaterThan(0);
    // Each pooled connection finds out it was killed when it is next used or hears of it: then the pool replaces it.
    const afterKill = statuses.length;
    await until(async () => (statuses.length > afterKill + 20 && statuses.slice(-10).every((s) => s === 200) ? true : undefined));
    stop = true;
    await Promise.all(load);
    expect(statuses.every((s) => s === 200 || s >= 500)).toBe(true);
    expect(threads()).toEqual(before);
    expect((await call(id, "count")).statusCode).toBe(200);
  });
});
