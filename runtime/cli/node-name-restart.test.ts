// A process restarted at once after a crash (a supervisor's Restart=on-failure) keeps its node name:
// its dead predecessor's row still looks live, but it is provably dead (the embedded database is
// this process's alone; on Postgres, same kernel boot and pid namespace and that pid no longer runs), so the new process
// takes it over instead of failing NODE_NAME_TAKEN. A row it cannot prove dead is waited out; a
// real second process with the name still gets NODE_NAME_TAKEN. Real processes, real databases.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startNode, stopProc } from "../testing/cluster.js";
import { openDatabase } from "../store/open-db.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { type ServeProcess, startServe } from "../testing/processes.js";
import { TEST_SECRETS_KEY, TEST_TOKEN } from "../testing/runtime.js";

/** A heartbeat so long that a crashed process's row stays live for 3 minutes: only a takeover can start within the test. */
const LONG_HEARTBEAT = { PICLOUD_HEARTBEAT_MS: "60000" };
const SERVE_ENV = { PICLOUD_ADMIN_TOKEN: TEST_TOKEN, PICLOUD_SECRETS_KEY: TEST_SECRETS_KEY, PICLOUD_EXECUTOR_WORKERS: "1" };

const crash = async (process: { child: ServeProcess["child"]; exited: Promise<number | null> }) => {
  process.child.kill("SIGKILL");
  await process.exited;
};

const nodeNames = async (url: string) =>
  (
    (await (await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).json()) as {
      nodes: { name: string; status: string }[];
    }
  ).nodes;

describe("a process restarted at once after a crash keeps its node name", () => {
  const dirs: string[] = [];
  const started: { child: ServeProcess["child"]; exited: Promise<number | null> }[] = [];
  let database: { url: string; drop: () => Promise<void> };

  const dataDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-name-restart-"));
    dirs.push(dir);
    return dir;
  };
  const serve = async (args: string[], env: Record<string, string>) => {
    const process = await startServe(args, { ...SERVE_ENV, ...env });
    started.push(process);
    return process;
  };
  const node = async (name: string, env: Record<string, string>) => {
    const process = await startNode(database.url, name, { PICLOUD_ADMIN_TOKEN: TEST_TOKEN, ...env });
    started.push(process);
    return process;
  };

  /** A live-looking row of a process on 'another-machine' (which no process here can prove dead). */
  const insertOtherHostRow = async (row: { id: string; name: string; heartbeatMs: number; pid: number }) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(
        `insert into nodes (id, name, url, role, version, status, heartbeat_ms, host, pid)
         values ($1, $2, 'http://10.9.9.9:8788', 'node', '0', 'up', $3, 'another-machine', $4)`,
        [row.id, row.name, row.heartbeatMs, row.pid],
      );
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Migrated here: a node waits for a manager to do it, and each test may run alone.
    await (await openDatabase({ databaseUrl: database.url, pgliteLocation: "" })).close();
  });
  afterAll(async () => {
    for (const process of started) await stopProc(process as Proc, "SIGKILL");
    await database?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("serve on the embedded database: the data-directory lock proves the old row dead", async () => {
    const dir = dataDir();
    const env = { ...LONG_HEARTBEAT, PICLOUD_NODE_NAME: "crashy" };
    await crash(await serve(["--data-dir", dir], env));
    const again = await serve(["--data-dir", dir], env);
    expect(await nodeNames(again.url)).toEqual([expect.objectContaining({ name: "crashy", status: "up" })]);
  }, 120_000);

  it("serve on the embedded database: a crashed serve under another name is listed down at once, not up until it expires", async () => {
    const dir = dataDir();
    await crash(await serve(["--data-dir", dir], { ...LONG_HEARTBEAT, PICLOUD_NODE_NAME: "gone" }));
    const next = await serve(["--data-dir", dir], { ...LONG_HEARTBEAT, PICLOUD_NODE_NAME: "next" });
    expect(await nodeNames(next.url)).toEqual([
      expect.objectContaining({ name: "gone", status: "down" }),
      expect.objectContaining({ name: "next", status: "up" }),
    ]);
  }, 120_000);

  it("serve on Postgres: a crashed process of this pid namespace under another name is listed down at once; one elsewhere is not judged", async () => {
    await insertOtherHostRow({ id: "far-1", name: "far-away", heartbeatMs: 60_000, pid: 4243 });
    const args = () => ["--database-url", database.url, "--data-dir", dataDir()];
    await crash(await serve(args(), { ...LONG_HEARTBEAT, PICLOUD_NODE_NAME: "pg-gone" }));
    const next = await serve(args(), { ...LONG_HEARTBEAT, PICLOUD_NODE_NAME: "pg-next" });
    const status = Object.fromEntries((await nodeNames(next.url)).map((n) => [n.name, n.status]));
    expect(status).toMatchObject({ "pg-gone": "down", "pg-next": "up", "far-away": "up" });
    await crash(next);
  }, 120_000);

  it("serve on Postgres: same boot and pid namespace, pid gone", async () => {
    const env = { ...LONG_HEARTBEAT, PICLOUD_NODE_NAME: "crashy-serve" };
    const args = ["--database-url", database.url, "--data-dir", dataDir()];
    await crash(await serve(args, env));
    const again = await serve(args, env);
    // One row under the name (the database is shared with the other tests' processes).
    expect((await nodeNames(again.url)).filter((n) => n.name === "crashy-serve")).toEqual([
      expect.objectContaining({ name: "crashy-serve", status: "up" }),
    ]);
    await crash(again);
  }, 120_000);

  it("node on Postgres: restarts at once; a real second live process with the name still gets NODE_NAME_TAKEN", async () => {
    // A short heartbeat: the live holder below beats within a second, so the refusal is quick.
    const env = { PICLOUD_HEARTBEAT_MS: "1000" };
    await crash(await node("crashy-node", { ...LONG_HEARTBEAT }));
    const again = await node("crashy-node", env);
    expect(again.name).toBe("crashy-node");
    const refusedAt = Date.now();
    await expect(node("crashy-node", env)).rejects.toThrow(
      /exited with 1: [\s\S]*A running node is already named 'crashy-node' \(pid \d+ on [^)]+\): pick another --name\. \(NODE_NAME_TAKEN\)/,
    );
    expect(Date.now() - refusedAt).toBeLessThan(30_000);
    await crash(again);
  }, 120_000);

  it("a live-looking row it cannot prove dead (another host) is waited out, then the name is taken", async () => {
    await insertOtherHostRow({ id: "elsewhere-1", name: "shared-name", heartbeatMs: 5_000, pid: 4242 });
    const insertedAt = Date.now();
    const waited = await node("shared-name", { PICLOUD_HEARTBEAT_MS: "1000" });
    // Not before the row's expiry (3 missed beats of 5 s: longer than a start takes), and it said why it waited.
    expect(Date.now() - insertedAt).toBeGreaterThanOrEqual(14_000);
    expect(waited.output()).toMatch(/the node name 'shared-name' is held by pid 4242 on another-machine, which may have crashed: waiting/);
    await crash(waited);
  }, 120_000);
});
