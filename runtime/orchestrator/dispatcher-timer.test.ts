// The dispatcher's one timer: a retry scheduled while a look for the next due time is in flight must
// keep its time. (That look answers from before the retry was recorded, when the event was still
// running under its lease: taking its answer pushed the retry back to the lease's end.)
import { afterAll, expect, it } from "vitest";
import type { Db, NamedStatement, Row } from "../store/db.js";
import { EventStore } from "../store/events.js";
import { pgliteDispatcher } from "../testing/events.js";
import type { Invoker } from "./invoker.js";

let close: (() => Promise<void>) | undefined;
afterAll(async () => {
  await close?.();
});

it("a retry runs after its backoff even when a slow look for the next due time overlaps its recording", async () => {
  // The next-due query reads at once but answers 300 ms later.
  const wrap = (database: Db): Db => ({
    ...database,
    async query<R extends Row>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]> {
      const rows = await database.query<R>(sql, params);
      if ((typeof sql === "string" ? sql : sql.text).includes("least(")) await new Promise((r) => setTimeout(r, 300));
      return rows;
    },
  });
  const started = Date.now();
  const calls: number[] = [];
  const invoker = {
    run: async () => {
      calls.push(Date.now() - started);
      await new Promise((r) => setTimeout(r, 100));
      const ok = calls.length > 1;
      return {
        id: "inv",
        version: 1,
        outcome: ok ? { ok: true } : { ok: false, error: { code: "SCRIPT_ERROR", message: "first attempt fails" } },
      };
    },
  } as unknown as Invoker;
  const dispatching = await pgliteDispatcher({ invoker, wrap, leaseMs: 20_000, concurrency: 4, random: () => 0 });
  close = dispatching.close;
  const { database, dispatcher } = dispatching;
  await database.transaction((tx) =>
    EventStore.insert(tx, [
      {
        app: "a",
        triggerId: null,
        script: "s",
        kind: "kv",
        payloadJson: "{}",
        chainDepth: 0,
        maxAttempts: 3,
        backoffMs: 1_000,
        backoffMaxMs: 1_000,
        runAt: Date.now(),
      },
    ]),
  );
  await dispatcher.start();
  for (let i = 0; i < 60 && calls.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  // The second attempt came about a backoff after the first, not after the 20 s lease.
  expect(calls).toHaveLength(2);
}, 30_000);
