// What a strict-mode run costs in this process: a fresh sandbox built per run (the prelude and every lazy
// module compiled again) and, what strict mode does now, a run from the app's template whose engine
// memory is restored first (strict-template.ts); a plain hello and a Workers-style hello returning a
// Response, interleaved.
// (Until the two-step guest run, this also ran the prelude from before the web APIs, read from git
// history; that prelude no longer fits the sandbox's protocol, so the comparison ended with it.)
import { EngineModule, engineWasmPath } from "../runtime/executor/engine-module.js";
import { engineLayout } from "../runtime/executor/engine-snapshot.js";
import { StrictTemplate } from "../runtime/executor/strict-template.js";
import { lazyModulesForSandbox, preludeForSandbox } from "../runtime/executor/guest-prelude.js";
import { type GuestSources, SandboxInstance } from "../runtime/executor/sandbox-instance.js";
import { DEFAULT_LIMITS } from "../runtime/shared/limits.js";

const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const WORKERS_HELLO = "export default { async fetch() { return new Response('Hello, world!') } }";
const CONTEXT = JSON.stringify({
  app: "bench",
  script: "hello",
  env: {},
  request: { method: "GET", path: "/bench/hello", subpath: "/", query: {}, headers: {}, body: null, url: "/bench/hello" },
});

async function perSecond(engine: EngineModule, sources: GuestSources, source: string, iterations: number): Promise<number> {
  const host = async () => "null";
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const instance = new SandboxInstance(engine, "hello.js", source, DEFAULT_LIMITS, sources, false); // as strict mode builds it
    const outcome = await instance.run(CONTEXT, DEFAULT_LIMITS, host);
    if (!outcome.ok) throw new Error(`bench script failed: ${JSON.stringify(outcome.error)}`);
    instance.dispose();
  }
  return Math.round(iterations / ((performance.now() - started) / 1000));
}

/** Runs from a template (restore, load the script, run), as strict mode does once the app's template is built. */
async function templatePerSec(template: StrictTemplate, source: string, iterations: number): Promise<number> {
  const host = async () => "null";
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const outcome = await template.prepare("hello.js", source, DEFAULT_LIMITS).run(CONTEXT, DEFAULT_LIMITS, host);
    if (!outcome.ok) throw new Error(`bench script failed: ${JSON.stringify(outcome.error)}`);
  }
  return Math.round(iterations / ((performance.now() - started) / 1000));
}

export interface PreludeCost {
  /** Fresh sandbox + hello per second. */
  readonly plainPerSec: number;
  /** Fresh sandbox + Workers-style hello returning a Response. */
  readonly workersPerSec: number;
  /** The same two from a restored template (what strict mode pays per run now). */
  readonly plainTemplatePerSec: number;
  readonly workersTemplatePerSec: number;
  readonly preludeBytes: number;
}

/** Interleaved rounds, best of each, so background noise hits every variant alike. */
export async function preludeCost(iterations = 1_000, rounds = 3): Promise<PreludeCost> {
  const engine = await EngineModule.create(DEFAULT_LIMITS.memoryMiB);
  const current: GuestSources = { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() };
  const layout = engineLayout(engineWasmPath());
  if (!layout) throw new Error("the engine's memory layout was not recognised");
  // Each template holds what its script's runs load, as the worker's learning gives it.
  const plainTemplate = StrictTemplate.create(await EngineModule.create(DEFAULT_LIMITS.memoryMiB), layout, DEFAULT_LIMITS, current, []);
  const workersTemplate = StrictTemplate.create(await EngineModule.create(DEFAULT_LIMITS.memoryMiB), layout, DEFAULT_LIMITS, current, [
    "run",
    "modules",
    "fetch-api",
  ]);
  let plain = 0;
  let workers = 0;
  let plainTemplated = 0;
  let workersTemplated = 0;
  for (let r = 0; r <= rounds; r++) {
    const n = r === 0 ? 100 : iterations; // round 0 warms up
    const p = await perSecond(engine, current, HELLO, n);
    const w = await perSecond(engine, current, WORKERS_HELLO, n);
    const pt = await templatePerSec(plainTemplate, HELLO, n);
    const wt = await templatePerSec(workersTemplate, WORKERS_HELLO, n);
    if (r === 0) continue;
    plain = Math.max(plain, p);
    workers = Math.max(workers, w);
    plainTemplated = Math.max(plainTemplated, pt);
    workersTemplated = Math.max(workersTemplated, wt);
  }
  return {
    plainPerSec: plain,
    workersPerSec: workers,
    plainTemplatePerSec: plainTemplated,
    workersTemplatePerSec: workersTemplated,
    preludeBytes: current.prelude.length,
  };
}

// `node --import tsx bench/prelude-cost.ts` prints just this case.
if (import.meta.url === `file://${process.argv[1]}`) {
  preludeCost().then((cost) => {
    process.stdout.write(
      `${JSON.stringify(cost, null, 2)}\nworkers / plain, fresh: ${(cost.workersPerSec / cost.plainPerSec).toFixed(3)}, ` +
        `from the template: ${(cost.workersTemplatePerSec / cost.plainTemplatePerSec).toFixed(3)}\n`,
    );
  });
}
