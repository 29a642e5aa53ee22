// Old nodes keep running while the manager applies a newer migration (docs/cluster.md, "Upgrading":
// migrations only add): the dispatcher's prepared statements must survive a column added to events.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createPostgresDatabase } from "../testing/databases.js";
import type { Db } from "./db.js";
import { EventStore } from "./events.js";
import { migrate } from "./migrate.js";
import { openDatabase } from "./open-db.js";

let created: { url: string; drop: () => Promise<void> };
let db: Db;
beforeAll(async () => {
  created = await createPostgresDatabase("rev_events_prepared");
  db = await openDatabase({ databaseUrl: created.url, pgliteLocation: "" });
  await migrate(db);
  await db.query("insert into apps (id) values ('a')");
});
afterAll(async () => {
  await db?.close();
  await created?.drop();
});

const event = (runAt: number) => ({
  app: "a",
  triggerId: null,
  script: "s",
  kind: "kv" as const,
  payloadJson: '{"type":"kv"}',
  chainDepth: 0,
  runAt,
  maxAttempts: 3,
  backoffMs: 1_000,
  backoffMaxMs: 1_000,
});

it("an old node still claims events after a newer migration adds a column to events", async () => {
  const events = new EventStore(db);
  const now = Date.now();
  await EventStore.insert(db, [event(now - 10)]);
  // Claims on this node's connections (each prepares the statement on the connection it runs on).
  expect(await events.claimDue({ now, owner: "old-node", leaseMs: 60_000, limit: 1 })).toHaveLength(1);
  for (let i = 0; i < 3; i++) await events.claimDue({ now, owner: "old-node", leaseMs: 60_000, limit: 1 });
  // The upgraded manager migrates meanwhile: an added column (as any later migration may add).
  await db.exec("alter table events add column added_later text");
  await EventStore.insert(db, [event(now - 5)]);
  const claimed = await events.claimDue({ now, owner: "old-node", leaseMs: 60_000, limit: 1 });
  expect(claimed).toHaveLength(1);
});
