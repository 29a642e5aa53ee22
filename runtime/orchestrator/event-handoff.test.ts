// Events a node's own KV writes trigger are inserted already claimed by its dispatcher when it has
// room, and run on commit without a claim query. What does not fit waits in the queue as before; a
// write that fails after its events were inserted gives the room back and runs nothing. The room
// promised to writes is counted like the dispatcher's other work, and a handed-off first attempt sees
// the same ctx.event as its retries.
import { afterEach, expect, it } from "vitest";
import { systemClock } from "../shared/clock.js";
import { silentLogger } from "../shared/log.js";
import type { Db, NamedStatement, Queryable, Row } from "../store/db.js";
import { EventStore } from "../store/events.js";
import { KvStore } from "../store/kv.js";
import { migrate } from "../store/migrate.js";
import { openPglite } from "../store/pglite/index.js";
import type { KvTrigger } from "../store/triggers.js";
import { queuedEvent } from "../testing/events.js";
import { Dispatcher } from "./dispatcher.js";
import { EventOutbox } from "../store/event-outbox.js";
import type { Invoker } from "./invoker.js";
import type { ScriptCache } from "./script-cache.js";
import type { TriggerCache } from "./trigger-cache.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const trigger = (id: string, script: string, retry: { maxAttempts?: number; backoffMs?: number } = {}): KvTrigger => ({
  id,
  app: "a",
  script,
  kind: "kv",
  collection: "inbox",
  ops: ["insert", "update", "delete"],
  prefix: null,
  maxAttempts: retry.maxAttempts ?? 3,
  backoffMs: retry.backoffMs ?? 1_000,
  backoffMaxMs: retry.backoffMs ?? 1_000,
  createdAt: new Date().toISOString(),
});

/** A dispatcher of `concurrency` on in-memory PGlite, fed by a KvStore whose writes trigger `triggers`. */
async function setup(options: {
  concurrency: number;
  triggers: KvTrigger[];
  failCommits?: () => boolean;
  /** Awaited inside each write's transaction, after its statements, before its commit. */
  beforeCommit?: () => Promise<void>;
  /** While true, each claim query takes 200 ms longer (a busy database). */
  slowClaims?: () => boolean;
  /** The first attempt of every run fails (its event is retried from the queue). */
  failFirstAttempts?: boolean;
}) {
  const database = await openPglite("memory://");
  cleanups.push(() => database.close());
  await migrate(database);
  await database.query("insert into apps (id) values ('a')");
  const claims: number[] = [];
  const db: Db = {
    ...database,
    async query<R extends Row>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]> {
      const claim = (typeof sql === "string" ? sql : sql.text).includes("set status = 'running'");
      if (claim && options.slowClaims?.()) await sleep(200);
      const rows = await database.query<R>(sql, params);
      if (claim) claims.push(rows.length);
      return rows;
    },
    // A commit that fails after everything in the transaction succeeded (the database went away, say).
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      database.transaction(async (tx) => {
        const result = await fn(tx);
        await options.beforeCommit?.();
        if (options.failCommits?.()) throw new Error("commit failed");
        return result;
      }),
  };
  const runs: { script: string; key: unknown; attempt: number }[] = [];
  /** ctx.event of every run, as the script would serialise it. */
  const seen: string[] = [];
  let running = 0;
  let most = 0;
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const invoker = {
    run: async (target: { name: string }, request: { event: { key: unknown }; attempt: number }) => {
      runs.push({ script: target.name, key: request.event.key, attempt: request.attempt });
      seen.push(JSON.stringify(request.event));
      most = Math.max(most, ++running);
      await gate;
      running--;
      return options.failFirstAttempts && request.attempt === 1
        ? { id: "inv", version: 1, outcome: { ok: false, error: { code: "SCRIPT_ERROR", message: "once" } } }
        : { id: "inv", version: 1, outcome: { ok: true } };
    },
  } as unknown as Invoker;
  const dispatcher = new Dispatcher(
    {
      db,
      scripts: { get: async (_app: string, name: string) => ({ name, limits: { wallMs: 1_000 } }) } as unknown as ScriptCache,
      triggers: { deadLetterHandler: async () => undefined } as unknown as TriggerCache,
      invoker,
      clock: systemClock,
      logger: silentLogger(),
      origin: "this-runtime",
    },
    { nodeId: "n1", leaseMs: 60_000, concurrency: options.concurrency, exclusive: true, maxSleepMs: 3_600_000 },
  );
  await dispatcher.start();
  cleanups.push(() => {
    release();
    return dispatcher.drainAndStop(1_000);
  });
  const outbox = new EventOutbox({
    triggers: { peek: () => options.triggers, kvTriggers: async () => options.triggers },
    clock: systemClock,
    maxChainDepth: 8,
    origin: "this-runtime",
    onCommitted: () => dispatcher.wake(),
  });
  outbox.handOffTo(dispatcher);
  const kv = new KvStore(db, { hook: outbox });
  const events = new EventStore(db);
  const until = async (what: string, check: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  return {
    database,
    dispatcher,
    kv,
    events,
    runs,
    seen,
    /** The most runs at once so far. */
    most: () => most,
    claims,
    until,
    /** Holds every run until the returned function is called. */
    hold: () => {
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return () => release();
    },
  };
}

it("a write's event is inserted claimed by this node and runs without a claim; what does not fit waits and is claimed after", async () => {
  const { kv, events, runs, claims, until, hold } = await setup({
    concurrency: 1,
    triggers: [trigger("t1", "first"), trigger("t2", "second")],
  });
  const claimsAtStart = claims.length;
  const open = hold();
  await kv.set("a", "inbox", "k1", "1");
  // The first event went straight to the dispatcher, under its lease; the second waits in the queue.
  await until("the first run", async () => runs.length > 0);
  expect(runs).toEqual([{ script: "first", key: "k1", attempt: 1 }]);
  const stored = await events.list({ app: "a" });
  expect(stored.map((e) => [e.script, e.status, e.attempts, e.leaseOwner]).sort()).toEqual([
    ["first", "running", 1, "n1"],
    ["second", "pending", 0, null],
  ]);
  open();
  await until("both done", async () => (await events.counts("a")).done === 2);
  expect(runs.map((r) => [r.script, r.attempt])).toEqual([
    ["first", 1],
    ["second", 1],
  ]);
  // Only the event that did not fit was claimed by a query.
  expect(claims.slice(claimsAtStart).filter((n) => n > 0)).toEqual([1]);
});

it("a write that fails after inserting its events runs none of them and gives the room back", async () => {
  let fail = true;
  const { kv, events, runs, until } = await setup({ concurrency: 1, triggers: [trigger("t1", "only")], failCommits: () => fail });
  await expect(kv.set("a", "inbox", "lost", "1")).rejects.toThrow("commit failed");
  await new Promise((r) => setTimeout(r, 50));
  expect(runs).toEqual([]);
  expect(await events.list({ app: "a" })).toEqual([]);
  // The one place it had reserved is free again: the next write's event runs at once.
  fail = false;
  await kv.set("a", "inbox", "kept", "1");
  await until("the run", async () => runs.length > 0);
  expect(runs).toEqual([{ script: "only", key: "kept", attempt: 1 }]);
  await until("done", async () => (await events.counts("a")).done === 1);
});

it("a queued event is claimed once a failed write gives back the room the dispatcher lacked", async () => {
  let inserted: () => void = () => {};
  const insertedNow = new Promise<void>((resolve) => (inserted = resolve));
  let commit: () => void = () => {};
  const committing = new Promise<void>((resolve) => (commit = resolve));
  const { database, dispatcher, kv, runs, until } = await setup({
    concurrency: 1,
    triggers: [trigger("t1", "only")],
    beforeCommit: () => {
      inserted();
      return committing;
    },
    failCommits: () => true,
  });
  await EventStore.insert(database, [queuedEvent("a", "queued")], "this-runtime");
  const write = kv.set("a", "inbox", "k", "1");
  await insertedNow; // the write holds the dispatcher's one place
  dispatcher.wake(); // the queued event's NOTIFY arrives now: no room
  await sleep(20);
  commit();
  await expect(write).rejects.toThrow("commit failed");
  await until("the queued event's run", async () => runs.length > 0);
  expect(runs).toEqual([{ script: "queued", key: undefined, attempt: 1 }]);
});

it("a write's event handed off while a claim query is under way does not run beside the claimed one past the concurrency", async () => {
  let slow = false;
  const { database, dispatcher, kv, runs, most, until, hold } = await setup({
    concurrency: 1,
    triggers: [trigger("t1", "written")],
    slowClaims: () => slow,
  });
  const open = hold();
  await EventStore.insert(database, [queuedEvent("a", "queued")], "this-runtime");
  slow = true;
  dispatcher.wake(); // the queued event's NOTIFY: a claim of 1 starts
  await sleep(20);
  await kv.set("a", "inbox", "k", "1"); // this node's own write triggers an event meanwhile
  await until("the claimed run", async () => runs.length > 0);
  await sleep(300);
  expect(most()).toBe(1);
  open();
  await until("both runs", async () => runs.length === 2); // one after the other
  expect(most()).toBe(1);
});

it("a handed-off event's first attempt and its retry get the same ctx.event", async () => {
  const { kv, seen, until } = await setup({
    concurrency: 4,
    triggers: [trigger("t1", "handler", { maxAttempts: 2, backoffMs: 200 })],
    failFirstAttempts: true,
  });
  await kv.set("a", "inbox", "order-1", JSON.stringify({ total: 5, currency: "EUR", id: 1 }));
  await until("the retry", async () => seen.length === 2);
  expect(seen[1]).toBe(seen[0]);
});
