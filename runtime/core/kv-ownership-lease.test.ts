// The owner's cache serves only under a lease, and a process that takes the lock after an owner lost it
// waits that lease out before it writes: no read is served from the cache after another process's write
// committed, even when the owner's event loop is blocked while its lock goes. Real Postgres.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startRuntime, type Runtime } from "../main.js";
import type { Queryable, Row } from "../store/db.js";
import { KV_LEASE_MS, KV_LOCK_KEY, KvOwnership } from "../store/kv-ownership.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { postgresProcessOptions } from "../testing/runtime.js";
import { until } from "../testing/until.js";

const OWNERSHIP_MODULE = fileURLToPath(new URL("../store/kv-ownership.ts", import.meta.url));
const KV_MODULE = fileURLToPath(new URL("../store/kv.ts", import.meta.url));
const POSTGRES_MODULE = fileURLToPath(new URL("../store/postgres/index.ts", import.meta.url));

/**
 * Another process, run to completion while this one's event loop (the owner's) is blocked: it terminates
 * the owner's lock backend (argv[2]), takes the lock as every process does (KvOwnership, shared), writes
 * argv[3] to shop/c/k as a process that does not own the database writes, and prints how long its take
 * of the lock took and whether the lease's row was left.
 */
const NEWCOMER = [
  "--import",
  "tsx",
  "--input-type=module",
  "-e",
  `const pg = (await import("pg")).default;
const { KvOwnership } = await import(${JSON.stringify(OWNERSHIP_MODULE)});
const { KvStore } = await import(${JSON.stringify(KV_MODULE)});
const { postgresPool } = await import(${JSON.stringify(POSTGRES_MODULE)});
const [url, pid, value] = process.argv.slice(1);
const session = new pg.Client({ connectionString: url });
await session.connect();
await session.query("select pg_terminate_backend($1)", [Number(pid)]);
const started = performance.now();
await new KvOwnership("shared").acquire({ query: async (sql, params) => (await session.query(sql, params)).rows });
const tookMs = performance.now() - started;
const pool = postgresPool(url, 1);
await new KvStore(pool, { guarded: () => true }).set("shop", "c", "k", value);
const left = (await session.query("select count(*)::int as n from kv_owner_lease").catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n;
await pool.close();
await session.end();
process.stdout.write(JSON.stringify({ tookMs, left }));`,
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function owningServe(): Promise<{ serve: Runtime; url: string; sql: pg.Client }> {
  const database = await createPostgresDatabase("lease_kv");
  cleanups.push(() => database.drop());
  const serve = (await startRuntime(postgresProcessOptions(database.url))) as Runtime;
  cleanups.push(() => serve.close());
  expect(serve.core.kvOwnership?.state).toBe("owner");
  await serve.core.db.query("insert into apps (id) values ('shop')");
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  return { serve, url: database.url, sql };
}

/** Reads the key until a read is answered from the cache (the first lease of a fresh database comes with the first reads). */
async function cachedRead(serve: Runtime, key: string): Promise<string | null> {
  return until("a read served from the cache", async () => {
    const hits = serve.core.kvCache?.counts().hits ?? 0;
    const value = await serve.core.kv.get("shop", "c", key);
    return serve.core.kvCache?.counts().hits === hits + 1 ? value : undefined;
  });
}

/** The owner's lock backend: the one holding the KV writers' key exclusively. */
async function lockBackend(sql: pg.Client): Promise<number> {
  const rows = await sql.query<{ pid: number }>(
    `select pid from pg_locks where locktype = 'advisory' and mode = 'ExclusiveLock' and granted and classid = 0 and objid = $1
       and database = (select oid from pg_database where datname = current_database())`,
    [KV_LOCK_KEY],
  );
  expect(rows.rows).toHaveLength(1);
  return rows.rows[0]?.pid ?? 0;
}

describe("the owner's lease", () => {
  it("an owner whose event loop is blocked while its lock goes and another process writes serves no stale read when it resumes", async () => {
    const { serve, url, sql } = await owningServe();
    const { kv } = serve.core;
    await kv.set("shop", "c", "k", '"old"');
    const pid = await lockBackend(sql);
    expect(await cachedRead(serve, "k")).toBe('"old"'); // served from the cache, under a lease
    const hits = serve.core.kvCache?.counts().hits ?? 0;
    expect(await kv.get("shop", "c", "k")).toBe('"old"');
    expect(serve.core.kvCache?.counts().hits).toBe(hits + 1); // the lease ran on: this is the last read before the block

    // Synchronous: nothing of this process runs until the other process has written and ended.
    const newcomer = JSON.parse(execFileSync(process.execPath, [...NEWCOMER, url, String(pid), '"new"'], { encoding: "utf8" })) as {
      tookMs: number;
      left: number;
    };
    // Same turn: the owner has not read the message that ended its lock session, and still believes it owns.
    expect(serve.core.kvOwnership?.state).toBe("owner");
    const read = kv.get("shop", "c", "k");
    expect(await read).toBe('"new"');
    // The newcomer found the owner's row, waited out its lease before its take counted, and deleted the row.
    expect(newcomer.tookMs).toBeGreaterThanOrEqual(KV_LEASE_MS);
    expect(newcomer.left).toBe(0);
  }, 60_000);

  it("an owner records itself before its first lease and deletes its row when it stops, so the next process need not wait", async () => {
    const { serve, sql } = await owningServe();
    await serve.core.kv.set("shop", "c", "k", "1");
    await cachedRead(serve, "k");
    const rows = async () => (await sql.query<{ lease_ms: number }>("select lease_ms from kv_owner_lease")).rows;
    expect(await rows()).toEqual([{ lease_ms: KV_LEASE_MS }]);
    await serve.close();
    expect(await rows()).toEqual([]);
  });
});

/** A lock connection that grants everything: every statement answers no rows, or `ok`. */
function fakeSession(): Queryable & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    async query<R extends Row>(sql: string | { text: string }): Promise<R[]> {
      const text = typeof sql === "string" ? sql : sql.text;
      statements.push(text);
      return (text.includes("pg_try_advisory") ? [{ ok: true }] : []) as unknown as R[];
    },
  };
}

/** A lease long enough that a loaded machine does not let it run out between two statements of a test. */
const LEASE = 300;

/** Keeps the event loop busy (a long synchronous turn) for `ms`. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("KvOwnership's lease", () => {
  it("a read after a blocked turn longer than the lease is not served: it asks for a renewal, served again once answered", async () => {
    const session = fakeSession();
    const ownership = new KvOwnership("exclusive", "", LEASE);
    await ownership.acquire(session);
    expect(ownership.cacheable).toBe(true);
    const renewals = () => session.statements.filter((s) => s === "select 1" || s.includes("kv_owner_lease (id")).length;
    // The fence's end sent the first renewal, which records the owner; its answer grants the lease.
    expect(session.statements.filter((s) => s.includes("insert into kv_owner_lease"))).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ownership.leased()).toBe(true);
    expect(ownership.leased()).toBe(true);
    expect(renewals()).toBe(1); // within the first half: reads send nothing

    block(LEASE + 50); // longer than the lease: a resumed owner does not serve
    expect(ownership.leased()).toBe(false);
    expect(renewals()).toBe(2); // that read asked for a renewal (select 1 now: the row is written)
    expect(session.statements.at(-1)).toBe("select 1");
    await new Promise((resolve) => setImmediate(resolve));
    expect(ownership.leased()).toBe(true);

    ownership.lost();
    expect(ownership.leased()).toBe(false);
  });

  it("a stopping owner serves no more and renews nothing", async () => {
    const session = fakeSession();
    const ownership = new KvOwnership("exclusive", "", LEASE);
    await ownership.acquire(session);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ownership.leased()).toBe(true);
    await ownership.release();
    expect(session.statements.at(-1)).toContain("delete from kv_owner_lease");
    const sent = session.statements.length;
    block(LEASE + 50);
    expect(ownership.leased()).toBe(false);
    expect(session.statements.length).toBe(sent);
  });
});

describe("KvOwnership's renewals", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("come each half lease while the cache is read, stop once it goes unread, and start again at the next read", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const session = fakeSession();
    const ownership = new KvOwnership("exclusive", "", 1_000);
    await ownership.acquire(session);
    const renewals = () => session.statements.filter((s) => s === "select 1" || s.includes("kv_owner_lease (id")).length;
    await vi.advanceTimersByTimeAsync(0);
    expect(ownership.leased()).toBe(true);
    // Read every 100 ms for 5 s: a renewal each 500 ms, the lease never runs out.
    for (let t = 0; t < 50; t++) {
      await vi.advanceTimersByTimeAsync(100);
      expect(ownership.leased()).toBe(true);
    }
    expect(renewals()).toBeGreaterThanOrEqual(10);
    expect(renewals()).toBeLessThanOrEqual(12);
    // Unread: a few more renewals, then none.
    await vi.advanceTimersByTimeAsync(60_000);
    const stopped = renewals();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(renewals()).toBe(stopped);
    // The next read finds no lease (not served) and asks for one.
    expect(ownership.leased()).toBe(false);
    expect(renewals()).toBe(stopped + 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(ownership.leased()).toBe(true);
    await ownership.release();
  });
});
