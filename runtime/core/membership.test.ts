// Registration under a name another row holds: a row provably a dead process's (this host, pid gone;
// or any row on an embedded database) is taken over at once, another silent row is waited out, a
// heartbeating one (a running process) keeps its name. Real PGlite, real timers (heartbeats of 500 ms).
import { spawnSync } from "node:child_process";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { NodeStore } from "../store/nodes.js";
import { openDatabase } from "../store/open-db.js";
import { Bus } from "../store/bus.js";
import { Membership, type MembershipOptions } from "./membership.js";

const HEARTBEAT_MS = 500;

describe("a node registering under a name another row holds", () => {
  let db: Db;
  let bus: Bus;
  const started: Membership[] = [];
  const member = (id: string, options: Partial<MembershipOptions> = {}) => {
    const membership = new Membership({
      ...options,
      store: new NodeStore(db),
      bus,
      id,
      role: "node",
      version: "0.0.0",
      heartbeatMs: HEARTBEAT_MS,
      logger: silentLogger(),
      load: () => ({ requests: 0, errors: 0, p50Ms: null, p99Ms: null, inFlight: 0, eventsClaimed: 0 }),
    });
    started.push(membership);
    return membership;
  };

  beforeAll(async () => {
    db = await openDatabase({ pgliteLocation: "memory://" });
    bus = new Bus(db);
    await bus.start();
  });
  afterAll(async () => {
    for (const membership of started) await membership.stop();
    await bus?.stop();
    await db?.close();
  });

  it("waits for a silent row to count as down, then takes the name", async () => {
    const [crashed] = await db.query<{ seen: Date }>(
      `insert into nodes (id, name, url, role, version, status, heartbeat_ms, last_seen_at)
       values ('crashed', 'n1', 'http://x', 'node', '0.0.0', 'up', 1000, now()) returning last_seen_at as seen`,
    );
    await member("restarted").start("n1", "http://y");
    const taken = (await new NodeStore(db).list()).find((node) => node.name === "n1");
    expect(taken).toMatchObject({ url: "http://y", status: "up" });
    // Registered once the silent row counted as down (3 of its heartbeats of 1 s after its last), on the database's clock.
    expect(Date.parse(taken?.startedAt ?? "") - new Date(crashed?.seen ?? 0).getTime()).toBeGreaterThanOrEqual(3_000);
  });

  it("refuses a name a running (heartbeating) node has: NODE_NAME_TAKEN once its row beat again", async () => {
    // On another machine: nothing proves it dead, so the second waits and sees it beat.
    await member("running", { process: { host: "another-machine", pid: 4242 } }).start("n2", "http://a");
    await expect(member("second").start("n2", "http://b")).rejects.toMatchObject({ code: "NODE_NAME_TAKEN" });
    expect((await new NodeStore(db).list()).find((node) => node.name === "n2")).toMatchObject({ url: "http://a" });
  });

  it("takes over at once a live-looking row of this host whose process no longer runs", async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    await db.query(
      `insert into nodes (id, name, url, role, version, status, heartbeat_ms, host, pid)
       values ('crashed-here', 'n3', 'http://x', 'node', '0.0.0', 'up', 60000, $1, $2)`,
      [os.hostname(), dead],
    );
    const startedAt = Date.now();
    await member("restarted-here").start("n3", "http://y");
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect((await new NodeStore(db).list()).find((node) => node.name === "n3")).toMatchObject({ url: "http://y", status: "up" });
  });

  it("on a database that is its own (embedded), takes over any row at once", async () => {
    await db.query(
      `insert into nodes (id, name, url, role, version, status, heartbeat_ms, host, pid)
       values ('crashed-elsewhere', 'n4', 'http://x', 'node', '0.0.0', 'up', 60000, 'another-machine', 4242)`,
    );
    const startedAt = Date.now();
    await member("embedded", { exclusiveDatabase: true }).start("n4", "http://y");
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect((await new NodeStore(db).list()).find((node) => node.name === "n4")).toMatchObject({ url: "http://y", status: "up" });
  });
});
