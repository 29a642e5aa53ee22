// Two nodes on one Postgres: events a stopping node hands back (its drain timed out) are taken by the
// other node at once, woken by the hand-back's NOTIFY, not when their lease would have run out.
import { afterEach, expect, it } from "vitest";
import { systemClock } from "../shared/clock.js";
import { silentLogger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { EventStore } from "../store/events.js";
import { migrate } from "../store/migrate.js";
import { openDatabase } from "../store/open-db.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { queuedEvent } from "../testing/events.js";
import { Dispatcher } from "./dispatcher.js";
import type { Invoker } from "./invoker.js";
import type { ScriptCache } from "./script-cache.js";
import type { TriggerCache } from "./trigger-cache.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A node's dispatcher; its runs are recorded and wait for `gate`. */
async function node(db: Db, name: string, gate: Promise<void>) {
  const runs: string[] = [];
  const invoker = {
    run: async (_target: unknown, request: { eventId: string }) => {
      runs.push(request.eventId);
      await gate;
      return { id: "inv", version: 1, outcome: { ok: true } };
    },
  } as unknown as Invoker;
  const dispatcher = new Dispatcher(
    {
      db,
      scripts: { get: async (_app: string, script: string) => ({ name: script, limits: { wallMs: 1_000 } }) } as unknown as ScriptCache,
      triggers: { deadLetterHandler: async () => undefined } as unknown as TriggerCache,
      invoker,
      clock: systemClock,
      logger: silentLogger(),
      origin: name,
    },
    // A lease far longer than the test: only the NOTIFY can make the other node look in time.
    { nodeId: name, leaseMs: 10 * 60_000, concurrency: 4, exclusive: false, maxSleepMs: 3_600_000 },
  );
  await dispatcher.start();
  return { dispatcher, runs };
}

it("a node that hands its unfinished events back on a drain timeout wakes another node, which runs them at once", async () => {
  const created = await createPostgresDatabase();
  cleanups.push(() => created.drop());
  const open = () => openDatabase({ databaseUrl: created.url, pgliteLocation: "" });
  const dbA = await open();
  cleanups.push(() => dbA.close());
  const dbB = await open();
  cleanups.push(() => dbB.close());
  await migrate(dbA);
  await dbA.query("insert into apps (id) values ('a')");

  const never = new Promise<void>(() => {});
  const a = await node(dbA, "node-a", never);
  const [id] = await EventStore.insert(dbA, [queuedEvent("a", "s")]);
  for (let i = 0; i < 200 && a.runs.length === 0; i++) await sleep(10);
  expect(a.runs).toEqual([id]);

  // Node B starts while A holds the event: it finds nothing to claim, only A's ten-minute lease.
  const b = await node(dbB, "node-b", Promise.resolve());
  cleanups.push(() => b.dispatcher.drainAndStop(1_000));
  await sleep(200);
  expect(b.runs).toEqual([]);

  expect(await a.dispatcher.drainAndStop(50)).toBe(1);
  for (let i = 0; i < 300 && b.runs.length === 0; i++) await sleep(10);
  expect(b.runs).toEqual([id]);
});
