// An owning serve beside processes of a release before the KV writers' lock (275c3b2): they take no
// lock, write unguarded and send no NOTIFY. Migration 012 makes such a release refuse to start on the
// database; one already running is registered in `nodes`, so a serve starting beside it does not own.
// Real Postgres, real serves; the old release is that commit of this repository, unpacked from git
// into a temp dir and its runtime bundle built there.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { startRuntime, type Runtime } from "../main.js";
import { KV_LOCK_KEY } from "../store/kv-ownership.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { postgresProcessOptions, TEST_SECRETS_KEY, TEST_TOKEN } from "../testing/runtime.js";
import { until } from "../testing/until.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The last commit before the KV writers' lock (275c3b2). */
const OLD_RELEASE = "1edbb09";
/** A shallow clone has no history to unpack the old release from. */
const shallow = execFileSync("git", ["rev-parse", "--is-shallow-repository"], { cwd: ROOT, encoding: "utf8" }).trim() === "true";
let OLD_TREE = "";
let oldDataDir = "";

beforeAll(() => {
  if (shallow) return;
  OLD_TREE = mkdtempSync(path.join(os.tmpdir(), "picloud-old-release-"));
  oldDataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-old-data-"));
  execFileSync("sh", ["-c", `git archive ${OLD_RELEASE} | tar -x -C "${OLD_TREE}"`], { cwd: ROOT });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(OLD_TREE, "node_modules"));
  execFileSync(process.execPath, ["scripts/build-runtime.mjs"], { cwd: OLD_TREE, stdio: "ignore" });
}, 120_000);

afterAll(() => {
  for (const dir of [OLD_TREE, oldDataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const options = postgresProcessOptions;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function database(): Promise<string> {
  const created = await createPostgresDatabase("kvo2_kv");
  cleanups.push(() => created.drop());
  return created.url;
}

async function serve(url: string): Promise<Runtime> {
  const runtime = (await startRuntime(options(url))) as Runtime;
  cleanups.push(() => runtime.close());
  return runtime;
}

function oldServe(url: string, port: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [`${OLD_TREE}/bin/picloud`, "serve"], {
    env: {
      ...process.env,
      PICLOUD_DATABASE_URL: url,
      PICLOUD_PORT: String(port),
      PICLOUD_HOST: "127.0.0.1",
      PICLOUD_ADMIN_TOKEN: TEST_TOKEN,
      PICLOUD_SECRETS_KEY: TEST_SECRETS_KEY,
      PICLOUD_DATA_DIR: oldDataDir,
      PICLOUD_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  return { child, output: () => output, exited };
}

describe("a serve beside processes that take no KV lock", () => {
  it("does not own the database while another live process is registered in nodes; owns it once that row is stale", async () => {
    const url = await database();
    const first = await serve(url);
    expect(first.core.kvOwnership?.state).toBe("owner");
    await first.close();
    // A process that writes without the lock, as an older release does: registered and heartbeating.
    const sql = await client(url);
    await sql.query(
      `insert into nodes (id, name, url, role, version, status, heartbeat_ms, last_seen_at)
       values ('old-1', 'old-1', 'http://x', 'node', '0.0.0', 'up', 5000, now())`,
    );
    const beside = await serve(url);
    expect(beside.core.kvOwnership?.state).toBe("shared");
    expect(beside.core.kvCacheStatus()).toEqual({ on: false, reason: "shared" });
    await beside.core.db.query("insert into apps (id) values ('shop')");
    await beside.core.kv.set("shop", "c", "k", '"old"');
    expect(await beside.core.kv.get("shop", "c", "k")).toBe('"old"');
    await sql.query("update kv set value = '\"new\"', version = nextval('kv_version') where app_id = 'shop' and key = 'k'");
    expect(await beside.core.kv.get("shop", "c", "k")).toBe('"new"');
    await beside.close();
    // The same row, stale (missed its heartbeats): a crashed process; the next serve owns.
    await sql.query("update nodes set last_seen_at = now() - interval '16 seconds' where id = 'old-1'");
    const alone = await serve(url);
    expect(alone.core.kvOwnership?.state).toBe("owner");
  }, 60_000);

  /** A migrated database and a client on it that registers rows in `nodes`, as other processes would. */
  async function withRows(): Promise<{ url: string; sql: pg.Client; row: (id: string, heartbeatMs: number) => Promise<unknown> }> {
    const url = await database();
    await (await serve(url)).close(); // migrated
    const sql = await client(url);
    const row = (id: string, heartbeatMs: number) =>
      sql.query(
        `insert into nodes (id, name, url, role, version, status, heartbeat_ms, last_seen_at)
         values ($1, $1, 'http://x', 'node', '0.0.0', 'up', $2, now())`,
        [id, heartbeatMs],
      );
    return { url, sql, row };
  }

  async function client(url: string): Promise<pg.Client> {
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    cleanups.push(() => sql.end());
    return sql;
  }

  /** A crashed process's row (down 6 s after its last heartbeat, which is now) and a serve started within that. */
  async function serveBesideCrashed(url: string, row: (id: string, heartbeatMs: number) => Promise<unknown>) {
    await row("crashed", 2_000);
    const insertedAt = Date.now();
    const runtime = await serve(url);
    expect(Date.now() - insertedAt, "the serve took longer to start than the row lives: nothing to test").toBeLessThan(5_000);
    expect(runtime.core.kvOwnership?.state).toBe("shared");
    return { runtime, insertedAt };
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

  it("shares beside a row that keeps heartbeating past its first expiry; owns once a row that stopped expires", async () => {
    const { url, sql, row } = await withRows();
    // A live process of an older release: it beats on (every 200 ms, counting as down 1.5 s after the
    // last), so its row never expires, however long the serve takes to start.
    await row("old-live", 500);
    const beating = setInterval(() => void sql.query("update nodes set last_seen_at = now() where id = 'old-live'"), 200);
    try {
      const beside = await serve(url);
      expect(beside.core.kvOwnership?.state).toBe("shared");
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(beside.core.kvOwnership?.state).toBe("shared");
      await beside.close();
    } finally {
      clearInterval(beating);
    }
    await sql.query("delete from nodes where id = 'old-live'");
    // A crashed process: its row beats no more and counts as down 6 s after its last heartbeat. The
    // serve starts shared within that, and owns once it expires, without a reconnect.
    const { runtime: alone, insertedAt } = await serveBesideCrashed(url, row);
    await until("the serve to own the database", async () => (alone.core.kvOwnership?.cacheable ? true : undefined), 10_000, 20);
    expect(Date.now() - insertedAt).toBeGreaterThan(5_500); // at the expiry, not before
    expect(alone.core.kvCacheStatus()).toEqual({ on: true, reason: "owner" });
    expect(alone.core.db.health().listening).toBe(true);
  }, 60_000);

  it("owns once the crashed row has expired even when a guarded write held the key then, asking again after it", async () => {
    const { url, row } = await withRows();
    const { runtime: alone, insertedAt } = await serveBesideCrashed(url, row);
    // A guarded write (the key shared for its transaction, as kv.ts takes it) from before the expiry
    // until 1.5 s after it: e.g. the serve's own write waiting on a row lock on a loaded machine.
    const writer = await client(url);
    await writer.query("begin");
    await writer.query(`select pg_advisory_xact_lock_shared(${KV_LOCK_KEY}::bigint)`);
    await sleep(insertedAt + 7_500 - Date.now());
    expect(alone.core.kvOwnership?.state).toBe("shared");
    await writer.query("commit");
    await until("the serve to own the database", async () => (alone.core.kvOwnership?.cacheable ? true : undefined), 10_000, 20);
    expect(alone.core.kvCacheStatus()).toEqual({ on: true, reason: "owner" });
  }, 60_000);

  it("stays shared when a process holds the key for its session at the crashed row's expiry, and asks no more", async () => {
    const { url, row } = await withRows();
    const { runtime: beside, insertedAt } = await serveBesideCrashed(url, row);
    // A process that joined (a node's LISTEN connection holds the key shared for its session), then left.
    const joined = await client(url);
    await joined.query(`select pg_advisory_lock_shared(${KV_LOCK_KEY}::bigint)`);
    await sleep(insertedAt + 7_500 - Date.now());
    expect(beside.core.kvOwnership?.state).toBe("shared");
    await joined.query(`select pg_advisory_unlock_shared(${KV_LOCK_KEY}::bigint)`);
    await sleep(3_000);
    expect(beside.core.kvOwnership?.state).toBe("shared"); // until its next reconnect, as at a start beside it
  }, 60_000);

  it.skipIf(shallow)(
    "a process of the release before the lock refuses to start on the migrated database (SCHEMA_TOO_NEW)",
    async () => {
      const url = await database();
      const owner = await serve(url);
      expect(owner.core.kvOwnership?.state).toBe("owner");
      const old = oldServe(url, 28_101);
      expect(await old.exited).not.toBe(0);
      expect(old.output()).toContain("SCHEMA_TOO_NEW");
    },
    60_000,
  );

  it.skipIf(shallow)(
    "a serve started beside a running process of the release before the lock reads that process's writes",
    async () => {
      const url = await database();
      const port = 28_102;
      const old = oldServe(url, port);
      const base = `http://127.0.0.1:${port}/api/v1`;
      const headers = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
      await until(
        "the old serve to answer",
        async () => ((await fetch(`${base}/apps`, { headers }).catch(() => undefined))?.ok ? true : undefined),
        30_000,
        100,
      );
      // The new serve migrates (the old one keeps running: it checked the schema at its start) and finds it registered.
      const current = await serve(url);
      expect(current.core.kvOwnership?.state).toBe("shared");
      await current.core.db.query("insert into apps (id) values ('shop')");
      await current.core.kv.set("shop", "c", "k", '"old"');
      expect(await current.core.kv.get("shop", "c", "k")).toBe('"old"');
      const put = await fetch(`${base}/apps/shop/kv/c/k`, { method: "PUT", headers, body: JSON.stringify({ value: "new" }) });
      expect(put.status).toBe(200);
      expect(await current.core.kv.get("shop", "c", "k")).toBe('"new"');
      expect(old.child.exitCode).toBe(null);
    },
    60_000,
  );
});
