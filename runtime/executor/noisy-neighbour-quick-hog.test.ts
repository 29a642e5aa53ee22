// A CPU hog that is usually quick: a version whose learned cost is ~1 ms loops forever on some input.
// Its workers must count as held (their busy markers say a run has executed for long), not as nearly
// free by cost, or another app's run is sent onto a looping thread and waits out the loop's CPU limit
// (review of the burst workers: hello took 19.7 s with no burst worker started).
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

const BURN_CPU_MS = 20_000;
let t: TestRuntime;
let base: string;

beforeAll(async () => {
  t = await startTestRuntime({ flags: { executorWorkers: 2, executorQueueTimeoutMs: BURN_CPU_MS } });
  await t.apiOk("POST", "/apps", { id: "shop", settings: { limits: { cpuMs: BURN_CPU_MS, wallMs: BURN_CPU_MS } } });
  await t.apiOk("PUT", "/apps/shop/scripts/spin", {
    source: "export default async function (ctx) { if (ctx.request.query.spin) { while (true) {} } return 'quick' }",
  });
  await t.apiOk("POST", "/apps", { id: "demo" });
  await t.apiOk("PUT", "/apps/demo/scripts/hello", { source: "export default async function () { return 'hello' }" });
  base = await t.runtime.listen();
  for (let i = 0; i < 6; i++) {
    expect(await (await fetch(`${base}/demo/hello`)).text()).toBe("hello");
    expect(await (await fetch(`${base}/shop/spin`)).text()).toBe("quick"); // learned: ~1 ms
  }
});
afterAll(async () => {
  await t?.close();
});

it("two endless loops of a normally-quick endpoint leave another app's hello answering", async () => {
  const stop = new AbortController();
  const spins = [1, 2].map(() => fetch(`${base}/shop/spin?spin=1`, { signal: stop.signal }).catch(() => undefined));
  try {
    const executor = t.runtime.services.executor;
    while (executor.stats().inFlight < 2) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const hello = await fetch(`${base}/demo/hello`);
    const tookMs = performance.now() - started;
    expect(await hello.text()).toBe("hello");
    expect(tookMs).toBeLessThan(BURN_CPU_MS / 2);
  } finally {
    stop.abort();
    await Promise.all(spins);
  }
}, 120_000);
