// The shipped example scripts deploy and do what their comments say.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, startTestRuntime, type TestRuntime } from "../testing/runtime.js";

const example = (file: string) => readFileSync(new URL(`../../resources/examples/${file}`, import.meta.url), "utf8");

describe("resources/examples", () => {
  let t: TestRuntime;
  const clock = new FakeClock(Date.parse("2026-05-01T23:59:00.000Z"));
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await t.api(method, path, body);
    if (response.statusCode >= 400) throw new Error(`${method} ${path}: ${response.body}`);
    return response.statusCode === 204 ? undefined : response.json();
  };

  beforeAll(async () => {
    t = await startTestRuntime({ clock, random: () => 0 });
    await api("POST", "/apps", { id: "shop" });
    expect((await t.deploy("shop", "hello", example("hello.js"))).statusCode).toBe(201);
    expect((await t.deploy("shop", "order-shipper", example("order-shipper.js"))).statusCode).toBe(201);
    expect((await t.deploy("shop", "nightly-report", example("nightly-report.ts"), "typescript")).statusCode).toBe(201);
    expect((await t.deploy("shop", "dead-letter-alert", example("dead-letter-alert.js"))).statusCode).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("hello.js greets and counts", async () => {
    const first = await t.runtime.app.inject({ method: "GET", url: "/shop/hello?name=Ada" });
    expect(first.json()).toEqual({ message: "Hello, Ada!", visits: 1 });
    expect((await t.runtime.app.inject({ method: "GET", url: "/shop/hello" })).json()).toEqual({ message: "Hello, world!", visits: 2 });
  });

  it("order-shipper ships, retries a missing address, and dead-letters an empty order to the alert handler", async () => {
    await api("POST", "/apps/shop/triggers", {
      kind: "kv",
      script: "order-shipper",
      collection: "orders",
      ops: ["insert"],
      maxAttempts: 5,
      backoffMs: 100,
    });
    await api("POST", "/apps/shop/triggers", { kind: "dead_letter", script: "dead-letter-alert" });
    const drain = () => t.runtime.services.dispatcher.drain();
    await api("PUT", "/apps/shop/kv/orders/o-1", { value: { address: "1 Main St", items: ["book"] } });
    await api("PUT", "/apps/shop/kv/orders/o-2", { value: { items: [] } });
    await drain();
    expect((await api("GET", "/apps/shop/kv/shipments/o-1")).value).toMatchObject({ address: "1 Main St" });
    const alerts = (await api("GET", "/apps/shop/kv/alerts")).items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0].value).toMatchObject({ script: "order-shipper", attempts: 1, lastError: "NonRetriableError: order o-2 has no items" });
  });

  it("nightly-report.ts counts shipments on its schedule", async () => {
    await api("POST", "/apps/shop/triggers", { kind: "schedule", script: "nightly-report", cron: "0 2 * * *", timezone: "Europe/Berlin" });
    await t.runtime.services.scheduler.reload();
    clock.time = Date.parse("2026-05-02T00:00:00.000Z"); // 02:00 in Berlin (summer time)
    expect(await t.runtime.services.scheduler.tick()).toBe(1);
    await t.runtime.services.dispatcher.drain();
    expect((await api("GET", "/apps/shop/kv/reports/2026-05-02")).value).toEqual({ shipments: 1 });
  });
});
