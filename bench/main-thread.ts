// `npm run bench:main-thread`: CPU the server's MAIN thread spends per hello request, A/B, at a fixed
// request rate. At a fixed rate both sides do the same work per second whatever the machine's load
// (a saturated server batches more per event-loop turn, so req/s ratios swing with load), and the main
// thread's own CPU time (/proc/<pid>/task/<pid>/stat) leaves the workers' share out.
//   BENCH_A_ROOT / BENCH_B_ROOT: checkouts to run (built with `node scripts/build-runtime.mjs`); default
//   this one. BENCH_RATE (req/s, 1000), BENCH_ROUNDS (4), BENCH_DURATION (5 s), BENCH_BACKENDS (pglite),
//   BENCH_A_ENV / BENCH_B_ENV ("NAME=value,...", default PICLOUD_EXECUTOR_INLINE=0 for both).
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { cpuUs, envOf, type Spawned, startServe, stop } from "./process.js";

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const BACKENDS = (process.env.BENCH_BACKENDS ?? "pglite").split(",");
const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const SIDES = {
  A: { root: process.env.BENCH_A_ROOT, env: envOf(process.env.BENCH_A_ENV ?? "PICLOUD_EXECUTOR_INLINE=0") },
  B: { root: process.env.BENCH_B_ROOT, env: envOf(process.env.BENCH_B_ENV ?? "PICLOUD_EXECUTOR_INLINE=0") },
};

/** CPU µs of the main thread and of the whole process. */
function cpu(pid: number): { main: number; all: number; threads: number } {
  let threads = 0;
  for (const _ of readdirSync(`/proc/${pid}/task`)) threads++;
  return { main: cpuUs(pid, pid), all: cpuUs(pid), threads };
}

interface Side {
  readonly server: Spawned;
  readonly url: string;
  readonly pid: number;
}

async function start(name: "A" | "B", args: string[]): Promise<Side> {
  const { root, env } = SIDES[name];
  const { server, api } = await startServe(args, env, root);
  await api("POST", "/apps", { id: "bench" });
  await api("PUT", "/apps/bench/scripts/hello", { source: HELLO });
  const side = { server, url: `${server.match[1]}/bench/hello`, pid: server.child.pid as number };
  await run(side, 6); // warm: JIT, sandboxes
  return side;
}

async function run(side: Side, durationS = DURATION_S): Promise<{ mainUs: number; allUs: number; done: number; errors: number }> {
  const before = cpu(side.pid);
  const r = await autocannon({ url: side.url, connections: 20, duration: durationS, overallRate: RATE });
  const after = cpu(side.pid);
  const done = r.requests.total;
  return {
    mainUs: Math.round(((after.main - before.main) / done) * 10) / 10,
    allUs: Math.round(((after.all - before.all) / done) * 10) / 10,
    done,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<void> {
  console.log(
    `main-thread CPU per request at ${RATE} req/s, ${DURATION_S} s x ${ROUNDS} rounds; A = ${SIDES.A.root ?? "."}, B = ${SIDES.B.root ?? "."}`,
  );
  console.log("| backend | round | A main µs/req | B main µs/req | A all µs/req | B all µs/req | A/B req | errors | load |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const backend of BACKENDS) {
    const cleanups: (() => Promise<void> | void)[] = [];
    const argsFor = async () => {
      if (backend === "postgres") {
        const db = await createPostgresDatabase();
        cleanups.push(() => db.drop());
        return ["--database-url", db.url];
      }
      const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-mainthread-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return ["--data-dir", dir];
    };
    const a = await start("A", await argsFor());
    const b = await start("B", await argsFor());
    const got = { aMain: [] as number[], bMain: [] as number[], aAll: [] as number[], bAll: [] as number[] };
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const order = round % 2 === 1 ? (["A", "B"] as const) : (["B", "A"] as const);
        const res: Record<string, Awaited<ReturnType<typeof run>>> = {};
        for (const name of order) res[name] = await run(name === "A" ? a : b);
        const [ra, rb] = [res.A as Awaited<ReturnType<typeof run>>, res.B as Awaited<ReturnType<typeof run>>];
        got.aMain.push(ra.mainUs);
        got.bMain.push(rb.mainUs);
        got.aAll.push(ra.allUs);
        got.bAll.push(rb.allUs);
        console.log(
          `| ${backend} | ${round} | ${ra.mainUs} | ${rb.mainUs} | ${ra.allUs} | ${rb.allUs} | ${ra.done}/${rb.done} | ${ra.errors + rb.errors} | ${os.loadavg()[0]?.toFixed(1)} |`,
        );
      }
      console.log(
        `| ${backend} | median | ${median(got.aMain)} | ${median(got.bMain)} | ${median(got.aAll)} | ${median(got.bAll)} | B/A main ${(median(got.bMain) / median(got.aMain)).toFixed(2)} | | |`,
      );
    } finally {
      await stop(a.server.child);
      await stop(b.server.child);
      for (const cleanup of cleanups) await cleanup();
    }
  }
}

await main();
