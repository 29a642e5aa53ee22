// The cluster as a user runs it: one manager, three nodes and Caddy with the shipped Caddyfile, on
// one PostgreSQL, all real processes on loopback. Processes are shared between the cases, which run
// in order (each leaves the cluster as the next expects). A second part restarts a private
// PostgreSQL under a running manager and node.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../testing/databases.js";
import { type Proc, PrivatePostgres, startCaddy, startManager, startNode, stopProc } from "../testing/cluster.js";
import { until as pollUntil } from "../testing/until.js";

const TOKEN = "pc_cluster_test_token_0000000";
const HEARTBEAT_MS = 500;
const NODE_ENV = { PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_HEARTBEAT_MS: String(HEARTBEAT_MS), PICLOUD_EVENT_LEASE_MS: "2000" };

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, timeoutMs, 50);

async function api<T = unknown>(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  token = TOKEN,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

interface NodeView {
  name: string;
  status: string;
}
const nodeStatus = async (base: string, name: string) =>
  (await api<{ nodes: NodeView[] }>(base, "GET", "/nodes")).body.nodes.find((n) => n.name === name)?.status;

const percentile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;

describe("a cluster behind Caddy", () => {
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let manager: Proc;
  let nodes: Proc[];
  let caddy: Proc;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const started = Date.now();
    const db = await createPostgresDatabase();
    drop = db.drop;
    databaseUrl = db.url;
    manager = await startManager(databaseUrl, NODE_ENV);
    nodes = await Promise.all(["n1", "n2", "n3"].map((name) => startNode(databaseUrl, name, NODE_ENV)));
    caddy = await startCaddy(manager, nodes);
    timings.startMs = Date.now() - started;
  }, 180_000);

  afterAll(async () => {
    await Promise.all([caddy, ...(nodes ?? []), manager].filter(Boolean).map((p) => stopProc(p, "SIGKILL")));
    await drop?.();
    process.stdout.write(`cluster test timings: ${JSON.stringify(timings)}\n`);
  }, 60_000);

  it("a deploy through Caddy answers from at least two nodes, and reaches every node promptly", async () => {
    expect((await api(caddy.url, "POST", "/apps", { id: "demo", settings: { limits: { wallMs: 1000 } } })).status).toBe(201);
    expect((await api(caddy.url, "PUT", "/apps/demo/scripts/hi", { source: "export default () => ({ v: 0 })" })).status).toBe(201);
    await until("every node ready behind Caddy", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const response = await fetch(`${caddy.url}/demo/hi`);
        if (response.status === 200) seen.add(response.headers.get("x-picloud-node") ?? "");
      }
      return seen.size >= 2 ? seen : undefined;
    });
    // Propagation: a deploy through the manager, then how long until each node serves it.
    const delays: number[] = [];
    for (let v = 1; v <= 10; v++) {
      await api(caddy.url, "PUT", "/apps/demo/scripts/hi", { source: `export default () => ({ v: ${v} })` });
      const deployed = Date.now();
      await Promise.all(
        nodes.map(async (node) => {
          await until(
            `v${v} on ${node.name}`,
            async () => ((await (await fetch(`${node.url}/demo/hi`)).json()) as { v: number }).v === v || undefined,
            10_000,
          );
          delays.push(Date.now() - deployed);
        }),
      );
    }
    timings.deployPropagationP50Ms = percentile(delays, 0.5);
    timings.deployPropagationP99Ms = percentile(delays, 0.99);
    expect(timings.deployPropagationP99Ms).toBeLessThan(5_000);
  }, 120_000);

  let scheduleTrigger: string;
  it("starts a schedule every second (checked after the kills below)", async () => {
    expect(
      (
        await api(caddy.url, "PUT", "/apps/demo/scripts/tick", {
          source: "export default async (ctx) => { await kv.collection('ticks').set(ctx.event.scheduledAt, 1); }",
        })
      ).status,
    ).toBe(201);
    const created = await api<{ id: string }>(caddy.url, "POST", "/apps/demo/triggers", {
      kind: "schedule",
      script: "tick",
      cron: "* * * * * *",
    });
    expect(created.status).toBe(201);
    scheduleTrigger = created.body.id;
    timings.scheduleStartedAt = Date.now();
  });

  it("under load through Caddy, SIGKILL of a node: requests keep succeeding and it shows down", async () => {
    const stats = { ok: 0, errors: 0 };
    let running = true;
    const client = async () => {
      while (running) {
        try {
          const response = await fetch(`${caddy.url}/demo/hi`);
          await response.arrayBuffer();
          if (response.status === 200) stats.ok++;
          else stats.errors++;
        } catch {
          stats.errors++;
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await until("some load", async () => (stats.ok > 50 ? true : undefined));
    const victim = nodes[2] as Proc;
    victim.child.kill("SIGKILL");
    const killedAt = Date.now();
    await victim.exited;
    const down = await until("n3 down", async () => ((await nodeStatus(caddy.url, "n3")) === "down" ? true : undefined), 30_000);
    timings.downAfterMs = Date.now() - killedAt;
    const before = stats.ok;
    await until("more load after the kill", async () => (stats.ok > before + 50 ? true : undefined));
    running = false;
    await Promise.all(clients);
    timings.loadOk = stats.ok;
    timings.loadErrorsAfterSigkill = stats.errors;
    expect(down).toBe(true);
    // Three heartbeats plus the time a loaded machine takes to answer.
    expect(timings.downAfterMs).toBeLessThan(3 * HEARTBEAT_MS + 10_000);
    // Idempotent GETs are retried by Caddy on another node.
    expect(stats.errors).toBeLessThanOrEqual(2);
  }, 120_000);

  it("300 KV writes with a trigger, a node killed in the middle: every key handled, none lost", async () => {
    await api(caddy.url, "PUT", "/apps/demo/scripts/handle", {
      source:
        "export default async (ctx) => { await kv.collection('handled').set(ctx.event.key, ctx.attempt); await kv.collection('runs').set(ctx.event.key + '/' + ctx.eventId + '/' + ctx.attempt + '/' + Math.random(), 1); }",
    });
    expect((await api(caddy.url, "POST", "/apps/demo/triggers", { kind: "kv", script: "handle", collection: "inbox" })).status).toBe(201);
    const victim = nodes[1] as Proc;
    let killed = false;
    for (let i = 0; i < 300; i++) {
      const key = `k${String(i).padStart(3, "0")}`;
      const put = await api(caddy.url, "PUT", `/apps/demo/kv/inbox/${key}`, { value: i });
      expect(put.status).toBeLessThan(300);
      if (i === 150 && !killed) {
        victim.child.kill("SIGKILL");
        killed = true;
      }
    }
    const count = async (collection: string) => {
      let total = 0;
      let cursor: string | null = null;
      do {
        const page: { body: { items: unknown[]; cursor: string | null } } = await api(
          caddy.url,
          "GET",
          `/apps/demo/kv/${collection}?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        total += page.body.items.length;
        cursor = page.body.cursor;
      } while (cursor);
      return total;
    };
    const started = Date.now();
    // The handler writes 'handled' then 'runs': wait for both, so duplicates are counted, not in-flight runs.
    await until(
      "300 keys handled",
      async () => ((await count("handled")) === 300 && (await count("runs")) >= 300 ? true : undefined),
      90_000,
    );
    timings.triggerCatchUpMs = Date.now() - started;
    timings.triggerDuplicates = (await count("runs")) - 300;
    expect(await count("handled")).toBe(300);
  }, 180_000);

  it("a schedule every second across the nodes fired every tick exactly once", async () => {
    const elapsed = Date.now() - timings.scheduleStartedAt!;
    if (elapsed < 20_000) await new Promise((r) => setTimeout(r, 20_000 - elapsed));
    await api(caddy.url, "DELETE", `/triggers/${scheduleTrigger}`);
    // One event per tick: the handler's runs (events of script 'tick') match the distinct ticks.
    const read = async () => {
      const { body } = await api<{ events: { payload: { scheduledAt: string } }[] }>(
        caddy.url,
        "GET",
        "/events?app=demo&script=tick&limit=500",
      );
      const ticks = await api<{ items: { key: string }[] }>(caddy.url, "GET", "/apps/demo/kv/ticks?limit=1000");
      return {
        fired: body.events.map((e) => e.payload.scheduledAt),
        keys: ticks.body.items.map((i) => Date.parse(i.key)).sort((a, b) => a - b),
      };
    };
    const { fired, keys } = await until("every tick handled", async () => {
      const state = await read();
      return state.keys.length === state.fired.length ? state : undefined;
    });
    expect(new Set(fired).size).toBe(fired.length);
    expect(keys.length).toBeGreaterThanOrEqual(15);
    // Every second between the first and the last tick is there (nodes were killed meanwhile).
    for (let i = 1; i < keys.length; i++) expect((keys[i] as number) - (keys[i - 1] as number)).toBe(1000);
    timings.scheduleTicks = keys.length;
  }, 60_000);

  it("SIGTERM drains a node: the in-flight request finishes, nothing is lost, exit 0, deregistered", async () => {
    const extra = await startNode(databaseUrl, "n4", { ...NODE_ENV, PICLOUD_DRAIN_GRACE_MS: "300" });
    // Its own app: default limits (demo's 1 s wall time is tight for a cold node on a loaded machine).
    await api(caddy.url, "POST", "/apps", { id: "drain" });
    await api(caddy.url, "PUT", "/apps/drain/scripts/slow", {
      source: "export default async () => { await new Promise((r) => setTimeout(r, 600)); return { slow: true }; }",
    });
    await until("n4 up", async () => ((await nodeStatus(caddy.url, "n4")) === "up" ? true : undefined));
    const inFlight = fetch(`${extra.url}/drain/slow`);
    await new Promise((r) => setTimeout(r, 100));
    extra.child.kill("SIGTERM");
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ slow: true });
    expect(await extra.exited).toBe(0);
    expect(await nodeStatus(caddy.url, "n4")).toBeUndefined();
  }, 120_000);

  it("a token revoked through the manager is refused by the manager at once", async () => {
    const created = await api<{ id: string; token: string }>(caddy.url, "POST", "/tokens", { name: "temp" });
    expect((await api(caddy.url, "GET", "/apps", undefined, created.body.token)).status).toBe(200);
    expect((await api(caddy.url, "DELETE", `/tokens/${created.body.id}`)).status).toBe(204);
    expect((await api(caddy.url, "GET", "/apps", undefined, created.body.token)).status).toBe(401);
  });
});

describe.runIf(PrivatePostgres.available())("PostgreSQL restarted under a running manager and node", () => {
  let pg: PrivatePostgres;
  let manager: Proc;
  let node: Proc;

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    manager = await startManager(pg.url, NODE_ENV);
    node = await startNode(pg.url, "p1", NODE_ENV);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([node, manager].filter(Boolean).map((p) => stopProc(p, "SIGKILL")));
    pg?.destroy();
  }, 60_000);

  it("requests, KV writes, trigger delivery, schedules and deploys work again without restarting a process", async () => {
    await api(manager.url, "POST", "/apps", { id: "pg", settings: { limits: { wallMs: 1000 } } });
    await api(manager.url, "PUT", "/apps/pg/scripts/pure", { source: "export default () => ({ pure: 1 })" });
    await api(manager.url, "PUT", "/apps/pg/scripts/write", {
      source: "export default async (ctx) => { await kv.collection('inbox').set(ctx.request.query.k, 1); return { ok: true }; }",
    });
    await api(manager.url, "PUT", "/apps/pg/scripts/handle", {
      source: "export default async (ctx) => { await kv.collection('handled').set(ctx.event.key, 1); }",
    });
    await api(manager.url, "POST", "/apps/pg/triggers", { kind: "kv", script: "handle", collection: "inbox" });
    expect((await fetch(`${node.url}/pg/pure`)).status).toBe(200);
    expect((await fetch(`${node.url}/pg/write?k=before`)).status).toBe(200);

    pg.stop();
    // While the database is away: a cached script that touches no storage still answers; a KV
    // call fails with a coded 503; /readyz says why.
    expect((await fetch(`${node.url}/pg/pure`)).status).toBe(200);
    const failed = await fetch(`${node.url}/pg/write?k=during`);
    const failedBody = (await failed.json()) as { error: { code: string } };
    expect(failedBody.error.code).toBe("DATABASE_UNAVAILABLE");
    expect(failed.status).toBe(503);
    const notReady = await until("readyz 503", async () => {
      const r = await fetch(`${node.url}/readyz`);
      return r.status === 503 ? ((await r.json()) as { reason: string }) : undefined;
    });
    expect(notReady.reason).toMatch(/database|notifications/);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);

    pg.start();
    await until("node ready again", async () => ((await fetch(`${node.url}/readyz`)).status === 200 ? true : undefined));
    await until("manager ready again", async () => ((await fetch(`${manager.url}/readyz`)).status === 200 ? true : undefined));
    expect((await fetch(`${node.url}/pg/write?k=after`)).status).toBe(200);
    await until("trigger delivered after the restart", async () =>
      (await api(manager.url, "GET", "/apps/pg/kv/handled/after")).status === 200 ? true : undefined,
    );
    // A deploy after the restart reaches the node through the re-established LISTEN connection.
    await api(manager.url, "PUT", "/apps/pg/scripts/pure", { source: "export default () => ({ pure: 2 })" });
    await until(
      "deploy propagated after the restart",
      async () => (((await (await fetch(`${node.url}/pg/pure`)).json()) as { pure: number }).pure === 2 ? true : undefined),
      10_000,
    );
    // A schedule set up after the restart fires on the node.
    await api(manager.url, "PUT", "/apps/pg/scripts/tick", {
      source: "export default async (ctx) => { await kv.collection('ticks').set(ctx.event.scheduledAt, 1); }",
    });
    await api(manager.url, "POST", "/apps/pg/triggers", { kind: "schedule", script: "tick", cron: "* * * * * *" });
    await until("a schedule tick after the restart", async () =>
      (await api<{ items: unknown[] }>(manager.url, "GET", "/apps/pg/kv/ticks")).body.items.length > 0 ? true : undefined,
    );
    expect(node.child.exitCode).toBeNull();
    expect(manager.child.exitCode).toBeNull();
  }, 180_000);
});
