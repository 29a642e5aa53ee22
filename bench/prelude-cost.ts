// What the SDK costs the plain path: a strict-mode hello (a fresh sandbox per invocation, so the
// prelude is compiled every time) with today's prelude against the prelude before the binding
// registry and the web APIs (read from git history), and a Workers-style hello that returns a
// Response, all in this process, interleaved, same run.
import { execFileSync } from "node:child_process";
import { transformSync } from "esbuild";
import { EngineModule } from "../runtime/executor/engine-module.js";
import { lazyModulesForSandbox, preludeForSandbox } from "../runtime/executor/guest-prelude.js";
import { type GuestSources, SandboxInstance } from "../runtime/executor/sandbox-instance.js";
import { DEFAULT_LIMITS } from "../runtime/shared/limits.js";
import { ROOT } from "./process.js";

/** The last commit before the SDK work (issue 10): its prelude is the baseline. */
const BASELINE_COMMIT = "91ed814";
const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const WORKERS_HELLO = "export default { async fetch() { return new Response('Hello, world!') } }";
const CONTEXT = JSON.stringify({
  app: "bench",
  script: "hello",
  env: {},
  request: { method: "GET", path: "/bench/hello", subpath: "/", query: {}, headers: {}, body: null, url: "/bench/hello" },
});

/** The baseline prelude, minified as the runtime minifies its own; undefined without git history. */
function baselinePrelude(): string | undefined {
  try {
    const file = execFileSync("git", ["show", `${BASELINE_COMMIT}:runtime/executor/guest-prelude.ts`], { cwd: ROOT, encoding: "utf8" });
    const source = /export const GUEST_PRELUDE = `([\s\S]*?)`;\n/.exec(file)?.[1];
    if (!source) return undefined;
    const code = transformSync(`__prelude = ${source.replaceAll("\\\\", "\\")};`, {
      minify: true,
      target: "es2022",
      charset: "utf8",
    }).code.trim();
    return code.replace(/^__prelude=/, "").replace(/;$/, "");
  } catch {
    return undefined;
  }
}

async function perSecond(engine: EngineModule, sources: GuestSources, source: string, iterations: number): Promise<number> {
  const host = async () => "null";
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const instance = new SandboxInstance(engine, "hello.js", source, DEFAULT_LIMITS, sources);
    const outcome = await instance.run(CONTEXT, DEFAULT_LIMITS, host);
    if (!outcome.ok) throw new Error(`bench script failed: ${JSON.stringify(outcome.error)}`);
    instance.dispose();
  }
  return Math.round(iterations / ((performance.now() - started) / 1000));
}

export interface PreludeCost {
  /** Fresh sandbox + hello per second, today's prelude. */
  readonly plainPerSec: number;
  /** The same with the baseline prelude (NaN without git history). */
  readonly baselinePerSec: number;
  /** Fresh sandbox + Workers-style hello returning a Response. */
  readonly workersPerSec: number;
  readonly preludeBytes: number;
  readonly baselineBytes: number;
}

/** Interleaved rounds, best of each, so background noise hits every variant alike. */
export async function preludeCost(iterations = 1_000, rounds = 3): Promise<PreludeCost> {
  const engine = await EngineModule.create(DEFAULT_LIMITS.memoryMiB);
  const current: GuestSources = { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() };
  const old = baselinePrelude();
  const baseline: GuestSources | undefined = old === undefined ? undefined : { prelude: old, lazyModules: {} };
  let plain = 0;
  let before = Number.NaN;
  let workers = 0;
  for (let r = 0; r <= rounds; r++) {
    const n = r === 0 ? 100 : iterations; // round 0 warms up
    const b = baseline ? await perSecond(engine, baseline, HELLO, n) : Number.NaN;
    const p = await perSecond(engine, current, HELLO, n);
    const w = await perSecond(engine, current, WORKERS_HELLO, n);
    if (r === 0) continue;
    before = Number.isNaN(before) ? b : Math.max(before, b);
    plain = Math.max(plain, p);
    workers = Math.max(workers, w);
  }
  return {
    plainPerSec: plain,
    baselinePerSec: before,
    workersPerSec: workers,
    preludeBytes: current.prelude.length,
    baselineBytes: old?.length ?? 0,
  };
}

// `node --import tsx bench/prelude-cost.ts` prints just this case.
if (import.meta.url === `file://${process.argv[1]}`) {
  preludeCost().then((cost) => {
    process.stdout.write(
      `${JSON.stringify(cost, null, 2)}\nplain / baseline: ${(cost.plainPerSec / cost.baselinePerSec).toFixed(3)}\nworkers / plain: ${(cost.workersPerSec / cost.plainPerSec).toFixed(3)}\n`,
    );
  });
}
