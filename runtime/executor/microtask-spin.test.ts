// A guest that spins on the job queue (`for (;;) await 0`) instead of one long stretch of code must end
// like `while (true) {}`: SCRIPT_TIMEOUT at its CPU limit, every time, and its instance discarded. The
// interrupt lands wherever the engine polls it, which in microtask churn is often inside QuickJS's own
// promise machinery: there it came back as a catchable "TypeError: not a function" (a SCRIPT_ERROR on a
// kept instance) or broke the promise chain, so the run stalled until its wall limit. Codes are asserted,
// never durations: a stalled run shows as SCRIPT_WALL_TIMEOUT.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../shared/limits.js";
import { silentLogger } from "../shared/log.js";
import type { InvokeRequest } from "../shared/wire.js";
import { EngineModule } from "./engine-module.js";
import { lazyModulesForSandbox, preludeForSandbox } from "./guest-prelude.js";
import { SandboxInstance } from "./sandbox-instance.js";
import { WorkerPool } from "./worker-pool.js";

const SPINS: Record<string, string> = {
  "await null": "export default async () => { while (true) { await null } }",
  "await Promise.resolve()": "export default async () => { while (true) { await Promise.resolve() } }",
  "for (;;) await 0": "export default async function () { for (;;) await 0 }",
  "a .then chain": "export default async () => { const f = () => Promise.resolve().then(f); f(); await new Promise(() => {}) }",
  "a .then chain that restarts on rejection":
    "export default async () => { const f = () => Promise.resolve().then(f, f); f(); await new Promise(() => {}) }",
  "an await that catches": "export default async () => { for (;;) { try { await null } catch (e) {} } }",
  "a kv call in the loop":
    "export default async () => { for (let i = 0; ; i++) { if (i % 1000 === 0) await kv.collection('c').get('k'); await null } }",
  "strict-mode source": 'export default async () => { "use strict"; for (;;) await 0 }',
  "a Workers-style module": "export default { async fetch(request) { for (;;) await 0 } }",
};

describe("microtask spin, one warm instance after another", () => {
  const limits: Limits = { ...DEFAULT_LIMITS, cpuMs: 20, wallMs: 3_000 };
  let engine: EngineModule;
  beforeAll(async () => {
    engine = await EngineModule.create(64);
  });

  for (const [name, source] of Object.entries(SPINS)) {
    it(`${name}: SCRIPT_TIMEOUT every time, and the instance is discarded`, async () => {
      const codes: string[] = [];
      for (let i = 0; i < 12; i++) {
        const instance = new SandboxInstance(engine, "s.js", source, limits, {
          prelude: preludeForSandbox(),
          lazyModules: lazyModulesForSandbox(),
        });
        const context = {
          app: "a",
          script: "s",
          request: { method: "GET", path: "/a/s", subpath: "/", query: {}, headers: {}, body: null, url: "/a/s" },
        };
        const outcome = await instance.run(JSON.stringify(context), limits, async () => "null");
        codes.push(`${outcome.error?.code}${outcome.discard ? "" : " (kept)"}`);
        expect(instance.dispose()).toBe(true);
      }
      expect(codes).toEqual(Array(12).fill("SCRIPT_TIMEOUT"));
    });
  }
});

describe("microtask spin through the worker pool", () => {
  let pool: WorkerPool;
  beforeAll(async () => {
    pool = await WorkerPool.start({ workers: 2, logger: silentLogger(), instanceMaxUses: 1_000, instanceMaxAgeMs: 60_000 });
  });
  afterAll(async () => {
    await pool.close();
  });

  const request = (source: string, version: number, strict: boolean): InvokeRequest => ({
    app: "spin",
    script: "s",
    version,
    source,
    context: {
      app: "spin",
      script: "s",
      request: { method: "GET", path: "/spin/s", subpath: "/", query: {}, headers: {}, body: null, url: "/spin/s" },
    },
    limits: { ...DEFAULT_LIMITS, cpuMs: 30, wallMs: 5_000 },
    strict,
    trigger: "test",
  });

  let version = 0;
  for (const strict of [false, true]) {
    for (const [name, source] of Object.entries(SPINS)) {
      it(`${strict ? "strict" : "warm"}, ${name}: every run ends SCRIPT_TIMEOUT, and the app still answers`, async () => {
        version++;
        const runs = [];
        // Two at once, four times: each run must end at its CPU limit, not stall until its wall limit.
        for (let i = 0; i < 4; i++) {
          const pair = [0, 1].map(() => pool.invoke(request(source, version, strict), async () => "null"));
          runs.push(...(await Promise.all(pair)));
        }
        expect(runs.map((o) => (o.ok ? "ok" : o.error.code))).toEqual(Array(8).fill("SCRIPT_TIMEOUT"));
        const ok = await pool.invoke(request("export default () => 'alive'", ++version, strict), async () => "null");
        expect(ok).toMatchObject({ ok: true, resultJson: '"alive"' });
      });
    }
  }
});
