// Where the KV read cache is on by default: the embedded database (one process, no notifications);
// on Postgres only when configured, because every write must then NOTIFY (see kv-cache-bus.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../testing/databases.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { BUS_CHANNEL } from "./bus.js";
import { kvCacheMiB } from "./kv-cache-bus.js";

describe("KV read cache defaults", () => {
  it("16 MiB on the embedded database, off on Postgres, the configured size on either", () => {
    expect(kvCacheMiB(undefined, true)).toBe(16);
    expect(kvCacheMiB(undefined, false)).toBe(0);
    expect(kvCacheMiB(8, false)).toBe(8);
    expect(kvCacheMiB(0, true)).toBe(0);
  });
});

describe.each([
  ["by default", {}, 0],
  ["with PICLOUD_KV_CACHE_MIB set", { kvCacheMiB: 4 }, 1],
] as const)("KV writes on Postgres %s", (_label, flags, notifications) => {
  let database: { url: string; drop: () => Promise<void> };
  let t: TestRuntime;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    t = await startTestRuntime({ databaseUrl: database.url, flags });
    await t.api("POST", "/apps", { id: "shop" });
  });
  afterAll(async () => {
    await t?.close();
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
