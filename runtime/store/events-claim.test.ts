// The claim: due pending events and expired leases, the earliest first, up to the limit, each lookup in
// its own partial index, so a claim reads about `limit` rows however long the backlog is; claims and
// completions commit without waiting for the WAL flush, and leave the connection as it was.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, testDatabase, type TestDatabase } from "../testing/databases.js";
import { queuedEvent } from "../testing/events.js";
import type { Db } from "./db.js";
import { CLAIM_DUE, EventStore, type NewEvent } from "./events.js";
import { migrate } from "./migrate.js";

const event = (runAt: number, id: string): NewEvent => ({ ...queuedEvent("a", "s"), id, runAt });

describe.each(BACKENDS)("claims on %s", (backend) => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await testDatabase(backend);
    db = await database.open();
    await migrate(db);
    await db.query("insert into apps (id) values ('a')");
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it("takes pending events and expired leases together, earliest run_at first, up to the limit", async () => {
    const events = new EventStore(db);
    const now = Date.now();
    // Claimed by a node whose lease has run out (its run_at between the two pending ones), one still
    // leased, and one not due yet.
    await EventStore.insert(db, [event(now - 20_000, "e-expired"), event(now - 15_000, "e-leased")], "", {
      owner: "dead-node",
      leaseUntil: now - 1_000,
      count: 1,
    });
    await db.query("update events set status = 'running', lease_owner = 'live-node', lease_until = $2 where id = $1", [
      "e-leased",
      new Date(now + 60_000).toISOString(),
    ]);
    await EventStore.insert(db, [event(now - 30_000, "e-first"), event(now - 10_000, "e-third"), event(now + 60_000, "e-later")]);

    const first = await events.claimDue({ now, owner: "n1", leaseMs: 60_000, limit: 2 });
    expect(first.map((e) => e.id)).toEqual(["e-first", "e-expired"]);
    expect(first.map((e) => [e.status, e.leaseOwner])).toEqual([
      ["running", "n1"],
      ["running", "n1"],
    ]);
    expect(first[1]?.attempts).toBe(2);
    const second = await events.claimDue({ now, owner: "n1", leaseMs: 60_000, limit: 2 });
    expect(second.map((e) => e.id)).toEqual(["e-third"]);
    expect(await events.claimDue({ now, owner: "n1", leaseMs: 60_000, limit: 2 })).toEqual([]);
  });

  it("claims and completions leave the connection's synchronous_commit as it was (theirs is local to their transaction)", async () => {
    const events = new EventStore(db);
    const now = Date.now();
    await EventStore.insert(db, [event(now - 1_000, "r-1")]);
    const [claimed] = await events.claimDue({ now, owner: "n3", leaseMs: 60_000, limit: 1 });
    expect(claimed?.id).toBe("r-1");
    // A pool hands out the connection released last: the one the statements just ran on.
    expect(await db.query("show synchronous_commit")).toEqual([{ synchronous_commit: "on" }]);
    expect(await events.finishDone(claimed ? [claimed] : [], "n3", now)).toEqual(new Set(["r-1"]));
    expect(await db.query("show synchronous_commit")).toEqual([{ synchronous_commit: "on" }]);
    expect((await events.get("r-1"))?.status).toBe("done");
  });

  it.runIf(backend === "postgres")("reads about `limit` rows of a long backlog, not all of it", async () => {
    const now = Date.now();
    await EventStore.insert(
      db,
      Array.from({ length: 2_000 }, (_, i) => event(now - 1_000, `b-${String(i).padStart(5, "0")}`)),
    );
    // The claim as the dispatcher runs it (a prepared statement, past its first runs: the generic plan),
    // explained on one connection and rolled back.
    const rolledBack = new Error("roll back");
    let plan: { "QUERY PLAN": unknown } | undefined;
    await db
      .transaction(async (tx) => {
        await tx.query("set local plan_cache_mode = force_generic_plan");
        await tx.query(`prepare claim_explained(timestamptz, text, timestamptz, int) as ${CLAIM_DUE.text}`);
        [plan] = await tx.query<{ "QUERY PLAN": unknown }>(
          `explain (analyze, format json) execute claim_explained('${new Date(now).toISOString()}', 'n2', '${new Date(now + 60_000).toISOString()}', 8)`,
        );
        await tx.query("deallocate claim_explained");
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) throw error;
      });
    const scanned: number[] = [];
    const walk = (node: Record<string, unknown>) => {
      if (String(node["Node Type"]).includes("Scan")) scanned.push(Number(node["Actual Rows"]));
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    const [explained] = (plan?.["QUERY PLAN"] ?? []) as { Plan: Record<string, unknown> }[];
    if (!explained) throw new Error("no plan");
    walk(explained.Plan);
    expect(Math.max(...scanned)).toBeLessThanOrEqual(8);
    // And the claim itself takes them in that order.
    const claimed = await new EventStore(db).claimDue({ now, owner: "n2", leaseMs: 60_000, limit: 8 });
    expect(claimed.map((e) => e.id)).toEqual(Array.from({ length: 8 }, (_, i) => `b-${String(i).padStart(5, "0")}`));
  });
});
