// Successful deliveries are marked done in batches with one batch in flight: those that finish while a
// batch commits go together in the next statement (group commit), and each is reported done once.
import { afterAll, expect, it } from "vitest";
import type { Db, NamedStatement, Row } from "../store/db.js";
import { EventStore } from "../store/events.js";
import { pgliteDispatcher, queuedEvent } from "../testing/events.js";
import type { Invoker } from "./invoker.js";

let close: (() => Promise<void>) | undefined;
afterAll(async () => {
  await close?.();
});

it("deliveries that finish while a completion commits are marked done together in the next statement", async () => {
  // Each completion statement takes 100 ms longer; at most one may be under way.
  const batches: number[] = [];
  let inFlight = 0;
  let most = 0;
  const wrap = (database: Db): Db => ({
    ...database,
    async query<R extends Row>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]> {
      if (!(typeof sql === "string" ? sql : sql.text).includes("set status = 'done'")) return database.query<R>(sql, params);
      most = Math.max(most, ++inFlight);
      batches.push(((params?.[0] ?? []) as unknown[]).length);
      await new Promise((r) => setTimeout(r, 100));
      try {
        return await database.query<R>(sql, params);
      } finally {
        inFlight--;
      }
    },
  });
  // Runs finish one after another, 10 ms apart.
  let runs = 0;
  const invoker = {
    run: async () => {
      await new Promise((r) => setTimeout(r, 10 * ++runs));
      return { id: "inv", version: 1, outcome: { ok: true } };
    },
  } as unknown as Invoker;
  const started = await pgliteDispatcher({ invoker, wrap, leaseMs: 20_000, concurrency: 20 });
  close = started.close;
  const { database, dispatcher } = started;
  await database.transaction((tx) =>
    EventStore.insert(
      tx,
      Array.from({ length: 20 }, () => queuedEvent("a", "s")),
    ),
  );
  const done: string[] = [];
  dispatcher.subscribe((change) => {
    if (change.status === "done") done.push(change.event.id);
  });
  await dispatcher.start();
  await dispatcher.drain();
  expect(done).toHaveLength(20);
  expect(new Set(done).size).toBe(20);
  expect((await new EventStore(database).counts("a")).done).toBe(20);
  expect(most).toBe(1);
  // 20 completions 10 ms apart, each statement 100 ms: the first alone, the rest in a few batches.
  expect(batches.reduce((a, b) => a + b, 0)).toBe(20);
  expect(batches.length).toBeLessThanOrEqual(5);
}, 30_000);
