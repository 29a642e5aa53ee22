// Who may write KV to one Postgres database, and the owning `serve`'s cache when its lock goes away:
// real Postgres, real processes' roles in this process (each has its own pool, LISTEN connection and lock).
import net from "node:net";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startManagerProcess, startNodeProcess, startRuntime, type RoleProcess, type Runtime } from "../main.js";
import type { PiCloudError } from "../shared/errors.js";
import { KvStore } from "../store/kv.js";
import { KV_LOCK_KEY, KvOwnership } from "../store/kv-ownership.js";
import type { Queryable } from "../store/db.js";
import { openPostgres } from "../store/postgres/index.js";
import { openDatabase } from "../store/open-db.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { postgresProcessOptions } from "../testing/runtime.js";
import { until } from "../testing/until.js";

type Starter = (options: Parameters<typeof startRuntime>[0]) => Promise<RoleProcess | Runtime>;

const options = postgresProcessOptions;

/** The error a start fails with, or undefined when it starts (then it is closed). */
async function startError(start: Starter, databaseUrl: string): Promise<PiCloudError | undefined> {
  try {
    const started = await start(options(databaseUrl));
    await started.close();
    return undefined;
  } catch (error) {
    return error as PiCloudError;
  }
}

describe("the KV writers' lock on Postgres", () => {
  let database: { url: string; drop: () => Promise<void> };
  const running: RoleProcess[] = [];
  const start = async (starter: Starter, kvCacheMiB?: number) => {
    const started = await starter(options(database.url, kvCacheMiB));
    running.push(started);
    return started;
  };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Migrated, so that a node (which waits for a manager to migrate) can start first.
    await (await openDatabase({ databaseUrl: database.url, pgliteLocation: "" })).close();
  });
  afterEach(async () => {
    for (const process of running.splice(0).reverse()) await process.close();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("a serve alone owns the database: its cache is on and its writes send nothing", async () => {
    const serve = await start(startRuntime);
    expect(serve.core.kvOwnership?.state).toBe("owner");
    expect(serve.core.kvCacheStatus()).toEqual({ on: true, reason: "owner" });
  });

  it.each([
    ["a node", startNodeProcess],
    ["a manager", startManagerProcess],
    ["a second serve", startRuntime],
  ] as const)("%s cannot start on a database a serve owns: DATABASE_OWNED, naming it", async (_label, starter) => {
    await start(startRuntime);
    const error = await startError(starter, database.url);
    expect(error?.code).toBe("DATABASE_OWNED");
    expect(error?.message).toMatch(/held by "picloud serve .* pid \d+"/);
  });

  it("a serve beside a node shares the database: cache off, and it works", async () => {
    const node = await start(startNodeProcess);
    expect(node.core.kvOwnership?.state).toBe("shared");
    const serve = (await start(startRuntime)) as Runtime;
    expect(serve.core.kvOwnership?.state).toBe("shared");
    expect(serve.core.kvCacheStatus()).toEqual({ on: false, reason: "shared" });
    await serve.core.db.query("insert into apps (id) values ('shop')");
    await serve.core.kv.set("shop", "c", "k", "1");
    await node.core.kv.set("shop", "c", "k", "2");
    expect(await serve.core.kv.get("shop", "c", "k")).toBe("2");
  });

  it("a serve with PICLOUD_KV_CACHE_MIB=0 shares: a second serve joins it, and one with the setting caches in NOTIFY mode", async () => {
    const first = await start(startRuntime, 0);
    expect(first.core.kvCacheStatus()).toEqual({ on: false, reason: "disabled" });
    const second = await start(startRuntime, 4);
    expect(second.core.kvOwnership?.state).toBe("shared");
    expect(second.core.kvCacheStatus()).toEqual({ on: true, reason: "notify" });
  });

  it("a write that does not own the database is refused while another process owns it, and changes nothing", async () => {
    const db = await openDatabase({ databaseUrl: database.url, pgliteLocation: "" });
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await db.query("insert into apps (id) values ('guard') on conflict do nothing");
      const kv = new KvStore(db, { guarded: () => true });
      await kv.set("guard", "c", "k", "1");
      await holder.query("select pg_advisory_lock($1::bigint)", [KV_LOCK_KEY]);
      await expect(kv.set("guard", "c", "k", "2")).rejects.toMatchObject({ code: "DATABASE_OWNED" });
      await expect(kv.delete("guard", "c", "k")).rejects.toMatchObject({ code: "DATABASE_OWNED" });
      // In a transaction (a key that may trigger events) too.
      const hooked = new KvStore(db, {
        guarded: () => true,
        hook: { mayTrigger: () => true, onChange: async () => undefined },
      });
      await expect(hooked.set("guard", "c", "k", "3")).rejects.toMatchObject({ code: "DATABASE_OWNED" });
      expect(await kv.get("guard", "c", "k")).toBe("1");
      await holder.query("select pg_advisory_unlock($1::bigint)", [KV_LOCK_KEY]);
      expect(await kv.delete("guard", "c", "k")).toBe(true);
      expect(await kv.delete("guard", "c", "k")).toBe(false);
    } finally {
      await holder.end();
      await db.close();
    }
  });

  describe("the owner's lock connection terminated under concurrent reads and writes", () => {
    let serve: Runtime;
    let sql: pg.Client;

    /** Terminates the serve's LISTEN connection, which holds the lock (found by its application_name). */
    const terminateLock = async () => {
      const rows = await sql.query<{ pid: number }>(
        "select pid from pg_stat_activity where datname = current_database() and application_name like 'picloud serve %'",
      );
      expect(rows.rows.length).toBe(1);
      await sql.query("select pg_terminate_backend($1)", [rows.rows[0]?.pid]);
    };

    /**
     * Until the serve owns the database again and its cache serves (a reconnect that met another holder
     * shares: lose it again). The lease comes with the answer to the renewal the fence's end sends.
     */
    const regainOwnership = () =>
      until("the serve to own the database again", async () => {
        const state = serve.core.kvOwnership?.state;
        if (state === "owner" && serve.core.kvOwnership?.cacheable && serve.core.kvOwnership.leased()) return true;
        if (state === "shared") await terminateLock();
        return undefined;
      });

    beforeAll(async () => {
      serve = (await startRuntime(options(database.url))) as Runtime;
      sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
      await serve.core.db.query("insert into apps (id) values ('race') on conflict do nothing");
    });
    afterAll(async () => {
      await sql?.end();
      await serve?.close();
    });

    it("no read is served stale: the cache stands aside at once, and comes back cleared as owner", async () => {
      const { kv } = serve.core;
      await kv.set("race", "c", "k", "0");
      expect(await kv.get("race", "c", "k")).toBe("0");
      const hitsBefore = serve.core.kvCache?.counts().hits ?? 0;
      expect(await kv.get("race", "c", "k")).toBe("0");
      expect(serve.core.kvCache?.counts().hits).toBe(hitsBefore + 1);

      // Concurrent load on the serve: a writer counting up, and readers that must never see a value
      // below one whose write was acknowledged before their read began.
      let acknowledged = 0;
      let stop = false;
      const violations: string[] = [];
      const writer = (async () => {
        for (let n = 1; !stop; n++) {
          try {
            await kv.set("race", "c", "n", String(n));
            acknowledged = n;
          } catch (error) {
            // Not expected here (the pool is untouched), but a failed write is not a stale read.
            violations.push(`write ${n}: ${(error as Error).message}`);
          }
        }
      })();
      const reader = async () => {
        while (!stop) {
          const floor = acknowledged;
          const value = Number(await kv.get("race", "c", "n"));
          if (value < floor) violations.push(`read ${value} after ${floor} was acknowledged`);
          // A cache hit resolves without I/O: let the event loop (and the lost connection's events) run.
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const readers = [reader(), reader(), reader()];
      await until("the writer to get going", async () => (acknowledged > 20 ? true : undefined));

      try {
        // Another writer takes the lock shared the moment it is free and changes the cached key behind
        // the serve's back: the serve must read its value from then on.
        await terminateLock();
        const other = new pg.Client({ connectionString: database.url });
        await other.connect();
        try {
          await other.query("select pg_advisory_lock_shared($1::bigint)", [KV_LOCK_KEY]);
          await other.query("update kv set value = '1', version = nextval('kv_version') where app_id = 'race' and key = 'k'");
          expect(serve.core.kvCacheStatus().on).toBe(false);
          expect(await kv.get("race", "c", "k")).toBe("1");
          // Back with the lock shared (the other writer holds it): the cache stays off, writes still work.
          await until("the serve to reconnect, sharing", async () => (serve.core.kvOwnership?.state === "shared" ? true : undefined));
          expect(serve.core.kvCacheStatus()).toEqual({ on: false, reason: "shared" });
          await other.query("update kv set value = '2', version = nextval('kv_version') where app_id = 'race' and key = 'k'");
          expect(await kv.get("race", "c", "k")).toBe("2");
        } finally {
          await other.end();
        }

        // Lost again, and another writer changes the key while the lock is free: back as the owner, the
        // cache must have forgotten what it held.
        await regainOwnership();
        expect(await kv.get("race", "c", "k")).toBe("2");
        const hitsOwner = serve.core.kvCache?.counts().hits ?? 0;
        expect(await kv.get("race", "c", "k")).toBe("2");
        expect(serve.core.kvCache?.counts().hits).toBe(hitsOwner + 1);
        const sneaky = new pg.Client({ connectionString: database.url });
        await sneaky.connect();
        try {
          // Queued before the lock is free, so it gets it before the serve reconnects (50-100 ms later).
          const granted = sneaky.query("select pg_advisory_lock_shared($1::bigint)", [KV_LOCK_KEY]);
          await terminateLock();
          await granted;
          await sneaky.query("update kv set value = '3', version = nextval('kv_version') where app_id = 'race' and key = 'k'");
          await sneaky.query("select pg_advisory_unlock_shared($1::bigint)", [KV_LOCK_KEY]);
        } finally {
          await sneaky.end();
        }
        await regainOwnership();
        expect(serve.core.kvCacheStatus()).toEqual({ on: true, reason: "owner" });
        expect(await kv.get("race", "c", "k")).toBe("3");
      } finally {
        // Also when an expectation failed: the loops end before the serve closes.
        stop = true;
        await Promise.all([writer, ...readers]);
      }

      expect(violations).toEqual([]);
      // The owner caches its writes again (the last one under load may have spanned the reconnect's clearing).
      await kv.set("race", "c", "n", String(acknowledged + 1));
      const hits = serve.core.kvCache?.counts().hits ?? 0;
      expect(await kv.get("race", "c", "n")).toBe(String(acknowledged + 1));
      expect(serve.core.kvCache?.counts().hits).toBe(hits + 1);
    });
  });
});

describe("a LISTEN connection that goes silent (a network partition)", () => {
  it("is given up when a ping goes unanswered: the lock counts as lost, so the cache stands aside", async () => {
    const database = await createPostgresDatabase();
    const target = new URL(database.url);
    // A TCP proxy to PostgreSQL that can stop passing bytes, as a partition would.
    const pairs: net.Socket[][] = [];
    const proxy = net.createServer((socket) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => {});
      upstream.on("error", () => {});
      pairs.push([socket, upstream]);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const ownership = new KvOwnership("exclusive");
    const db = await openPostgres(viaProxy.toString(), {
      pingMs: 3_000,
      reconnectMinMs: 60_000,
      session: { connected: (session) => ownership.acquire(session), lost: () => ownership.lost() },
    });
    try {
      expect(ownership.state).toBe("owner");
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(ownership.state).toBe("owner"); // answered pings keep it
      for (const pair of pairs) for (const socket of pair) socket.pause();
      const frozenAt = Date.now();
      await until("the silent connection to be given up", async () => (ownership.state === "lost" ? true : undefined), 15_000);
      // At most one interval plus the deadline (3 + 2 s), with room for a loaded machine.
      expect(Date.now() - frozenAt).toBeLessThan(8_000);
      expect(db.health().listening).toBe(false);
    } finally {
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      await db.close().catch(() => {});
      await new Promise((resolve) => proxy.close(resolve));
      await database.drop();
    }
  });
});

describe("a LISTEN connection whose ping fails while it stays connected", () => {
  it("is given up at the failure: the cache stands aside, and the lock is taken again on a new connection", async () => {
    const database = await createPostgresDatabase();
    const ownership = new KvOwnership("exclusive");
    let session: Queryable | undefined;
    const downs: unknown[] = [];
    const db = await openPostgres(database.url, {
      // Pings 1 s apart, each given 667 ms: the failure below (200 ms) comes before that deadline.
      pingMs: 1_000,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      onStateChange: (state, error) => {
        if (state === "down") downs.push(error);
      },
      session: {
        connected: async (listen) => {
          session = listen;
          await ownership.acquire(listen);
        },
        lost: () => ownership.lost(),
      },
    });
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      expect(ownership.state).toBe("owner");
      const pidOf = async () =>
        (
          await sql.query<{ pid: number }>(
            `select pid from pg_locks where locktype = 'advisory' and objid = $1 and mode = 'ExclusiveLock' and granted
              and database = (select oid from pg_database where datname = current_database())`,
            [KV_LOCK_KEY],
          )
        ).rows[0]?.pid;
      const firstPid = await pidOf();
      expect(firstPid).toBeTypeOf("number");
      // A real failed ping on a connection that stays up: a serializable read-write transaction is open
      // elsewhere, so a deferrable read-only serializable snapshot (the ping's, after these settings)
      // waits for it, and the session's statement_timeout cancels the ping after 200 ms.
      await sql.query("begin isolation level serializable");
      await sql.query("select 1");
      await session?.query(
        "set default_transaction_isolation = 'serializable'; set default_transaction_read_only = on; set default_transaction_deferrable = on; set statement_timeout = 200",
      );
      await until("the failed ping to count as lost", async () => (downs.length > 0 ? true : undefined), 5_000);
      expect(downs[0]).toMatchObject({ code: "57014" }); // the ping's own error, not the unanswered-ping deadline
      await until("the lock to be taken again", async () => (ownership.cacheable ? true : undefined), 5_000);
      expect(await pidOf()).not.toBe(firstPid);
      await sql.query("commit");
      expect(db.health().listening).toBe(true);
    } finally {
      await sql.end();
      await db.close().catch(() => {});
      await database.drop();
    }
  });
});
