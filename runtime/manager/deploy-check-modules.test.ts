// Review of 782ecbb: each deploy's check creates the app's WASM engine module on a worker of the
// process that deploys; a module with no live instance is dropped only by the worker's sweep, which is
// armed only while idle instances exist. On `picloud manager` (its own one-worker test executor, no
// traffic) every app deployed keeps a module: memory grows with the number of apps deployed to.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startManagerProcess, type RoleProcess } from "../main.js";
import { loadConfig } from "../shared/config.js";
import { silentLogger } from "../shared/log.js";
import { startTestRuntime, TEST_TOKEN } from "../testing/runtime.js";

const TOKEN = "review-token-0123456789abcdef";
let manager: RoleProcess;

const api = (method: "POST" | "PUT", url: string, payload: object) =>
  manager.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${TOKEN}` }, payload });

beforeAll(async () => {
  const config = loadConfig({ dataDir: "/nonexistent-picloud-test", adminToken: TOKEN, port: 0, instanceMaxAgeMs: 1_000 }, {});
  manager = await startManagerProcess({ config, logger: silentLogger(), pgliteLocation: "memory://" });
}, 60_000);

afterAll(async () => {
  await manager?.close();
});

const engineBytes = async () => {
  const metrics = await manager.app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
  const line = metrics.body.split("\n").find((l) => l.startsWith('picloud_memory_bytes{kind="worker_engines"}'));
  return Number(line?.split(" ")[1] ?? Number.NaN);
};

describe("deploy checks on the manager", () => {
  it("do not keep what a checked top level allocated, one engine module per app deployed to", async () => {
    const deployTo = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        expect((await api("POST", "/apps", { id: `a${i}` })).statusCode).toBe(201);
        expect(
          (
            await api("PUT", `/apps/a${i}/scripts/s`, {
              source:
                i < 2 ? "export default () => 1" : "const big = new Uint8Array(40 * 1024 * 1024).fill(1);\nexport default () => big.length",
              language: "javascript",
            })
          ).statusCode,
        ).toBe(201);
      }
    };
    await deployTo(0, 2);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const before = await engineBytes();
    await deployTo(2, 12);
    // Well past the sweep's period (instanceMaxAgeMs).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const after = await engineBytes();
    console.log({ before, after, perApp: (after - before) / 10, rssGrowthMiB: (process.memoryUsage().rss - rssBefore) / 2 ** 20 });
    expect(process.memoryUsage().rss - rssBefore, "resident bytes kept by 10 deploy checks").toBeLessThan(100 * 1024 * 1024);
  }, 120_000);
});

describe("deploy checks on serve", () => {
  it("leave no engine module behind for an app with no warm sandboxes", async () => {
    const t = await startTestRuntime();
    try {
      const engines = async () => {
        const metrics = await t.runtime.app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TEST_TOKEN}` } });
        const line = metrics.body.split("\n").find((l) => l.startsWith('picloud_memory_bytes{kind="worker_engines"}'));
        return Number(line?.split(" ")[1]);
      };
      const before = await engines();
      expect(before).toBeGreaterThanOrEqual(0);
      for (const app of ["cold1", "cold2", "cold3"]) {
        await t.api("POST", "/apps", { id: app });
        expect((await t.deploy(app, "s", "export default () => 1")).statusCode).toBe(201);
      }
      expect(await engines(), "WASM engine bytes held after three checks").toBe(before);
    } finally {
      await t.close();
    }
  }, 60_000);
});
