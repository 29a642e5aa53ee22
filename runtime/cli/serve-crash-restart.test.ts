// A `serve` on Postgres restarted at once after a crash: its dead predecessor's row in `nodes` looks
// live until it misses its heartbeats, so the new serve starts sharing the database, cache off. When
// that row expires it takes the database for itself (store/kv-ownership.ts), without a reconnect.
// Restarted on the same port (so the same node name), it takes that row over at once (same boot and
// pid namespace, pid gone), instead of failing NODE_NAME_TAKEN. Real processes, real Postgres; a short heartbeat keeps the wait short.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../testing/cluster.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { type ServeProcess, startServe } from "../testing/processes.js";
import { TEST_SECRETS_KEY, TEST_TOKEN } from "../testing/runtime.js";
import { until } from "../testing/until.js";

/** A row counts as down 3 heartbeats after its last: 12 s here, longer than a serve takes to start on a loaded machine (~5 s from sources). */
const HEARTBEAT_MS = 4_000;

describe("a serve restarted at once after another's crash", () => {
  let database: { url: string; drop: () => Promise<void> };
  let dataDir: string;
  const started: ServeProcess[] = [];

  const serve = async (args: string[] = []) => {
    const process = await startServe(["--database-url", database.url, "--data-dir", dataDir, ...args], {
      PICLOUD_ADMIN_TOKEN: TEST_TOKEN,
      PICLOUD_SECRETS_KEY: TEST_SECRETS_KEY,
      PICLOUD_HEARTBEAT_MS: String(HEARTBEAT_MS),
      PICLOUD_EXECUTOR_WORKERS: "1",
    });
    started.push(process);
    return process;
  };

  /** The reason picloud_kv_cache_on reports with value 1, or "off(<reason>)". */
  const cacheState = async (process: ServeProcess) => {
    const text = await (await fetch(`${process.url}/metrics`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).text();
    const match = /^picloud_kv_cache_on\{reason="(\w+)"\} (\d)$/m.exec(text);
    return match?.[2] === "1" ? match[1] : `off(${match?.[1]})`;
  };

  // Each test on its own database: a killed serve's row would look live to the next one.
  beforeEach(async () => {
    database = await createPostgresDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-crash-restart-"));
  });
  afterEach(async () => {
    for (const process of started.splice(0)) {
      process.child.kill("SIGKILL");
      await process.exited;
    }
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("shares while the dead serve's row looks live, then owns the database once it expires: cache on", async () => {
    const first = await serve();
    expect(await cacheState(first)).toBe("owner");
    first.child.kill("SIGKILL");
    await first.exited;
    const crashedAt = Date.now();

    const second = await serve();
    // Started while the dead row looks live: it shares, cache off (the row may be an older release that writes unseen).
    expect(Date.now() - crashedAt, "the restart took longer than the dead row's expiry: nothing to test").toBeLessThan(
      3 * HEARTBEAT_MS - 1_000,
    );
    expect(await cacheState(second)).toBe("off(shared)");
    await until(
      "the restarted serve to own the database",
      async () => ((await cacheState(second)) === "owner" ? true : undefined),
      15_000,
      100,
    );
    // At the expiry (plus a margin), not at a later reconnect: within about one heartbeat of it.
    expect(Date.now() - crashedAt).toBeLessThan(3 * HEARTBEAT_MS + 4_000);

    // It caches as an owner: a KV read through a script is answered from memory the second time.
    const headers = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
    expect((await fetch(`${second.url}/api/v1/apps`, { method: "POST", headers, body: JSON.stringify({ id: "shop" }) })).status).toBe(201);
    const source = "export default async function () { return { v: await kv.collection('c').get('k') } }";
    const deployed = await fetch(`${second.url}/api/v1/apps/shop/scripts/read`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ source }),
    });
    expect(deployed.status).toBe(201);
    const hits = async () =>
      Number(/^picloud_kv_cache_hits_total (\d+)$/m.exec(await (await fetch(`${second.url}/metrics`, { headers })).text())?.[1]);
    await fetch(`${second.url}/shop/read`);
    const before = await hits();
    expect(await (await fetch(`${second.url}/shop/read`)).json()).toEqual({ v: null });
    expect(await hits()).toBe(before + 1);
  }, 60_000);

  it("restarted on the same port (the same node name), it takes over the dead serve's registration at once instead of failing NODE_NAME_TAKEN", async () => {
    const port = String(await freePort());
    const first = await serve(["--port", port]);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await serve(["--port", port]);
    expect(second.url).toBe(first.url);
    // Same boot and pid namespace, pid gone: a dead predecessor's row, taken over without waiting for it to expire (core/membership.ts).
    // (On a machine so loaded that the start outlasts the row's expiry this holds trivially: timing it would make the test flaky.)
    expect(second.stderr()).not.toMatch(/waiting/);
    await until(
      "the restarted serve to own the database",
      async () => ((await cacheState(second)) === "owner" ? true : undefined),
      30_000,
      100,
    );
  }, 60_000);
});
