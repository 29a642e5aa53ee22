// The owner's cache serves only under a lease, and a process that takes the lock after an owner lost it
// waits that lease out before it writes: no read is served from the cache after another process's write
// committed, even when the owner's event loop is blocked while its lock goes. And an owner's write commits
// only while kv_owner_lease names it, so an old owner's write sent after a new owner took the database over
// is refused, and the new owner's cache stays exact. Real Postgres.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "node:net";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startRuntime, type Runtime } from "../main.js";
import type { Row } from "../store/db.js";
import { KV_LEASE_MS, KV_LOCK_KEY, KvOwnership, type LockSession } from "../store/kv-ownership.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { postgresProcessOptions } from "../testing/runtime.js";
import { until } from "../testing/until.js";

const OWNERSHIP_MODULE = fileURLToPath(new URL("../store/kv-ownership.ts", import.meta.url));
const KV_MODULE = fileURLToPath(new URL("../store/kv.ts", import.meta.url));
const POSTGRES_MODULE = fileURLToPath(new URL("../store/postgres/index.ts", import.meta.url));
const MAIN_MODULE = fileURLToPath(new URL("../main.ts", import.meta.url));
const TESTING_MODULE = fileURLToPath(new URL("../testing/runtime.ts", import.meta.url));

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

/**
 * A `picloud serve` to come (another process, started before the owner's event loop is blocked): it
 * prints the port it listens on (loopback) and answers one JSON line per line. `take`: terminate the
 * owner's lock backend, start a real serve on the database (it takes the lock, waits out the lease,
 * fences, owns), then read the key until the read is served from its cache; `read`: read the key and
 * say whether the cache answered; `close`: stop. A module file, not `-e`: the runtime's worker threads
 * take the process's flags.
 */
const NEW_OWNER = `const net = await import("node:net");
const pg = (await import(${JSON.stringify(createRequire(import.meta.url).resolve("pg"))})).default;
const { startRuntime } = await import(${JSON.stringify(MAIN_MODULE)});
const { postgresProcessOptions } = await import(${JSON.stringify(TESTING_MODULE)});
const url = process.argv[2];
let serve;
const hits = () => serve.core.kvCache.counts().hits;
async function read(key) {
  const before = hits();
  const value = await serve.core.kv.get("shop", "c", key);
  return { value, hit: hits() === before + 1 };
}
async function handle(command) {
  if (command.op === "take") {
    const session = new pg.Client({ connectionString: url });
    await session.connect();
    await session.query("select pg_terminate_backend($1)", [command.pid]);
    await session.end();
    serve = await startRuntime(postgresProcessOptions(url));
    while (!serve.core.kvOwnership.cacheable) await new Promise((resolve) => setTimeout(resolve, 10));
    for (;;) {
      const answer = await read(command.key);
      if (answer.hit) return { ...answer, state: serve.core.kvOwnership.state };
    }
  }
  if (command.op === "read") return { ...(await read(command.key)), state: serve.core.kvOwnership.state };
  if (command.op === "close") {
    await serve?.close();
    setImmediate(() => process.exit(0));
    return {};
  }
}
const server = net.createServer((socket) => {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => {
    buffered += chunk;
    for (let end = buffered.indexOf("\\n"); end >= 0; end = buffered.indexOf("\\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      handle(JSON.parse(line)).then(
        (answer) => socket.write(JSON.stringify(answer) + "\\n"),
        (error) => socket.write(JSON.stringify({ error: String(error && error.stack || error) }) + "\\n"),
      );
    }
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));`;

/** Sends one command to the process above and prints its answer: run synchronously, it blocks this process's event loop throughout. */
const ASK = [
  "--input-type=module",
  "-e",
  `const net = await import("node:net");
const [port, command] = process.argv.slice(1);
const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(command + "\\n"));
let buffered = "";
socket.setEncoding("utf8");
socket.on("data", (chunk) => {
  buffered += chunk;
  if (buffered.includes("\\n")) {
    process.stdout.write(buffered.slice(0, buffered.indexOf("\\n")));
    socket.destroy();
  }
});`,
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

interface NewOwnerAnswer {
  value?: string | null;
  hit?: boolean;
  state?: string;
  error?: string;
}

/** Starts the process above and waits for its port; stopped after the test. */
async function newOwnerProcess(url: string): Promise<{ port: number; ask(command: object): Promise<NewOwnerAnswer> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-new-owner-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, "new-owner.mjs");
  writeFileSync(script, NEW_OWNER);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script, url], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = once(child, "exit");
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.includes("\n")) resolve(Number(stdout.trim()));
    });
    void exited.then(() => reject(new Error(`the new owner's process ended: ${stderr}`)));
  });
  const ask = async (command: object): Promise<NewOwnerAnswer> => {
    const socket = connect(port, "127.0.0.1");
    socket.setEncoding("utf8");
    socket.write(`${JSON.stringify(command)}\n`);
    let answer = "";
    for await (const chunk of socket) {
      answer += chunk as string;
      if (answer.includes("\n")) break;
    }
    socket.destroy();
    return JSON.parse(answer) as NewOwnerAnswer;
  };
  cleanups.push(async () => {
    if (child.exitCode === null) await ask({ op: "close" }).catch(() => child.kill());
    await exited;
  });
  const port = await listening;
  return { port, ask };
}

/** Asks the process above synchronously: nothing of this process runs until it has answered. */
function askBlocking(port: number, command: object): NewOwnerAnswer {
  return JSON.parse(
    execFileSync(process.execPath, [...ASK, String(port), JSON.stringify(command)], { encoding: "utf8", timeout: 60_000 }),
  ) as NewOwnerAnswer;
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

  it("an old owner's writes sent after another serve took the database over are refused, and the new owner's cache stays exact", async () => {
    const { serve, url, sql } = await owningServe();
    const { kv } = serve.core;
    await kv.set("shop", "c", "k", '"old"');
    await kv.set("shop", "c", "gone", '"kept"');
    const pid = await lockBackend(sql);
    const newOwner = await newOwnerProcess(url);

    // Blocks this process (the old owner) while the other terminates its lock backend, starts a serve that
    // takes the database over (waits out the lease, fences, records itself) and caches k.
    const took = askBlocking(newOwner.port, { op: "take", pid, key: "k" });
    expect(took).toEqual({ value: '"old"', hit: true, state: "owner" });
    // Same turn: the old owner has not heard that its lock went, and writes as the owner's.
    expect(serve.core.kvOwnership?.state).toBe("owner");
    const outcome = (write: Promise<unknown>) =>
      write.then(
        () => "written",
        (error: { code?: string }) => error.code,
      );
    const set = outcome(kv.set("shop", "c", "k", '"late"'));
    const removed = outcome(kv.delete("shop", "c", "gone"));
    // Queued behind the first set (one batch in flight): sent once it has ended.
    const queued = [outcome(kv.set("shop", "c", "q1", "1")), outcome(kv.set("shop", "c", "q2", "2"))];
    const outcomes = await Promise.all([set, removed, ...queued]);

    // The new owner's cache still serves, and serves what the database holds.
    const stored = (
      await sql.query<{ key: string; value: string }>("select key, value::text as value from kv where app_id = 'shop' order by key")
    ).rows;
    const read = await newOwner.ask({ op: "read", key: "k" });
    expect(read).toEqual({ value: stored.find((row) => row.key === "k")?.value, hit: true, state: "owner" });
    // Nothing of the old owner's committed: each write failed as a process's that does not own the database.
    expect(outcomes).toEqual(["DATABASE_OWNED", "DATABASE_OWNED", "DATABASE_OWNED", "DATABASE_OWNED"]);
    expect(stored).toEqual([
      { key: "gone", value: '"kept"' },
      { key: "k", value: '"old"' },
    ]);
    expect(serve.core.kvOwnership?.state).not.toBe("owner");
    expect((await sql.query<{ n: number }>("select count(*)::int as n from kv_owner_lease")).rows).toEqual([{ n: 1 }]);
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

/**
 * A lock connection that grants everything: every statement answers no rows, or `ok`; once `gone`,
 * every statement fails as on a terminated connection. `dropped`: what `drop` was given.
 */
function fakeSession(): LockSession & { statements: string[]; gone: boolean; dropped: unknown[] } {
  const statements: string[] = [];
  const session = {
    statements,
    gone: false,
    dropped: [] as unknown[],
    async query<R extends Row>(sql: string | { text: string }): Promise<R[]> {
      const text = typeof sql === "string" ? sql : sql.text;
      statements.push(text);
      if (session.gone) throw new Error("Connection terminated unexpectedly");
      return (text.includes("pg_try_advisory") ? [{ ok: true }] : []) as unknown as R[];
    },
    drop(error: unknown) {
      session.dropped.push(error);
    },
  };
  return session;
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
    const renewals = () => session.statements.filter((s) => s === "select 1").length;
    // Becoming the owner recorded it (before its first write as the owner's); the fence's end sent the
    // first renewal, whose answer grants the lease.
    expect(session.statements.filter((s) => s.includes("insert into kv_owner_lease"))).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ownership.leased()).toBe(true);
    expect(ownership.leased()).toBe(true);
    expect(renewals()).toBe(1); // within the first half: reads send nothing

    block(LEASE + 50); // longer than the lease: a resumed owner does not serve
    expect(ownership.leased()).toBe(false);
    expect(renewals()).toBe(2); // that read asked for a renewal
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

describe("KvOwnership's confirm (after a write of it was refused)", () => {
  it("records the owner again while its lock connection answers, once for writes refused together", async () => {
    const session = fakeSession();
    const ownership = new KvOwnership("exclusive", "", LEASE);
    await ownership.acquire(session);
    const records = () => session.statements.filter((s) => s.includes("insert into kv_owner_lease")).length;
    expect(records()).toBe(1); // becoming the owner recorded it, before any write as the owner's
    await Promise.all([ownership.confirm(), ownership.confirm(), ownership.confirm()]);
    expect(records()).toBe(2);
    expect(ownership.owner).toBe(true);
    expect(session.dropped).toEqual([]);
    await ownership.release();
  });

  it("ends the ownership before it resolves when the lock connection fails to answer, and gives the connection up", async () => {
    const session = fakeSession();
    const ownership = new KvOwnership("exclusive", "", LEASE);
    await ownership.acquire(session);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ownership.leased()).toBe(true);
    session.gone = true;
    await ownership.confirm();
    expect(ownership.state).toBe("lost");
    expect(ownership.owner).toBe(false);
    expect(ownership.leased()).toBe(false);
    expect(session.dropped).toHaveLength(1);
    await ownership.confirm(); // no longer the owner: nothing to confirm
    expect(session.dropped).toHaveLength(1);
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
    const renewals = () => session.statements.filter((s) => s === "select 1").length;
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
