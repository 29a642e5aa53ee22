// `npm run bench:memory`: where a PGlite server's RSS goes idle and after load, A/B in interleaved
// rounds (a busy machine moves both arms alike). Each round starts every variant on the same data
// directory, takes the breakdown (bench/memory.ts) after 3 s idle, loads hello, Workers-style hello
// and both in a strict app (50 connections, BENCH_MEMORY_EACH s each after a 1 s warm-up, hello again
// last), takes it again, and reports req/s per route and the server's CPU per hello request (all its
// threads, /proc/<pid>/stat, over the two hello loads).
// BENCH_MEMORY_VARIANTS="label;root;ENV=v,ENV2=v;node flags|label;..." (root empty: this checkout,
// otherwise another checkout with out/runtime built); default: this checkout alone.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { PiCloudApi } from "../runtime/client/api-client.js";
import { load } from "./load.js";
import { formatBreakdown, memoryBreakdown } from "./memory.js";
import { BENCH_TOKEN, cpuUs, envOf, ROOT, spawnUntil, stop } from "./process.js";

const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 3);
const EACH_S = Number(process.env.BENCH_MEMORY_EACH ?? 8);
const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const WORKERS_HELLO = "export default { async fetch() { return Response.json({ message: 'Hello, world!' }) } }";
const ROUTES = ["/bench/hello", "/bench/workers-hello", "/strict/hello", "/strict/workers-hello", "/bench/hello"];

interface Variant {
  readonly label: string;
  readonly root: string;
  readonly env: Record<string, string>;
  readonly flags: string[];
}

const variants: Variant[] = (process.env.BENCH_MEMORY_VARIANTS ?? "this checkout;;;").split("|").map((spec) => {
  const [label, root, env, flags] = spec.split(";");
  return {
    label: label || "this checkout",
    root: root ? path.resolve(root) : ROOT,
    env: envOf(env ?? ""),
    flags: (flags ?? "").split(" ").filter(Boolean),
  };
});

function serve(v: Variant, dataDir: string) {
  return spawnUntil(
    [...v.flags, path.join(v.root, "out/runtime/picloud.js"), "serve", "--port", "0", "--data-dir", dataDir],
    /listening on (\S+)/,
    { PICLOUD_ADMIN_TOKEN: BENCH_TOKEN, ...v.env },
  );
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-memory-"));
try {
  const first = await serve({ label: "setup", root: ROOT, env: {}, flags: [] }, dataDir);
  const api = new PiCloudApi({ url: first.match[1] as string, token: BENCH_TOKEN });
  await api.requestUntyped("POST", "/apps", { id: "bench" });
  await api.requestUntyped("POST", "/apps", { id: "strict", settings: { strict: true } });
  for (const app of ["bench", "strict"]) {
    await api.requestUntyped("PUT", `/apps/${app}/scripts/hello`, { source: HELLO });
    await api.requestUntyped("PUT", `/apps/${app}/scripts/workers-hello`, { source: WORKERS_HELLO });
  }
  await stop(first.child);
  process.stdout.write(
    `PiCloud memory A/B on PGlite — ${os.cpus().length} cores, Node ${process.versions.node}, ${ROUNDS} rounds, ${EACH_S} s per route\n`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of variants) {
      const server = await serve(v, dataDir);
      const base = server.match[1] as string;
      const pid = server.child.pid as number;
      try {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const idle = await memoryBreakdown(base, BENCH_TOKEN, pid);
        const rps: number[] = [];
        let helloCpuUs = 0;
        let helloRequests = 0;
        for (const route of ROUTES) {
          await autocannon({ url: `${base}${route}`, connections: 50, duration: 1 });
          const before = cpuUs(pid);
          const row = await load(`${base}${route}`, route, { duration: EACH_S, warmup: false });
          if (route === "/bench/hello") {
            helloCpuUs += cpuUs(pid) - before;
            helloRequests += row.reqPerSec * EACH_S;
          }
          rps.push(row.reqPerSec);
        }
        const loaded = await memoryBreakdown(base, BENCH_TOKEN, pid);
        process.stdout.write(
          `round ${round} | ${v.label} | load average ${os.loadavg()[0]?.toFixed(1)} | req/s ${rps.join(" / ")} | server CPU per hello ${(helloCpuUs / helloRequests).toFixed(1)} µs\n` +
            `  idle:       ${formatBreakdown(idle)}\n  after load: ${formatBreakdown(loaded)}\n`,
        );
      } finally {
        await stop(server.child);
      }
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
