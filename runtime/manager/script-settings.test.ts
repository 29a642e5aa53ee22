// Per-script settings: stored with the script, resolved as server defaults < app < script, applied to
// every run of the script (endpoint and test run), and refused with coded 400s when they make no sense.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

beforeAll(async () => {
  // One worker: "counter" keeps one warm instance, so its count shows whether that instance survived.
  t = await startTestRuntime({ flags: { adminRateLimitPerMinute: 1_000, executorWorkers: 1 } });
  // The app keeps responses to 1 KiB; every script here answers 2,000 characters.
  await t.api("POST", "/apps", { id: "shop", settings: { strict: false, limits: { responseBytes: 1024, cpuMs: 2_000 } } });
  for (const name of ["big", "other"]) await t.deploy("shop", name, "export default () => 'x'.repeat(2000)");
  await t.deploy("shop", "counter", "let n = 0;\nexport default () => ({ n: ++n });");
});
afterAll(async () => {
  await t?.close();
});

const call = (path: string) => t.runtime.app.inject({ method: "GET", url: path });
const settings = (name: string) => t.api("GET", `/apps/shop/scripts/${name}/settings`);
const put = (name: string, body: unknown) => t.api("PUT", `/apps/shop/scripts/${name}/settings`, body);

describe("per-script settings", () => {
  it("a script without settings runs with its app's settings, and says where each value comes from", async () => {
    const view = (await settings("big")).json();
    expect(view.settings).toEqual({});
    expect(view.effective.limits.responseBytes).toEqual({ value: 1024, source: "app" });
    expect(view.effective.limits.cpuMs).toEqual({ value: 2_000, source: "app" });
    expect(view.effective.limits.wallMs).toEqual({ value: 15_000, source: "server" });
    expect(view.effective.strict).toEqual({ value: false, source: "app" });
    const answer = await call("/shop/big");
    expect(answer.statusCode).toBe(500);
    expect(answer.json().error.code).toBe("SCRIPT_RESPONSE_TOO_LARGE");
  });

  it("a script's own limit wins over its app's, for that script only, at once", async () => {
    const updated = await put("big", { settings: { limits: { responseBytes: 4096 } } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().effective.limits.responseBytes).toEqual({ value: 4096, source: "script" });
    expect(updated.json().effective.limits.cpuMs).toEqual({ value: 2_000, source: "app" });
    const answer = await call("/shop/big");
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toHaveLength(2000);
    // Its neighbour keeps the app's limit; a test run of the script uses the script's.
    expect((await call("/shop/other")).json().error.code).toBe("SCRIPT_RESPONSE_TOO_LARGE");
    const tested = (await t.api("POST", "/apps/shop/scripts/big/invoke", {})).json();
    expect(tested.ok).toBe(true);
  });

  it("settings stay across deploys; deleting the script deletes them", async () => {
    await t.deploy("shop", "big", "export default () => 'y'.repeat(2000)");
    expect((await settings("big")).json().settings).toEqual({ limits: { responseBytes: 4096 } });
    expect((await call("/shop/big")).statusCode).toBe(200);
    expect((await t.api("DELETE", "/apps/shop/scripts/big")).statusCode).toBe(204);
    expect((await settings("big")).json().error.code).toBe("SCRIPT_NOT_FOUND");
    await t.deploy("shop", "big", "export default () => 'z'.repeat(2000)");
    expect((await settings("big")).json().settings).toEqual({});
    expect((await call("/shop/big")).statusCode).toBe(500);
  });

  it("strict mode per script: a fresh sandbox for every run of that script", async () => {
    const updated = (await put("counter", { settings: { strict: true } })).json();
    expect(updated.effective.strict).toEqual({ value: true, source: "script" });
    for (let i = 0; i < 6; i++) expect((await call("/shop/counter")).json()).toEqual({ n: 1 });
    // Cleared again: the app's (warm) mode applies, and its source says so.
    expect((await put("counter", { settings: {} })).json().effective.strict).toEqual({ value: false, source: "app" });
  });

  it("changing one script's settings leaves the app's other scripts warm", async () => {
    const before = (await call("/shop/counter")).json().n;
    expect((await put("other", { settings: { limits: { cpuMs: 1_500 } } })).statusCode).toBe(200);
    // The same warm instance answers: its module state went on counting.
    expect((await call("/shop/counter")).json()).toEqual({ n: before + 1 });
    expect((await put("other", { settings: {} })).statusCode).toBe(200);
  });

  it("bad input gets coded 400s; unknown apps and scripts 404s", async () => {
    const appWide = await put("other", { settings: { limits: { memoryMiB: 128 } } });
    expect(appWide.statusCode).toBe(400);
    expect(appWide.json().error.code).toBe("SCRIPT_SETTINGS_INVALID");
    expect(appWide.json().error.message).toMatch(/memoryMiB, concurrency, queue apply to the whole app/);
    for (const body of [
      { settings: { limits: { cpuMs: 0 } } },
      { settings: { limits: { wallMs: 1.5 } } },
      { settings: { strict: "yes" } },
      { settings: { mode: 1 } },
      {},
    ]) {
      const answer = await put("other", body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
      expect(answer.json().error.code, JSON.stringify(body)).toBe("VALIDATION_FAILED");
    }
    expect((await put("nope", { settings: {} })).json().error.code).toBe("SCRIPT_NOT_FOUND");
    expect((await t.api("GET", "/apps/nope/scripts/big/settings")).json().error.code).toBe("APP_NOT_FOUND");
    expect((await t.api("PUT", "/apps/nope/scripts/big/settings", { settings: {} })).json().error.code).toBe("APP_NOT_FOUND");
    expect((await t.api("GET", "/apps/shop/scripts/Bad Name/settings")).json().error.code).toBe("SCRIPT_INVALID_NAME");
  });
});

describe("app settings view", () => {
  it("GET /apps/{app}/settings says where each value comes from and never echoes the app key", async () => {
    await t.api("POST", "/apps", { id: "keyed", settings: { appKey: "k".repeat(32), limits: { wallMs: 4_000 }, browserSandbox: false } });
    const view = (await t.api("GET", "/apps/keyed/settings")).json();
    expect(view.settings).toEqual({ limits: { wallMs: 4_000 }, browserSandbox: false });
    expect(JSON.stringify(view)).not.toContain("k".repeat(32));
    expect(view.effective.appKey).toEqual({ set: true });
    expect(view.effective.limits.wallMs).toEqual({ value: 4_000, source: "app" });
    expect(view.effective.limits.cpuMs.source).toBe("server");
    expect(view.effective.browserSandbox).toEqual({ value: false, source: "app" });
    expect(view.effective.recordSampleRate).toEqual({ value: 0.01, source: "server" });
    expect((await t.api("GET", "/apps/nope/settings")).json().error.code).toBe("APP_NOT_FOUND");
  });
});
