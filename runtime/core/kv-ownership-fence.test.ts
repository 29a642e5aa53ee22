// An owner's writes take the owner-writes key shared; a new owner waits them out before its cache
// serves. Real Postgres, real serves in this process (rev2's review found the write that committed late).
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { startRuntime, type Runtime } from "../main.js";
import { KV_OWNER_WRITES_KEY } from "../store/kv-ownership.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { postgresProcessOptions } from "../testing/runtime.js";
import { until } from "../testing/until.js";

const options = postgresProcessOptions;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function owningServe(): Promise<{ serve: Runtime; url: string }> {
  const database = await createPostgresDatabase("kvo2_fence");
  cleanups.push(() => database.drop());
  const serve = (await startRuntime(options(database.url))) as Runtime;
  cleanups.push(() => serve.close());
  expect(serve.core.kvOwnership?.state).toBe("owner");
  await serve.core.db.query("insert into apps (id) values ('shop')");
  return { serve, url: database.url };
}

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  cleanups.push(() => c.end());
  return c;
}

describe("the owner-writes key", () => {
  it("an owner's write refused the key (a next owner fences) fails DATABASE_OWNED and changes nothing", async () => {
    const { serve, url } = await owningServe();
    await serve.core.kv.set("shop", "c", "k", '"old"');
    const fence = await client(url);
    await fence.query("select pg_advisory_lock($1::bigint)", [KV_OWNER_WRITES_KEY]);
    await expect(serve.core.kv.set("shop", "c", "k", '"refused"')).rejects.toMatchObject({ code: "DATABASE_OWNED" });
    await expect(serve.core.kv.delete("shop", "c", "k")).rejects.toMatchObject({ code: "DATABASE_OWNED" });
    const stored = await fence.query<{ value: string }>("select value::text as value from kv where app_id = 'shop' and key = 'k'");
    expect(stored.rows[0]?.value).toBe('"old"');
    await fence.query("select pg_advisory_unlock($1::bigint)", [KV_OWNER_WRITES_KEY]);
    await serve.core.kv.set("shop", "c", "k", '"after"');
    expect(await serve.core.kv.get("shop", "c", "k")).toBe('"after"');
  });

  it("the previous owner's write in flight when its lock passes on commits only before the new owner's cache serves", async () => {
    const { serve: first, url } = await owningServe();
    await first.core.kv.set("shop", "c", "k", '"old"');
    // Another session holds the row lock on the key for a moment (any concurrent write of it does).
    const holder = await client(url);
    await holder.query("begin");
    await holder.query("select 1 from kv where app_id = 'shop' and key = 'k' for update");
    // The owner's write: sent as the owner's, waits for the row lock.
    const inFlight = first.core.kv.set("shop", "c", "k", '"fromFirst"').catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The first's lock connection: the one backend holding an advisory lock exclusively (both serves run
    // in this process, so their connections' names alike cannot tell them apart once the second connects).
    const sql = await client(url);
    const firstLock = await sql.query<{ pid: number }>(
      "select pid from pg_locks where locktype = 'advisory' and mode = 'ExclusiveLock' and granted and database = (select oid from pg_database where datname = current_database())",
    );
    expect(firstLock.rows).toHaveLength(1);
    // A second serve starts (it waits up to 2 s for the owner to leave) and the first's lock connection
    // drops while it waits for the key: the second takes the lock exclusively.
    const secondStarting = startRuntime(options(url));
    await until("the second serve to wait for the key", async () => {
      const waiting = await sql.query(
        "select 1 from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())",
      );
      return waiting.rows.length > 0 ? true : undefined;
    });
    await sql.query("select pg_terminate_backend($1)", [firstLock.rows[0]?.pid]);
    const second = (await secondStarting) as Runtime;
    cleanups.push(() => second.close());
    expect(second.core.kvOwnership?.state).toBe("owner");
    // The first's write is still in flight: the new owner's cache does not serve yet.
    expect(second.core.kvCacheStatus()).toEqual({ on: false, reason: "fencing" });
    expect(await second.core.kv.get("shop", "c", "k")).toBe('"old"');
    expect(await second.core.kv.get("shop", "c", "k")).toBe('"old"');
    await holder.query("commit"); // the first's write goes ahead
    const outcome = await inFlight;
    expect(outcome).toBe("update");
    const stored = (await sql.query<{ value: string }>("select value::text as value from kv where app_id = 'shop' and key = 'k'")).rows[0]
      ?.value;
    expect(stored).toBe('"fromFirst"');
    expect(await second.core.kv.get("shop", "c", "k")).toBe(stored);
    await until("the new owner's cache to serve", async () => (second.core.kvCacheStatus().on ? true : undefined));
    expect(await second.core.kv.get("shop", "c", "k")).toBe(stored);
    const hits = second.core.kvCache?.counts().hits ?? 0;
    expect(await second.core.kv.get("shop", "c", "k")).toBe(stored);
    expect(second.core.kvCache?.counts().hits).toBe(hits + 1);
  }, 60_000);
});
