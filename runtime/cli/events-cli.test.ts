// Events across real processes: the trigger/dead-letter CLI, SIGKILL right after a write, and two
// runtime processes sharing one Postgres.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../testing/databases.js";
import { PICLOUD_BIN, runCli, type ServeProcess, startServe } from "../testing/processes.js";
import { until as pollUntil } from "../testing/until.js";
import { PiCloudApi } from "../client/api-client.js";

const TOKEN = "pc_events_cli_test_token_000";
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "picloud-events-"));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function script(name: string, body: string): string {
  const file = path.join(workDir, `${name}.js`);
  writeFileSync(file, `export default async function (ctx) {\n${body}\n}`);
  return file;
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  pollUntil(what, probe, timeoutMs, 100);

const api = <T>(base: string, method: string, route: string, body?: unknown): Promise<T> =>
  new PiCloudApi({ url: base, token: TOKEN }).requestUntyped<T>(method, route, body);

async function stop(server: ServeProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (server.child.exitCode === null) server.child.kill(signal);
  await server.exited;
}

describe("triggers, dead letters and events from the CLI", () => {
  let server: ServeProcess;
  let env: Record<string, string>;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-events-cli-"));

  beforeAll(async () => {
    server = await startServe(["--data-dir", dataDir], { PICLOUD_ADMIN_TOKEN: TOKEN });
    env = { PICLOUD_URL: server.url, PICLOUD_TOKEN: TOKEN };
  }, 60_000);
  afterAll(async () => {
    await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("adds, lists and removes triggers; a failing handler's dead letter is shown, replayed after a fix, and deleted", async () => {
    await runCli(["apps", "create", "shop"], env);
    await runCli(
      [
        "deploy",
        script(
          "ship",
          "if (!ctx.event.value.address) throw new Error('no address'); await kv.collection('shipped').set(ctx.event.key, true);",
        ),
        "--app",
        "shop",
      ],
      env,
    );
    const added = await runCli(
      [
        "triggers",
        "add",
        "--app",
        "shop",
        "--script",
        "ship",
        "--kv",
        "orders",
        "--ops",
        "insert,update",
        "--max-attempts",
        "2",
        "--backoff",
        "50",
        "--json",
      ],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    const trigger = JSON.parse(added.stdout);
    expect(trigger).toMatchObject({ kind: "kv", collection: "orders", ops: ["insert", "update"], maxAttempts: 2, backoffMs: 50 });
    const cron = await runCli(["triggers", "add", "--app", "shop", "--script", "ship", "--cron", "0 3 * * *", "--tz", "Europe/Paris"], env);
    expect(cron.stdout).toContain('cron "0 3 * * *" Europe/Paris');
    expect((await runCli(["triggers", "add", "--app", "shop", "--script", "ship", "--dead-letter", "--json"], env)).code).toBe(0);
    const listed = JSON.parse((await runCli(["triggers", "list", "--app", "shop", "--json"], env)).stdout);
    expect(listed.map((t: { kind: string }) => t.kind).sort()).toEqual(["dead_letter", "kv", "schedule"]);
    const both = await runCli(["triggers", "add", "--app", "shop", "--script", "ship", "--kv", "x", "--cron", "* * * * *"], env);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("exactly one of");
    const badCron = await runCli(["triggers", "add", "--app", "shop", "--script", "ship", "--cron", "61 * * * *"], env);
    expect(badCron.stderr).toContain("TRIGGER_INVALID");
    // Only the KV trigger should feed the failing flow below.
    for (const t of listed.filter((t: { kind: string }) => t.kind !== "kv"))
      expect((await runCli(["triggers", "remove", t.id], env)).code).toBe(0);

    await runCli(["kv", "set", "orders", "o1", '{"address": null}', "--app", "shop"], env);
    const letters = await until("a dead letter", async () => {
      const list = JSON.parse((await runCli(["deadletters", "list", "--app", "shop", "--json"], env)).stdout);
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]).toMatchObject({ script: "ship", event: { type: "kv", op: "insert", key: "o1" } });
    expect(letters[0].attempts).toHaveLength(2);
    const shown = await runCli(["deadletters", "show", letters[0].id], env);
    expect(shown.stdout).toContain("attempt 2");
    expect(shown.stdout).toContain("Error: no address");
    const events = JSON.parse((await runCli(["events", "list", "--app", "shop", "--json"], env)).stdout);
    expect(events[0]).toMatchObject({ status: "dead", attempts: 2 });

    await runCli(["deploy", script("ship", "await kv.collection('shipped').set(ctx.event.key, 'fixed');"), "--app", "shop"], env);
    const replayed = await runCli(["deadletters", "replay", letters[0].id], env);
    expect(replayed.code, replayed.stderr).toBe(0);
    await until("the replayed event", async () => {
      const got = await runCli(["kv", "get", "shipped", "o1", "--app", "shop"], env);
      return got.code === 0 ? got : undefined;
    });
    expect(JSON.parse((await runCli(["kv", "get", "shipped", "o1", "--app", "shop"], env)).stdout)).toBe("fixed");
    expect(JSON.parse((await runCli(["deadletters", "list", "--app", "shop", "--json"], env)).stdout)).toEqual([]);
    const missing = await runCli(["deadletters", "delete", "0".repeat(32)], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("DEAD_LETTER_NOT_FOUND");
    // One line on stderr says what was missed (cli.md), not a second one on stdout.
    expect(missing.stdout).toBe("");
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    // Not a record id at all: refused as such (http-api.md), not looked up.
    const malformed = await runCli(["deadletters", "delete", "nope"], env);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain("VALIDATION_FAILED");
  }, 120_000);

  it("events tail streams events and invocations as they happen", async () => {
    const tail = spawn(process.execPath, [PICLOUD_BIN, "events", "tail", "--app", "shop", "--json"], { env: { ...process.env, ...env } });
    let out = "";
    tail.stdout.on("data", (chunk) => (out += chunk));
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      await runCli(["kv", "set", "orders", "o2", '{"address": "x"}', "--app", "shop"], env);
      await until("streamed lines", async () =>
        out.includes('"type":"invocation"') && out.includes('"status":"done"') ? true : undefined,
      );
      const lines = out
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(lines).toContainEqual(expect.objectContaining({ type: "event", script: "ship", kind: "kv", status: "done" }));
      expect(lines).toContainEqual(
        expect.objectContaining({ type: "invocation", app: "shop", script: "ship", trigger: "kv", status: "ok" }),
      );
    } finally {
      tail.kill();
    }
  });
});

describe("durability", () => {
  it("a KV write's event is delivered after a SIGKILL right after the write", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-kill-events-"));
    try {
      const first = await startServe(["--data-dir", dir], { PICLOUD_ADMIN_TOKEN: TOKEN });
      await api(first.url, "POST", "/apps", { id: "durable" });
      // A handler that needs a while, so the kill lands before it can finish.
      await api(first.url, "PUT", "/apps/durable/scripts/slow", {
        source:
          "export default async function (ctx) { const end = Date.now() + 500; while (Date.now() < end) {} await kv.collection('handled').set(ctx.event.key, ctx.attempt); }",
      });
      await api(first.url, "POST", "/apps/durable/triggers", { kind: "kv", script: "slow", collection: "inbox" });
      await api(first.url, "PUT", "/apps/durable/kv/inbox/k1", { value: 1 });
      first.child.kill("SIGKILL");
      await first.exited;
      const second = await startServe(["--data-dir", dir], { PICLOUD_ADMIN_TOKEN: TOKEN });
      try {
        const handled = await until("delivery after restart", async () => {
          const response = await fetch(`${second.url}/api/v1/apps/durable/kv/handled/k1`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return response.ok ? ((await response.json()) as { value: number }).value : undefined;
        });
        expect(handled).toBeGreaterThanOrEqual(1);
        // The handler's write lands before the event is marked done: wait for that too.
        const statuses = await until("event done", async () => {
          const { events } = await api<{ events: { status: string }[] }>(second.url, "GET", "/events?app=durable");
          return events.every((e) => e.status !== "running" && e.status !== "pending") ? events.map((e) => e.status) : undefined;
        });
        expect(statuses).toEqual(["done"]);
      } finally {
        await stop(second);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("two runtime processes on one Postgres", () => {
  it("deliver every event exactly once between them, and retry a dead node's event after its lease expires", async () => {
    const database = await createPostgresDatabase();
    // Without the KV read cache a `serve` takes the database's KV lock shared, so two can share it.
    const envFor = { PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_EVENT_LEASE_MS: "3000", PICLOUD_KV_CACHE_MIB: "0" };
    const a = await startServe(["--database-url", database.url], envFor);
    const b = await startServe(["--database-url", database.url], envFor);
    try {
      await api(a.url, "POST", "/apps", { id: "cluster" });
      await api(a.url, "PUT", "/apps/cluster/scripts/work", {
        source:
          "export default async function (ctx) { const end = Date.now() + 5; while (Date.now() < end) {} await kv.collection('done').set(ctx.event.key, ctx.attempt); }",
      });
      await api(a.url, "POST", "/apps/cluster/triggers", { kind: "kv", script: "work", collection: "jobs" });
      // Node B learns about the new trigger through NOTIFY; its writes must produce events too.
      const total = 200;
      for (let i = 0; i < total; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, (_, j) =>
            api(i % 40 === 0 ? a.url : b.url, "PUT", `/apps/cluster/kv/jobs/job-${i + j}`, { value: i + j }),
          ),
        );
      }
      await until("all events done", async () => {
        const { counts } = await api<{ counts: Record<string, number> }>(a.url, "GET", "/events?app=cluster&limit=1");
        return counts.done === total ? true : undefined;
      });
      const { events } = await api<{ events: { id: string; attempts: number; leaseOwner: string }[] }>(
        a.url,
        "GET",
        "/events?app=cluster&limit=500",
      );
      expect(events).toHaveLength(total);
      expect(events.every((e) => e.attempts === 1)).toBe(true);
      expect(new Set(events.map((e) => e.leaseOwner)).size).toBe(2);
      // Each process writes its own records once a second (invocation-recorder.ts): the other one's
      // runs are visible within about that long.
      const recorded = (base: string) =>
        pollUntil(
          `every run's record, from ${base}`,
          async () => {
            const { invocations } = await api<{ invocations: { eventId: string }[] }>(
              base,
              "GET",
              "/invocations?app=cluster&trigger=kv&limit=500",
            );
            return invocations.length >= total ? invocations : undefined;
          },
          15_000,
          200,
        );
      const invocations = await recorded(a.url);
      const fromB = await recorded(b.url);
      expect(invocations).toHaveLength(total);
      expect(new Set(invocations.map((i) => i.eventId)).size).toBe(total);
      expect(fromB).toHaveLength(total);

      // A node dies holding an event: the other one retries it once the lease has expired.
      await api(a.url, "PUT", "/apps/cluster/scripts/work", {
        source:
          "export default async function (ctx) { if (ctx.attempt === 1) { const end = Date.now() + 10000; while (Date.now() < end) {} } await kv.collection('survived').set(ctx.event.key, ctx.attempt); }",
      });
      await api(a.url, "PATCH", "/apps/cluster", { settings: { limits: { cpuMs: 20_000, wallMs: 20_000 } } });
      await api(a.url, "PUT", "/apps/cluster/kv/jobs/orphan", { value: 1 });
      const holder = await until("the event to be claimed", async () => {
        const { events: running } = await api<{ events: { leaseOwner: string }[] }>(a.url, "GET", "/events?app=cluster&status=running");
        return running[0]?.leaseOwner;
      });
      const [dead, alive] = holder.includes(String(a.child.pid)) ? [a, b] : [b, a];
      dead.child.kill("SIGKILL");
      await dead.exited;
      const attempt = await until(
        "the retry on the surviving node",
        async () => {
          const response = await fetch(`${alive.url}/api/v1/apps/cluster/kv/survived/orphan`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return response.ok ? ((await response.json()) as { value: number }).value : undefined;
        },
        45_000,
      );
      expect(attempt).toBe(2);
    } finally {
      await stop(a, "SIGKILL");
      await stop(b, "SIGKILL");
      await database.drop();
    }
  }, 120_000);
});
