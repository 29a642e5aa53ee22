// Where the KV read cache is on by default: the embedded database and a `serve` that owns its Postgres
// database (one KV writer, no notifications); in a cluster only when configured, because every write
// must then NOTIFY (see kv-cache-bus.ts).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KV_LOCK_KEY } from "../store/kv-ownership.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { BUS_CHANNEL } from "../store/bus.js";
import { kvCacheMiB } from "./kv-cache-bus.js";

describe("KV read cache defaults", () => {
  it("16 MiB where the process may own its database (embedded, or serve), off in a cluster, the configured size anywhere", () => {
    expect(kvCacheMiB(undefined, true)).toBe(16);
    expect(kvCacheMiB(undefined, false)).toBe(0);
    expect(kvCacheMiB(8, false)).toBe(8);
    expect(kvCacheMiB(0, true)).toBe(0);
  });
});

describe.each([
  ["owned by this serve, by default", {}, false, 0],
  ["owned by this serve, with PICLOUD_KV_CACHE_MIB set", { kvCacheMiB: 4 }, false, 0],
  ["shared with a cluster, by default", {}, true, 0],
  ["shared with a cluster, with PICLOUD_KV_CACHE_MIB set", { kvCacheMiB: 4 }, true, 1],
] as const)("KV writes on Postgres %s", (_label, flags, shared, notifications) => {
  let database: { url: string; drop: () => Promise<void> };
  let t: TestRuntime;
  let cluster: pg.Client | undefined;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    if (shared) {
      // Another process holding the KV writers' lock shared, as a cluster's processes do.
      cluster = new pg.Client({ connectionString: database.url });
      await cluster.connect();
      await cluster.query("select pg_advisory_lock_shared($1::bigint)", [KV_LOCK_KEY]);
    }
    t = await startTestRuntime({ databaseUrl: database.url, flags });
    expect(t.runtime.core.kvOwnership?.state).toBe(shared ? "shared" : "owner");
    await t.api("POST", "/apps", { id: "shop" });
  });
  afterAll(async () => {
    await t?.close();
    await cluster?.end();
    await database?.drop();
  });

  it(`send ${notifications} kv.changed notification(s) per write`, async () => {
    const heard: string[] = [];
    const off = await t.runtime.core.db.listen(BUS_CHANNEL, (payload) => {
      if (payload.includes('"kv.changed"')) heard.push(payload);
    });
    expect((await t.api("PUT", "/apps/shop/kv/c/k", { value: 1 })).statusCode).toBe(200);
    // Let a notification arrive if one was sent (a marker NOTIFY sent after it arrives after it).
    let markerHeard: () => void = () => {};
    const marker = new Promise<void>((resolve) => {
      markerHeard = resolve;
    });
    // Subscribed before the marker is sent, or the marker could pass unheard.
    const offMarker = await t.runtime.core.db.listen("kv_cache_test_marker", () => markerHeard());
    await t.runtime.core.db.notify("kv_cache_test_marker", "x");
    await marker;
    await offMarker();
    await off();
    expect(heard.length).toBe(notifications);
  });
});
