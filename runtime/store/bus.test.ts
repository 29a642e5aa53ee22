// The bus carries every cross-process cache invalidation: two runtimes on one Postgres stand for
// two processes (each has its own pool, LISTEN connection and caches).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";
import type { BusTopics, Topic } from "./bus.js";

let first: TestRuntime;
let second: TestRuntime;

beforeAll(async () => {
  // Cache off: it takes the database's KV lock shared, so the second `serve` can join (without a cache).
  first = await startTestRuntime({ backend: "postgres", flags: { kvCacheMiB: 0 } });
  second = await startTestRuntime({ databaseUrl: first.runtime.services.config.databaseUrl as string });
});

afterAll(async () => {
  await second?.close();
  await first?.close();
});

/** Resolves when `t`'s bus delivers `topic` (subscribe before acting, so nothing is missed). */
function heard<T extends Topic>(t: TestRuntime, topic: T, match: (payload: BusTopics[T]) => boolean = () => true): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = t.runtime.core.bus.subscribe(topic, (payload) => {
      if (!match(payload)) return;
      unsubscribe();
      resolve();
    });
  });
}

const call = (t: TestRuntime, url: string, headers: Record<string, string> = {}) => t.runtime.app.inject({ method: "GET", url, headers });

describe("cache invalidation across processes", () => {
  it("a deploy and a restore made on one process are served by the other", async () => {
    await first.api("POST", "/apps", { id: "bus" });
    await first.deploy("bus", "v", "export default () => ({ v: 1 })");
    expect((await call(second, "/bus/v")).json()).toEqual({ v: 1 });
    let seen = heard(second, "scripts.changed", ({ target }) => target === "bus/v");
    await first.deploy("bus", "v", "export default () => ({ v: 2 })");
    await seen;
    expect((await call(second, "/bus/v")).json()).toEqual({ v: 2 });
    seen = heard(second, "scripts.changed", ({ target }) => target === "bus/v");
    expect((await first.api("POST", "/apps/bus/scripts/v/versions/1/restore")).statusCode).toBe(201);
    await seen;
    expect((await call(second, "/bus/v")).json()).toEqual({ v: 1 });
  });

  it("app settings changed on one process apply on the other", async () => {
    const seen = heard(second, "apps.changed", ({ app }) => app === "bus");
    const key = "k".repeat(24);
    expect((await first.api("PATCH", "/apps/bus", { settings: { appKey: key } })).statusCode).toBe(200);
    await seen;
    expect((await call(second, "/bus/v")).statusCode).toBe(401);
    expect((await call(second, "/bus/v", { "x-picloud-app-key": key })).statusCode).toBe(200);
  });

  it("a script's settings changed on one process apply on the other", async () => {
    await first.api("POST", "/apps", { id: "busset", settings: { limits: { responseBytes: 1024 } } });
    await first.deploy("busset", "big", "export default () => 'x'.repeat(2000)");
    // The second process caches the script with the app's limit.
    expect((await call(second, "/busset/big")).statusCode).toBe(500);
    // Only that script's lookup is dropped (its app's other scripts stay warm).
    let seen = heard(second, "scripts.changed", ({ target }) => target === "busset/big");
    const put = (limits: object) => first.api("PUT", "/apps/busset/scripts/big/settings", { settings: { limits } });
    expect((await put({ responseBytes: 4096 })).statusCode).toBe(200);
    await seen;
    expect((await call(second, "/busset/big")).statusCode).toBe(200);
    seen = heard(second, "scripts.changed", ({ target }) => target === "busset/big");
    expect((await put({})).statusCode).toBe(200);
    await seen;
    expect((await call(second, "/busset/big")).json().error.code).toBe("SCRIPT_RESPONSE_TOO_LARGE");
  });

  it("a trigger added on one process is seen by the other's write path", async () => {
    await first.deploy("bus", "h", "export default () => {}");
    // Load the (empty) trigger list into the second process's cache.
    await second.api("PUT", "/apps/bus/kv/items/a", { value: 1 });
    expect(second.runtime.services.triggerCache.peek("bus")).toEqual([]);
    const seen = heard(second, "triggers.changed", ({ app }) => app === "bus");
    expect((await first.api("POST", "/apps/bus/triggers", { kind: "kv", script: "h", collection: "items" })).statusCode).toBe(201);
    await seen;
    expect(second.runtime.services.triggerCache.peek("bus")).toBeUndefined();
    await second.api("PUT", "/apps/bus/kv/items/b", { value: 2 });
    const events = (await second.api("GET", "/events?app=bus")).json().events as { payload?: unknown }[];
    expect(events.length).toBeGreaterThanOrEqual(1);
  });

  it("a token revoked on one process is refused by the other at once", async () => {
    const created = (await first.api("POST", "/tokens", { name: "short-lived" })).json();
    // The second process verifies it once, so it is in that process's cache.
    expect((await second.api("GET", "/apps", undefined, created.token)).statusCode).toBe(200);
    const seen = heard(second, "tokens.revoked");
    expect((await first.api("DELETE", `/tokens/${created.id}`)).statusCode).toBe(204);
    await seen;
    expect((await second.api("GET", "/apps", undefined, created.token)).statusCode).toBe(401);
    expect((await first.api("GET", "/apps", undefined, created.token)).statusCode).toBe(401);
    expect((await second.api("GET", "/apps", undefined, TEST_TOKEN)).statusCode).toBe(200);
  });
});
