// Group commit of KV sets (kv-batch.ts) on real databases: concurrent sets go out as batches of one
// statement, yet each returns what its own write would have (insert or update, in order, its own
// version), the last-ordered value stands, the read cache ends exact, a value the database refuses
// fails only itself, and a refused advisory key still ends in DATABASE_OWNED, as does an owner's write
// (single or batched) once kv_owner_lease no longer names it.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type TestDatabase, testDatabase } from "../testing/databases.js";
import type { Db, NamedStatement, Queryable } from "./db.js";
import { DEFAULT_KV_BATCH } from "./kv-batch.js";
import { KvReadCache } from "./kv-cache.js";
import { KV_LOCK_KEY, KV_OWNER_WRITES_KEY } from "./kv-ownership.js";
import { KvStore, type KvStoreOptions } from "./kv.js";

/** The db, counting the batch statements and the single sets sent through it. */
function counting(db: Db) {
  const counts = { batches: 0, members: 0, singles: 0 };
  const query: Queryable["query"] = (sql, params) => {
    const name = typeof sql === "string" ? "" : (sql as NamedStatement).name;
    if (name.startsWith("picloud_kv_set_many")) {
      counts.batches++;
      counts.members += (params?.[2] as unknown[] | undefined)?.length ?? 0;
    } else if (name.startsWith("picloud_kv_set")) counts.singles++;
    return db.query(sql, params);
  };
  return { db: { query, transaction: db.transaction.bind(db) }, counts };
}

describe.each(BACKENDS)("KV set batching on %s", (backend) => {
  let database: TestDatabase;
  let db: Db;
  let plain: KvStore;

  beforeAll(async () => {
    database = await testDatabase(backend);
    db = await database.open();
    plain = new KvStore(db);
    await db.query("insert into apps (id) values ('shop'), ('other')");
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const versionOf = async (app: string, key: string) =>
    Number((await db.query<{ version: string }>("select version from kv where app_id = $1 and key = $2", [app, key]))[0]?.version);

  function store(inFlight: number, options: KvStoreOptions = {}) {
    const counted = counting(db);
    const cache = new KvReadCache({ maxBytes: 1024 * 1024, live: () => true });
    const kv = new KvStore(counted.db, { cache, batch: { ...DEFAULT_KV_BATCH, inFlight }, ...options });
    return { kv, cache, counts: counted.counts };
  }

  it("many concurrent sets to one key: batched, in order, each insert or update as alone, the last value stands, the cache exact", async () => {
    const { kv, cache, counts } = store(1);
    const n = 200;
    const ops = await Promise.all(Array.from({ length: n }, (_, i) => kv.set("shop", "c", "hot", String(i))));
    expect(ops[0]).toBe("insert");
    expect(ops.slice(1).every((op) => op === "update")).toBe(true);
    expect(counts.batches).toBeGreaterThan(0);
    expect(counts.batches + counts.singles).toBeLessThan(n / 4);
    expect(counts.members + counts.singles).toBe(n);
    expect(await plain.get("shop", "c", "hot")).toBe(String(n - 1));
    expect(cache.peek("shop", "c", "hot")).toBe(await plain.get("shop", "c", "hot"));
  });

  it("versions strictly increase in queue order within and across batches", async () => {
    const { kv, counts } = store(1);
    // The versions each member's row got: read back by the value each wrote.
    const n = 60;
    await Promise.all(Array.from({ length: n }, (_, i) => kv.set("shop", "order", `k${i % 3}`, String(i))));
    expect(counts.batches).toBeGreaterThan(0);
    const seen = await Promise.all([0, 1, 2].map((k) => versionOf("shop", `k${k}`)));
    // The last writer of each key is i = 57, 58, 59 in that order.
    expect(seen[0]).toBeLessThan(seen[1] as number);
    expect(seen[1]).toBeLessThan(seen[2] as number);
    expect(await plain.get("shop", "order", "k0")).toBe("57");
    expect(await plain.get("shop", "order", "k2")).toBe("59");
    // Each set's own version, through the cache's offers: a later set of a key never caches below an earlier one.
    const recorded: number[] = [];
    const probe = new KvStore(counting(db).db, {
      cache: new (class extends KvReadCache {
        override offer(...args: Parameters<KvReadCache["offer"]>) {
          recorded.push(args[2]);
          super.offer(...args);
        }
      })({ maxBytes: 1024 * 1024, live: () => true }),
      batch: { ...DEFAULT_KV_BATCH, inFlight: 1 },
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => probe.set("shop", "order", "seq", String(i))));
    expect(recorded).toHaveLength(40);
    for (let i = 1; i < recorded.length; i++) expect(recorded[i]).toBeGreaterThan(recorded[i - 1] as number);
    expect(recorded.at(-1)).toBe(await versionOf("shop", "seq"));
  });

  it.each([1, 3])(
    "many keys from two apps, %i batches in flight: every key ends at its last value, the cache agrees with a fresh read",
    async (inFlight) => {
      const { kv, cache, counts } = store(inFlight);
      const writes = Array.from({ length: 400 }, (_, i) => ({
        app: i % 2 ? "shop" : "other",
        key: `m${Math.floor(i / 2) % 100}`,
        value: String(i),
      }));
      const ops = await Promise.all(writes.map((w) => kv.set(w.app, `many${inFlight}`, w.key, w.value)));
      expect(counts.batches).toBeGreaterThan(0);
      // One insert per (app, key), the rest updates; with one batch in flight, the first in queue order inserts.
      const first = new Set<string>();
      const inserts = new Set<string>();
      writes.forEach((w, i) => {
        const id = `${w.app}/${w.key}`;
        if (ops[i] === "insert") {
          expect(inserts.has(id)).toBe(false);
          inserts.add(id);
        }
        if (inFlight === 1) expect([id, ops[i]]).toEqual([id, first.has(id) ? "update" : "insert"]);
        first.add(id);
      });
      expect(inserts.size).toBe(200);
      for (const app of ["shop", "other"]) {
        for (let k = 0; k < 100; k++) {
          const fresh = await plain.get(app, `many${inFlight}`, `m${k}`);
          const cached = cache.peek(app, `many${inFlight}`, `m${k}`);
          expect(cached === undefined || cached === fresh).toBe(true);
          if (inFlight === 1)
            expect(fresh).toBe(String([...writes.keys()].filter((i) => writes[i]?.app === app && writes[i]?.key === `m${k}`).at(-1)));
        }
        expect(await kv.get(app, `many${inFlight}`, "m7")).toBe(await plain.get(app, `many${inFlight}`, "m7"));
      }
    },
  );

  it("a value the database refuses fails only itself; the rest of its batch is written", async () => {
    const { kv, counts } = store(1);
    const sets = Array.from({ length: 20 }, (_, i) =>
      kv.set("shop", "bad", `b${i}`, i === 7 ? JSON.stringify({ s: "a\u0000b" }) : String(i)).then(
        (op) => ({ op }),
        (error: { code?: string }) => ({ error: error.code }),
      ),
    );
    const results = await Promise.all(sets);
    expect(counts.batches).toBeGreaterThan(0);
    expect(results[7]).toEqual({ error: "KV_INVALID_VALUE" });
    results.forEach((r, i) => {
      if (i !== 7) expect(r).toEqual({ op: "insert" });
    });
    expect(await plain.get("shop", "bad", "b7")).toBeNull();
    expect(await plain.get("shop", "bad", "b19")).toBe("19");
  });

  it("a set whose app was deleted meanwhile fails only itself, not other apps' sets batched with it", async () => {
    const { kv } = store(1);
    await db.query("insert into apps (id) values ('gone')");
    await db.query("delete from apps where id = 'gone'");
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => kv.set("shop", "fk", `k${i}`, "1")),
      kv.set("gone", "fk", "k", "1"),
      ...Array.from({ length: 10 }, (_, i) => kv.set("other", "fk", `j${i}`, "1")),
    ]);
    expect(results.map((r) => r.status)).toEqual([...Array(10).fill("fulfilled"), "rejected", ...Array(10).fill("fulfilled")]);
    expect(await plain.get("other", "fk", "j9")).toBe("1");
  });

  it("under steady load the queue keeps only the sets pending, not every set taken (it may never empty)", async () => {
    const { kv } = store(1);
    const queue = () => (kv as unknown as { batcher: { queue: unknown[] } }).batcher.queue.length;
    const writers = 200; // more than 2 batches' worth: the queue never drains while they write
    let retained = 0;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < 15; i++) {
          await kv.set("shop", "steady", `k${w}`, String(i));
          retained = Math.max(retained, queue());
        }
      }),
    );
    expect(retained).toBeLessThanOrEqual(2 * writers + 256);
    expect(await plain.get("shop", "steady", "k199")).toBe("14");
  }, 120_000);

  it("with a notification per write, every member's NOTIFY is delivered at its commit", async () => {
    const heard: string[] = [];
    const stop = await db.listen("kvb_batch_test", (payload) => heard.push(payload));
    try {
      const { kv, counts } = store(1, { notification: (_app, _c, key) => ({ channel: "kvb_batch_test", payload: key }) });
      await Promise.all(Array.from({ length: 30 }, (_, i) => kv.set("shop", "n", `n${i}`, "1")));
      expect(counts.batches).toBeGreaterThan(0);
      for (let tries = 0; heard.length < 30 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 20));
      expect(heard.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`).sort());
    } finally {
      await stop();
    }
  });

  it("an owner's sets, batches and deletes commit only while kv_owner_lease names it; a refused one asks the owner to confirm first", async () => {
    const lease = (holder: string | null) =>
      holder === null
        ? db.query("delete from kv_owner_lease")
        : db.query(
            "insert into kv_owner_lease (id, holder, lease_ms) values (1, $1, 1000) on conflict (id) do update set holder = excluded.holder",
            [holder],
          );
    let confirms = 0;
    let onConfirm: () => Promise<unknown> = async () => {};
    const owner = {
      holder: "this-owner",
      confirm: async () => {
        confirms++;
        await onConfirm();
      },
    };
    const { kv, counts } = store(1, { owner });
    await lease("this-owner");
    await Promise.all(Array.from({ length: 10 }, (_, i) => kv.set("shop", "o", `o${i}`, "1")));
    expect(counts.batches).toBeGreaterThan(0);
    expect(await kv.delete("shop", "o", "o9")).toBe(true);
    expect(confirms).toBe(0);

    // Another process's row (a next owner took the database over): nothing commits, batched or not.
    await lease("next-owner");
    const batches = counts.batches;
    const refused = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) => kv.set("shop", "o", `o${i}`, "2")),
      kv.delete("shop", "o", "o8"),
    ]);
    for (const r of refused) expect(r).toMatchObject({ status: "rejected", reason: { code: "DATABASE_OWNED" } });
    expect(counts.batches).toBeGreaterThan(batches); // some went as the owner's batch, refused whole
    expect(confirms).toBeGreaterThan(0);
    const values = await db.query<{ key: string; value: string }>(
      "select key, value::text as value from kv where app_id = 'shop' and collection = 'o' order by key",
    );
    expect(values).toEqual(Array.from({ length: 9 }, (_, i) => ({ key: `o${i}`, value: "1" })));
    // The batch function alone, named another holder: no rows, nothing written.
    expect(
      await db.query("select * from picloud_kv_set_many($1, $2, $3, $4, $5, $6, $7, $8, $9)", [
        ["shop"],
        ["o"],
        ["o0"],
        ["3"],
        [false],
        KV_OWNER_WRITES_KEY,
        [null],
        [null],
        "this-owner",
      ]),
    ).toEqual([]);
    expect(await plain.get("shop", "o", "o0")).toBe("1");

    // No row (a database migrated after the owner took the lock): the owner's confirm records it, and the write goes through.
    await lease(null);
    onConfirm = () => lease("this-owner");
    const before = confirms;
    expect(await kv.set("shop", "o", "o0", "4")).toBe("update");
    expect(confirms).toBe(before + 1);
    expect(await plain.get("shop", "o", "o0")).toBe("4");
  });

  it("an owner's write refused and sent again guarded sends the NOTIFY a guarded write sends, alone or batched", async () => {
    const heard: string[] = [];
    const stop = await db.listen("kvb_owner_test", (payload) => heard.push(payload));
    try {
      await db.query(
        "insert into kv_owner_lease (id, holder, lease_ms) values (1, 'next-owner', 1000) on conflict (id) do update set holder = excluded.holder",
      );
      // The owner's view: owner until its confirm finds the lock gone; as owner it sends no notification.
      let owner = true;
      const { kv, counts } = store(1, {
        owner: {
          holder: "this-owner",
          confirm: async () => {
            owner = false;
          },
        },
        guarded: () => !owner,
        notification: (_app, _c, key) => (owner ? undefined : { channel: "kvb_owner_test", payload: key }),
      });
      // r0 goes alone; r1 and r2 queue behind it as the owner's and go as one batch once it has ended.
      await Promise.all([kv.set("shop", "r", "r0", "1"), kv.set("shop", "r", "r1", "1"), kv.set("shop", "r", "r2", "1")]);
      expect(counts.batches).toBeGreaterThan(0);
      owner = true; // and a delete refused as the owner's
      expect(await kv.delete("shop", "r", "r0")).toBe(true);
      for (let tries = 0; heard.length < 4 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 20));
      expect(heard.sort()).toEqual(["r0", "r0", "r1", "r2"]);
    } finally {
      await stop();
    }
  });

  it.runIf(backend === "postgres")(
    "guarded batches take the KV writers' lock: refused while another holds it (DATABASE_OWNED), written when free",
    async () => {
      const holder = new pg.Client({ connectionString: database.url });
      await holder.connect();
      try {
        const { kv, counts } = store(1, { guarded: () => true });
        await Promise.all(Array.from({ length: 10 }, (_, i) => kv.set("shop", "g", `g${i}`, "1")));
        expect(counts.batches).toBeGreaterThan(0);
        await holder.query("select pg_advisory_lock($1::bigint)", [KV_LOCK_KEY]);
        const refused = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => kv.set("shop", "g", `g${i}`, "2")));
        for (const r of refused) expect(r).toMatchObject({ status: "rejected", reason: { code: "DATABASE_OWNED" } });
        expect(await plain.get("shop", "g", "g3")).toBe("1");
        await holder.query("select pg_advisory_unlock($1::bigint)", [KV_LOCK_KEY]);
        await Promise.all(Array.from({ length: 10 }, (_, i) => kv.set("shop", "g", `g${i}`, "3")));
        expect(await plain.get("shop", "g", "g9")).toBe("3");
      } finally {
        await holder.end();
      }
    },
  );
});
