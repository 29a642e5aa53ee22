// Where a freshly built sandbox instance's time goes (what strict mode paid per run before its
// snapshots, strict-template.ts): runtime, context, each source compiled (prelude, script, every lazy
// module the run loads), the rest of the run, dispose. In-process, medians over BENCH_RUNS runs.
// `node --import tsx bench/fresh-phases.ts` (BENCH_SOURCE: the script; default a Workers-style hello).
import { QuickJSContext, type QuickJSRuntime } from "quickjs-emscripten-core";
import { EngineModule } from "../runtime/executor/engine-module.js";
import { lazyModulesForSandbox, preludeForSandbox } from "../runtime/executor/guest-prelude.js";
import { SandboxInstance } from "../runtime/executor/sandbox-instance.js";
import { DEFAULT_LIMITS } from "../runtime/shared/limits.js";

const SOURCE = process.env.BENCH_SOURCE ?? "export default { async fetch() { return new Response('Hello, world!') } }";
const RUNS = Number(process.env.BENCH_RUNS ?? 2_000);
const CONTEXT = JSON.stringify({
  app: "bench",
  script: "hello",
  env: {},
  request: { method: "GET", path: "/bench/hello", subpath: "/", query: {}, headers: {}, body: null, url: "/bench/hello" },
});

const engine = await EngineModule.create(DEFAULT_LIMITS.memoryMiB);
const sources = { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() };
const label = new Map<string, string>([
  [sources.prelude, "prelude compile"],
  [SOURCE, "script compile + evaluation"],
]);
for (const [name, source] of Object.entries(sources.lazyModules)) label.set(source, `lazy module ${name} compile`);

const times = new Map<string, number[]>();
function add(phase: string, ms: number): void {
  const list = times.get(phase) ?? [];
  list.push(ms);
  times.set(phase, list);
}
function timed<T>(phase: string, fn: () => T): T {
  const started = performance.now();
  try {
    return fn();
  } finally {
    add(phase, performance.now() - started);
  }
}

// Every evalCode is timed by the source it compiles; runtime and context creation by wrapping the module's.
const evalCode = QuickJSContext.prototype.evalCode;
QuickJSContext.prototype.evalCode = function (this: QuickJSContext, ...args: Parameters<QuickJSContext["evalCode"]>) {
  return timed(label.get(args[0]) ?? "other evalCode", () => evalCode.apply(this, args));
};
const module = engine.module;
const newRuntime = module.newRuntime.bind(module);
module.newRuntime = (...args: Parameters<typeof module.newRuntime>): QuickJSRuntime => {
  const runtime = timed("new runtime", () => newRuntime(...args));
  const newContext = runtime.newContext.bind(runtime);
  runtime.newContext = (...c: Parameters<QuickJSRuntime["newContext"]>) => timed("new context", () => newContext(...c));
  return runtime;
};

const host = async () => "null";
for (let i = 0; i < RUNS + 200; i++) {
  if (i === 200) times.clear(); // the first runs warm up
  const t0 = performance.now();
  const instance = new SandboxInstance(engine, "hello.js", SOURCE, DEFAULT_LIMITS, sources, false); // as strict mode built it
  const t1 = performance.now();
  const lazyBefore = [...times].filter(([k]) => k.startsWith("lazy")).reduce((n, [, v]) => n + v.reduce((a, b) => a + b, 0), 0);
  const outcome = await instance.run(CONTEXT, DEFAULT_LIMITS, host);
  const t2 = performance.now();
  if (!outcome.ok) throw new Error(`bench script failed: ${outcome.error?.message}`);
  const lazyAfter = [...times].filter(([k]) => k.startsWith("lazy")).reduce((n, [, v]) => n + v.reduce((a, b) => a + b, 0), 0);
  instance.dispose();
  const t3 = performance.now();
  add("build (new SandboxInstance)", t1 - t0);
  add("run, lazy module compiles excluded", t2 - t1 - (lazyAfter - lazyBefore));
  add("dispose", t3 - t2);
  add("total", t3 - t0);
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? Number.NaN;
for (const [phase, list] of times) {
  const perRun = list.length / RUNS;
  process.stdout.write(
    `${phase.padEnd(40)} median ${(median(list) * 1000).toFixed(0).padStart(5)} µs${perRun === 1 ? "" : ` (${perRun}x per run)`}\n`,
  );
}
