// The KV read cache across real processes: a manager and a node on one Postgres, each with its own
// cache. A write through one process must reach the other's warm cache through the bus.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../testing/until.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { type Proc, startManager, startNode, stopProc } from "../testing/cluster.js";

const TOKEN = "pc_kv_cache_test_token_000000";
// On Postgres the cache is opt-in, on every process alike.
const ENV = { PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_KV_CACHE_MIB: "16" };

async function api(base: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

describe("KV read cache between a manager and a node on one Postgres", () => {
  let drop: () => Promise<void>;
  let sql: pg.Client;
  let manager: Proc;
  let node: Proc;

  /** What the node's script reads (through the node's cache). */
  const nodeReads = async () => ((await (await fetch(`${node.url}/shop/read`)).json()) as { v: unknown }).v;
  const nodeSees = (expected: unknown) =>
    until(`the node to read ${JSON.stringify(expected)}`, async () => ((await nodeReads()) === expected ? true : undefined));

  beforeAll(async () => {
    const db = await createPostgresDatabase();
    drop = db.drop;
    manager = await startManager(db.url, ENV);
    node = await startNode(db.url, "n1", ENV);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    expect((await api(manager.url, "POST", "/apps", { id: "shop" })).status).toBe(201);
    const scripts = {
      read: "export default async function () { return { v: await kv.collection('c').get('k') } }",
      write: "export default async function (ctx) { await kv.collection('c').set('k', Number(ctx.request.query.v)); return { ok: true } }",
    };
    for (const [name, source] of Object.entries(scripts)) {
      expect((await api(manager.url, "PUT", `/apps/shop/scripts/${name}`, { source })).status).toBe(201);
    }
    await until("the node to serve the scripts", async () => ((await fetch(`${node.url}/shop/read`)).status === 200 ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    await sql?.end();
    await Promise.all([node, manager].filter(Boolean).map((p) => stopProc(p, "SIGKILL")));
    await drop?.();
  }, 60_000);

  it("the node serves a warm value from its cache, and a write through the manager replaces it", async () => {
    expect((await api(manager.url, "PUT", "/apps/shop/kv/c/k", { value: 1 })).status).toBe(200);
    await nodeSees(1);
    // Let every notification of that write arrive, then read once more: the node now holds 1.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await nodeReads()).toBe(1);
    // A change behind PiCloud's back (no notification) stays unseen: proof the node answers from memory.
    await sql.query("update kv set value = '99' where app_id = 'shop' and key = 'k'");
    expect(await nodeReads()).toBe(1);
    expect(await nodeReads()).toBe(1);

    expect((await api(manager.url, "PUT", "/apps/shop/kv/c/k", { value: 2 })).status).toBe(200);
    await nodeSees(2);
    expect((await api(manager.url, "DELETE", "/apps/shop/kv/c/k")).status).toBe(204);
    await nodeSees(null);
  });

  it("a script's write on the node reaches the manager's warm cache", async () => {
    expect((await api(manager.url, "PUT", "/apps/shop/kv/c/k", { value: 5 })).status).toBe(200);
    expect((await api(manager.url, "GET", "/apps/shop/kv/c/k")).body).toEqual({ key: "k", value: 5 });
    expect((await fetch(`${node.url}/shop/write?v=6`)).status).toBe(200);
    await until("the manager to read 6", async () => {
      const { body } = await api(manager.url, "GET", "/apps/shop/kv/c/k");
      return (body as { value?: unknown }).value === 6 ? true : undefined;
    });
    // And the node, which wrote it, reads its own write at once.
    expect(await nodeReads()).toBe(6);
  });
});
