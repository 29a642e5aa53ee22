// What strict templates (strict-template.ts) may cost a worker: a cap on how many, none for apps seen once,
// none kept grown, one per stack size, and the cap holding for templates rebuilt after a drop.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeRequest } from "../shared/wire.js";
import { STRICT_TEMPLATE_DEFAULTS } from "./protocol.js";
import { WorkerPool } from "./worker-pool.js";

const MiB = 1024 * 1024;
const http = { method: "GET", path: "/a/s", subpath: "/", query: {}, headers: {}, body: null, url: "http://x/a/s" };
const noSdk = async () => "null";
const strict = (app: string, source: string, overrides: Partial<InvokeRequest> = {}): InvokeRequest => ({
  app,
  script: "s",
  version: 1,
  source,
  context: { app, script: "s", request: http },
  limits: { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000 },
  strict: true,
  trigger: "test",
  ...overrides,
});
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HELLO = "export default { async fetch(req) { return Response.json({ r: Math.random() }) } }";
const GROW = "export default { async fetch() { const a = new Uint8Array(30 * 1048576); a.fill(1); return Response.json(a.length) } }";

describe("strict templates' memory", () => {
  it("engine memory of many strict apps stays within one module per app (as before 1e37803): templates need a cap", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 600_000 });
    try {
      const apps = 24;
      // wks2: 6 rounds, not 3: templates are now built only from an app's 4th strict run in a worker
      // (STRICT_TEMPLATE_DEFAULTS.afterRuns), so 3 rounds would build none; 6 build and use one per app.
      for (let round = 0; round < 2 + STRICT_TEMPLATE_DEFAULTS.afterRuns; round++) {
        for (let i = 0; i < apps; i++) expect((await pool.invoke(strict(`app${i}`, HELLO), noSdk)).ok).toBe(true);
        await pause(300);
      }
      const [stats] = await pool.workerStats();
      // 382d7d0: one 16 MiB module per app (384 MiB). 1e37803: a template module per app on top (~768 MiB).
      expect(stats?.engineBytes).toBeLessThanOrEqual(apps * 16 * MiB);
      // The runs after the build restored templates: one instance per run before it, none after.
      expect(stats?.instancesCreated).toBeLessThanOrEqual(apps * STRICT_TEMPLATE_DEFAULTS.afterRuns);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it("a template whose run grew its module to the app's memory limit is dropped (TEMPLATE_MAX_BYTES never fires at the default memoryMiB=64)", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 600_000 });
    try {
      const big = "export default { async fetch() { const a = new Uint8Array(40 * 1048576); a.fill(1); return Response.json(a.length) } }";
      // wks2: the template build starts at the app's afterRuns-th strict run (it was the first).
      for (let i = 0; i < STRICT_TEMPLATE_DEFAULTS.afterRuns; i++) expect((await pool.invoke(strict("big", HELLO), noSdk)).ok).toBe(true);
      await pause(500);
      const before = (await pool.workerStats())[0]?.engineBytes ?? 0;
      const grown = await pool.invoke(strict("big", big, { version: 2 }), noSdk); // runs on the template: grows it to ~56 MiB
      expect(grown.ok).toBe(true);
      const stats = (await pool.workerStats())[0];
      const after = stats?.engineBytes ?? 0;
      // Dropped: the worker holds no more than before the run (32 MiB). On 1e37803 the grown template stays (~61 MiB).
      expect(JSON.parse(grown.ok ? (grown.response?.text ?? "0") : "0")).toBe(40 * MiB);
      expect(after).toBeLessThanOrEqual(before);
      expect(stats).toMatchObject({ strictTemplates: 0, strictTemplatesBuilt: 1, strictTemplatesDropped: { grown: 1 } });
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("two scripts of one app with different stackKiB both run from a template (the per-app slot is rebuilt on every alternation)", async () => {
    const pool = await WorkerPool.start({ workers: 1, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 600_000 });
    try {
      const run = (script: string, stackKiB: number) =>
        pool.invoke(strict("two", HELLO, { script, limits: { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000, stackKiB } }), noSdk);
      for (let i = 0; i < 12; i++) {
        expect((await run("a", 256)).ok).toBe(true);
        expect((await run("b", 128)).ok).toBe(true);
        await pause(150);
      }
      const [stats] = await pool.workerStats();
      // One template per stack size would build ~2-4 instances; alternating, every strict run builds one.
      expect(stats?.instancesCreated).toBeLessThanOrEqual(6);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("a template dropped because a run grew it is rebuilt only if there is room: never more than `max` held", async () => {
    const max = 1;
    const pool = await WorkerPool.start({
      workers: 1,
      logger: silentLogger(),
      instanceMaxUses: 1_000,
      instanceMaxAgeMs: 600_000,
      strictTemplates: { max, evictAfterIdleMs: 600_000, growthBytes: 2 * 1024 * 1024 },
    });
    try {
      const { afterRuns } = STRICT_TEMPLATE_DEFAULTS;
      const hot = async (app: string, source = HELLO, version = 1) => {
        for (let i = 0; i < afterRuns + 1; i++) {
          expect((await pool.invoke(strict(app, source, { version }), noSdk)).ok).toBe(true);
          await pause(150);
        }
      };
      await hot("a");
      expect((await pool.workerStats())[0]?.strictTemplates).toBe(1);
      // a's run on its template grows it past growthBytes: dropped.
      expect((await pool.invoke(strict("a", GROW, { version: 2 }), noSdk)).ok).toBe(true);
      await pause(150);
      expect((await pool.workerStats())[0]?.strictTemplates).toBe(0);
      await hot("b"); // room: b gets the one template
      expect((await pool.workerStats())[0]?.strictTemplates).toBe(1);
      await hot("a"); // a's old slot is still in the map: rebuilt without asking for room
      const held = (await pool.workerStats())[0]?.strictTemplates;
      expect(held).toBeLessThanOrEqual(max);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
