// The KV read cache on real databases: exact for this process's own writes under concurrency, the
// text the database stores, and (Postgres) other processes' writes reaching it through the bus.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../testing/until.js";
import { Bus } from "../store/bus.js";
import { busKvCache, kvNotification } from "../core/kv-cache-bus.js";
import { BACKENDS, type TestDatabase, testDatabase } from "../testing/databases.js";
import { KvStore } from "./kv.js";

/** What a process builds: its own connections, bus and cache (core.ts wires the same). */
async function processOn(database: TestDatabase, embedded: boolean) {
  const db = await database.open();
  const bus = new Bus(db);
  await bus.start();
  // NOTIFY mode (PICLOUD_KV_CACHE_MIB set in a cluster); no KV writers' lock: these "processes" share the database freely.
  const mode = { embedded, configuredMiB: 1, ownership: undefined };
  const wired = busKvCache(db, bus, 1024 * 1024, mode);
  const kv = new KvStore(db, { cache: wired.cache, notification: kvNotification(bus, mode) });
  return {
    db,
    bus,
    kv,
    cache: wired.cache,
    close: async () => {
      wired.stop();
      await bus.stop();
      await db.close();
    },
  };
}

describe.each(BACKENDS)("KV read cache on %s", (backend) => {
  let database: TestDatabase;
  let proc: Awaited<ReturnType<typeof processOn>>;
  /** The same database without a cache: the truth to compare with. */
  let plain: KvStore;

  beforeAll(async () => {
    database = await testDatabase(backend);
    proc = await processOn(database, backend === "pglite");
    plain = new KvStore(proc.db);
    await proc.db.query("insert into apps (id) values ('shop'), ('other')");
  });
  afterAll(async () => {
    await proc?.close();
    await database?.drop();
  });

  it("a get served from the cache returns the text the database stores (jsonb orders keys)", async () => {
    await proc.kv.set("shop", "c", "order", '{"zebra":1,"b":[1.50,2],"a":{"y":1,"x":2}}');
    expect(proc.cache.peek("shop", "c", "order")).toBeDefined();
    const cached = await proc.kv.get("shop", "c", "order");
    expect(cached).toBe(await plain.get("shop", "c", "order"));
  });

  it("serves a repeated get from memory, and a has from the same entry", async () => {
    await proc.kv.set("shop", "c", "hot", "1");
    await proc.db.query("update kv set value = '2' where app_id = 'shop' and key = 'hot'");
    // Changed behind PiCloud's back (no notification): the cache does not know, which shows it answered.
    expect(await proc.kv.get("shop", "c", "hot")).toBe("1");
    expect(await proc.kv.has("shop", "c", "hot")).toBe(true);
    expect(await proc.kv.get("shop", "c", "absent")).toBeNull();
    expect(proc.cache.peek("shop", "c", "absent")).toBeNull();
  });

  it("is exact for its own writes: each writer reads back what it wrote, amid concurrent writers of a shared key", async () => {
    const mismatches: string[] = [];
    const owner = async (i: number) => {
      for (let round = 0; round < 15; round++) {
        const value = JSON.stringify({ i, round });
        await proc.kv.set("shop", "own", `k${i}`, value);
        const read = await proc.kv.get("shop", "own", `k${i}`);
        if (read !== (await plain.get("shop", "own", `k${i}`))) mismatches.push(`k${i} after set ${round}: ${read}`);
        if (round % 5 === 4) {
          await proc.kv.delete("shop", "own", `k${i}`);
          if ((await proc.kv.get("shop", "own", `k${i}`)) !== null) mismatches.push(`k${i} after delete ${round}`);
        }
      }
    };
    const shared = async (i: number) => {
      for (let round = 0; round < 15; round++) {
        const op = (i + round) % 4;
        if (op === 0) await proc.kv.delete("shop", "shared", "k");
        else if (op === 1) await proc.kv.get("shop", "shared", "k");
        else await proc.kv.set("shop", "shared", "k", String(i * 100 + round));
      }
    };
    await Promise.all([...Array.from({ length: 6 }, (_, i) => owner(i)), ...Array.from({ length: 8 }, (_, i) => shared(i))]);
    expect(mismatches).toEqual([]);
    // Whatever the interleaving, what the cache holds now is what the database holds.
    expect(await proc.kv.get("shop", "shared", "k")).toBe(await plain.get("shop", "shared", "k"));
    for (let i = 0; i < 6; i++) expect(await proc.kv.get("shop", "own", `k${i}`)).toBe(await plain.get("shop", "own", `k${i}`));
  });

  it("a failed write leaves nothing cached for the key", async () => {
    await proc.kv.set("shop", "c", "bad", "1");
    await expect(proc.kv.set("shop", "c", "bad", '"\\u0000"')).rejects.toMatchObject({ code: "KV_INVALID_VALUE" });
    expect(proc.cache.peek("shop", "c", "bad")).toBeUndefined();
    expect(await proc.kv.get("shop", "c", "bad")).toBe("1");
  });

  it("deleting an app drops its cached values (a new app of the same name starts empty)", async () => {
    await proc.kv.set("other", "c", "k", '"old"');
    expect(proc.cache.peek("other", "c", "k")).toBe('"old"');
    await proc.db.query("delete from apps where id = 'other'");
    await proc.bus.publish("apps.changed", { app: "other" });
    await proc.db.query("insert into apps (id) values ('other')");
    expect(await proc.kv.get("other", "c", "k")).toBeNull();
  });
});

describe("KV read cache across two processes on one Postgres", () => {
  let database: TestDatabase;
  let writer: Awaited<ReturnType<typeof processOn>>;
  let reader: Awaited<ReturnType<typeof processOn>>;

  beforeAll(async () => {
    database = await testDatabase("postgres");
    writer = await processOn(database, false);
    reader = await processOn(database, false);
    await writer.db.query("insert into apps (id) values ('shop')");
  });
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await database?.drop();
  });

  const readerSees = (key: string, expected: string | null) =>
    until(`the reader to see ${expected} at ${key}`, async () => ((await reader.kv.get("shop", "c", key)) === expected ? true : undefined));

  /** Reads until the reader's cache holds the key (a read overlapping the write's own notification caches nothing). */
  const warm = (key: string) =>
    until(`the reader's cache to hold ${key}`, async () => {
      const value = await reader.kv.get("shop", "c", key);
      return reader.cache.peek("shop", "c", key) === undefined ? undefined : value;
    });

  /**
   * Writes through the writer and warms the reader once the write's own notification has reached
   * it: a notification arriving after the warming read would drop the key again.
   */
  const writeAndWarm = async (key: string, value: string) => {
    let heard = false;
    const off = reader.bus.subscribe("kv.changed", (change) => {
      if (change.key === key) heard = true;
    });
    try {
      await writer.kv.set("shop", "c", key, value);
      await until(`the reader to hear the write of ${key}`, async () => (heard ? true : undefined));
    } finally {
      off();
    }
    return warm(key);
  };

  it("a write by one process reaches the other's warm cache through the bus", async () => {
    expect(await writeAndWarm("k", '"v1"')).toBe('"v1"');
    await writer.kv.set("shop", "c", "k", '"v2"');
    await readerSees("k", '"v2"');
    await writer.kv.delete("shop", "c", "k");
    await readerSees("k", null);
    await writer.kv.set("shop", "c", "k", '"v3"');
    await readerSees("k", '"v3"');
  });

  it("while the reader is warm, only the notification makes it read again (a write outside PiCloud stays unseen)", async () => {
    expect(await writeAndWarm("w", "1")).toBe("1");
    await writer.db.query("update kv set value = '99' where app_id = 'shop' and key = 'w'");
    await new Promise((r) => setTimeout(r, 200));
    expect(await reader.kv.get("shop", "c", "w")).toBe("1");
    await writer.kv.set("shop", "c", "w", "2");
    await readerSees("w", "2");
  });

  it("a write rolled back with its transaction notifies no one: the other process keeps its value", async () => {
    expect(await writeAndWarm("r", "1")).toBe("1");
    let heard = 0;
    const off = reader.bus.subscribe("kv.changed", ({ key }) => {
      if (key === "r") heard++;
    });
    // A trigger hook that fails: the write and its NOTIFY share one transaction, which rolls back.
    const failing = new KvStore(writer.db, {
      notification: kvNotification(writer.bus, { embedded: false, configuredMiB: 1, ownership: undefined }),
      hook: {
        mayTrigger: () => true,
        onChange: async () => {
          throw new Error("roll back");
        },
      },
    });
    await expect(failing.set("shop", "c", "r", "2")).rejects.toThrow("roll back");
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toBe(0);
    expect(await reader.kv.get("shop", "c", "r")).toBe("1");
    await writer.kv.set("shop", "c", "r", "3");
    await readerSees("r", "3");
    expect(heard).toBe(1);
    off();
  });

  it("concurrent writers in both processes: once quiet, both caches hold what the database holds", async () => {
    const plain = new KvStore(writer.db);
    const storm = (proc: typeof writer, offset: number) =>
      Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          for (let round = 0; round < 12; round++) {
            const op = (i + round + offset) % 5;
            if (op === 0) await proc.kv.delete("shop", "c", "hot");
            else if (op < 3) await proc.kv.get("shop", "c", "hot");
            else await proc.kv.set("shop", "c", "hot", String(offset * 1000 + i * 100 + round));
          }
        }),
      );
    await Promise.all([storm(writer, 0), storm(reader, 1)]);
    const truth = await plain.get("shop", "c", "hot");
    await until("both caches to agree with the database", async () =>
      (await writer.kv.get("shop", "c", "hot")) === truth && (await reader.kv.get("shop", "c", "hot")) === truth ? true : undefined,
    );
  });
});
