// In-process loop over one warm SandboxInstance running hello: µs per run, no threads, no HTTP.
// `node --import tsx bench/sandbox-loop.ts` (BENCH_RUNS, default 200,000; add --cpu-prof to profile). The
// process's CPU time per run is the figure to compare on a loaded machine (wall time counts descheduling).
import { DEFAULT_LIMITS } from "../runtime/shared/limits.js";
import { EngineModule } from "../runtime/executor/engine-module.js";
import { lazyModulesForSandbox, preludeForSandbox } from "../runtime/executor/guest-prelude.js";
import { SandboxInstance } from "../runtime/executor/sandbox-instance.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 200_000);
const SOURCE = process.env.BENCH_SOURCE ?? "export default async function () { return { message: 'Hello, world!' } }";
const limits = DEFAULT_LIMITS;
const context = JSON.stringify({
  app: "bench",
  script: "hello",
  invocationId: "0192b4a0-7c1e-7a3b-9f00-1234567890ab",
  request: {
    method: "GET",
    path: "/bench/hello",
    subpath: "/",
    query: {},
    headers: { host: "127.0.0.1:47001", "user-agent": "autocannon" },
    url: "/bench/hello",
  },
  env: {},
});
const noHost = async () => "null";

const engine = await EngineModule.create(64);
const sources = { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() };
let instance = new SandboxInstance(engine, "hello.js", SOURCE, limits, sources);
let last: unknown;
for (let round = 0; round < 5; round++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < RUNS / 5; i++) {
    const outcome = instance.run(context, limits, noHost);
    if (outcome instanceof Promise) throw new Error("hello awaited the host");
    last = outcome;
    if (instance.uses >= 10_000) {
      if (!instance.dispose()) throw new Error("dispose aborted");
      instance = new SandboxInstance(engine, "hello.js", SOURCE, limits, sources);
    }
  }
  const us = ((performance.now() - started) * 1000) / (RUNS / 5);
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / (RUNS / 5);
  console.log(`round ${round + 1}: ${us.toFixed(2)} µs per run, CPU ${cpuUs.toFixed(2)} µs per run`);
}
console.log(JSON.stringify(last));
if (!instance.dispose()) throw new Error("dispose aborted");
