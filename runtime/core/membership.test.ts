// Registration under a name another row holds: a row provably a dead process's (this kernel boot and
// pid namespace, pid gone; or any row on an embedded database) is taken over at once, another silent
// row is waited out, a heartbeating one (a running process) keeps its name; rows of another kernel or
// pid namespace under the same host name are never judged. Real PGlite, real timers.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { NodeStore } from "../store/nodes.js";
import { openDatabase } from "../store/open-db.js";
import { Bus } from "../store/bus.js";
import { Membership, type MembershipOptions } from "./membership.js";
import { recordedHost, thisProcess } from "./process-identity.js";

/**
 * A fresh in-memory database for the enclosing describe block and a factory of memberships on it,
 * each beating every `heartbeatMs`; all stopped after the block.
 */
function membershipsOn(heartbeatMs: number) {
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
      heartbeatMs,
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
  return { member, db: () => db };
}

describe("a node registering under a name another row holds", () => {
  const { member, db: database } = membershipsOn(500);
  let db: Db;
  beforeAll(() => {
    db = database();
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

  it("takes over at once a live-looking row of this pid namespace whose process no longer runs", async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    await db.query(
      `insert into nodes (id, name, url, role, version, status, heartbeat_ms, host, pid)
       values ('crashed-here', 'n3', 'http://x', 'node', '0.0.0', 'up', 60000, $1, $2)`,
      [recordedHost(thisProcess()), dead],
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

// Review of 4d83038: marking rows down at start (and taking a name over) trusted (host name, pid) as a
// process's identity. Containers sharing a host name (host networking) have separate pid namespaces,
// each with its own pid 1; machines sharing one (Raspberry Pi OS's default 'raspberrypi') run separate
// kernels. Now only a row of our kernel boot and pid namespace is judged (process-identity.ts).

/** A container on host 'docker-host' (host networking): one kernel, its own pid namespace. */
const container = (namespace: string, pid: number) => ({
  host: "docker-host",
  pid,
  bootId: "boot-of-docker-host",
  pidNamespace: namespace,
});

describe("marking provably dead rows down at start", () => {
  const { member, db: database } = membershipsOn(2_000);
  let db: Db;
  beforeAll(() => {
    db = database();
  });
  const statusOf = async (name: string) => (await new NodeStore(db).list()).find((node) => node.name === name)?.status;

  it("never marks down a process that is heartbeating (a container on the same hostname, its own pid namespace)", async () => {
    // Both containers run picloud as pid 1 of their own namespace, hostname of the host (network_mode: host).
    await member("live-b", { process: container("4026532001", 1) }).start("node-b", "http://b");
    await member("new-c", { process: container("4026532002", 1) }).start("node-c", "http://c");
    expect(await statusOf("node-b"), "a live, heartbeating process was listed down").toBe("up");
  });

  it("two live processes never share a name, even after a false mark", async () => {
    await member("live-e", { process: container("4026532003", 999_999) }).start("node-e", "http://e");
    await member("new-f", { process: container("4026532004", 1) }).start("node-f", "http://f");
    // A process on another machine asks for node-e's name within node-e's heartbeat period.
    await expect(member("other-machine", { process: { host: "elsewhere", pid: 77 } }).start("node-e", "http://g")).rejects.toMatchObject({
      code: "NODE_NAME_TAKEN",
    });
  });

  it("two machines with the same hostname (Raspberry Pi OS's default 'raspberrypi') never share a node name", async () => {
    // The default node name is hostname-port, so two Pis on the default hostname and port ask for the same name.
    // Both in their kernel's root pid namespace, whose inode is the same on every Linux machine.
    const pi = (bootId: string, pid: number) => ({ host: "raspberrypi", pid, bootId, pidNamespace: "4026531836" });
    await member("pi-1", { process: pi("boot-of-pi-1", 999_998) }).start("raspberrypi-8788", "http://10.0.0.11:8788");
    await expect(
      member("pi-2", { process: pi("boot-of-pi-2", 812) }).start("raspberrypi-8788", "http://10.0.0.12:8788"),
    ).rejects.toMatchObject({
      code: "NODE_NAME_TAKEN",
    });
  });

  it("marks down the rows of its own pid namespace whose process is gone or that hold its own pid, not those of another boot", async () => {
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    // Crashed processes' rows, still live-looking; one of another boot of the same host (not provably this machine's).
    for (const [name, pid, identity] of [
      ["node-h", gone, container("4026532005", gone)],
      ["node-i", 1, container("4026532005", 1)],
      ["node-k", 1, { ...container("4026532005", 1), bootId: "an-earlier-boot" }],
    ] as const) {
      await db.query(
        `insert into nodes (id, name, url, role, version, status, heartbeat_ms, host, pid)
         values ($1, $1, 'http://x', 'node', '0.0.0', 'up', 60000, $2, $3)`,
        [name, recordedHost(identity), pid],
      );
    }
    await member("restarted-j", { process: container("4026532005", 1) }).start("node-j", "http://j");
    expect([await statusOf("node-h"), await statusOf("node-i"), await statusOf("node-j"), await statusOf("node-k")]).toEqual([
      "down",
      "down",
      "up",
      "up",
    ]);
  });
});
