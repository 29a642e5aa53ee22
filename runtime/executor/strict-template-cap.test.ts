// The per-worker cap on strict templates (STRICT_TEMPLATE_DEFAULTS.max) holds for templates rebuilt after a drop (found by review of b3d2673).
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeRequest } from "../shared/wire.js";
import { STRICT_TEMPLATE_DEFAULTS } from "./protocol.js";
import { WorkerPool } from "./worker-pool.js";

const http = { method: "GET", path: "/a/s", subpath: "/", query: {}, headers: {}, body: null, url: "http://x/a/s" };
const noSdk = async () => "null";
const strict = (app: string, source: string, version = 1): InvokeRequest => ({
  app,
  script: "s",
  version,
  source,
  context: { app, script: "s", request: http },
  limits: { ...DEFAULT_LIMITS, cpuMs: 5_000, wallMs: 10_000 },
  strict: true,
  trigger: "test",
});
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HELLO = "export default { async fetch(req) { return Response.json({ r: Math.random() }) } }";
const GROW = "export default { async fetch() { const a = new Uint8Array(30 * 1048576); a.fill(1); return Response.json(a.length) } }";

describe("the strict template cap", () => {
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
          expect((await pool.invoke(strict(app, source, version), noSdk)).ok).toBe(true);
          await pause(150);
        }
      };
      await hot("a");
      expect((await pool.workerStats())[0]?.strictTemplates).toBe(1);
      // a's run on its template grows it past growthBytes: dropped.
      expect((await pool.invoke(strict("a", GROW, 2), noSdk)).ok).toBe(true);
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
