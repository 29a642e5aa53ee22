// `npm run bench:hot-path`: the hello path A/B, interleaved in one run so a loaded machine weighs on
// both sides alike. Per backend, two `picloud serve` processes run side by side — A with every run on
// the worker threads (PICLOUD_EXECUTOR_INLINE=0, the default), B with quick versions inline — and each round
// measures bare fastify, A and B back to back, rotating the order. Ratios are taken within a round,
// then the median over rounds is reported. The burn case (another app holds a worker with ~900 ms
// runs) and strict mode are measured on both sides too.
//   BENCH_ROUNDS (3), BENCH_DURATION (5 s per measurement), BENCH_BACKENDS (pglite,postgres)
//   BENCH_A_ROOT: run side A from another checkout (built with `node scripts/build-runtime.mjs`), e.g.
//   the commit before a change; BENCH_A_ENV / BENCH_B_ENV: "NAME=value,..." for each side (defaults
//   PICLOUD_EXECUTOR_INLINE=0 / =1); BENCH_A_LABEL / BENCH_B_LABEL name them in the table.
//   BENCH_SCRIPT=workers measures the same hello in the Workers module style (Response.json) instead,
//   in the rounds and in strict mode. BENCH_QUERY="name=world&page=2" asks every URL (bare fastify's
//   too) with that query string.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { cpuUs, envOf, type Spawned, spawnUntil, startServe, stop } from "./process.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const BACKENDS = (process.env.BENCH_BACKENDS ?? "pglite,postgres").split(",");
const CONNECTIONS = 50;
const LISTENING = /listening on (\S+)/;
const SIDES = {
  A: {
    root: process.env.BENCH_A_ROOT,
    env: envOf(process.env.BENCH_A_ENV ?? "PICLOUD_EXECUTOR_INLINE=0"),
    label: process.env.BENCH_A_LABEL ?? "workers only (PICLOUD_EXECUTOR_INLINE=0, default)",
  },
  B: {
    root: process.env.BENCH_B_ROOT,
    env: envOf(process.env.BENCH_B_ENV ?? "PICLOUD_EXECUTOR_INLINE=1"),
    label: process.env.BENCH_B_LABEL ?? "inline hybrid (PICLOUD_EXECUTOR_INLINE=1)",
  },
};

const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const WORKERS_HELLO = "export default { async fetch() { return Response.json({ message: 'Hello, world!' }) } }";
/** The script the rounds and the strict case call. */
const SCRIPT = process.env.BENCH_SCRIPT === "workers" ? "workers-hello" : "hello";
/** The query string every URL carries ("" for none). */
const QUERY = process.env.BENCH_QUERY ? `?${process.env.BENCH_QUERY}` : "";
const BURN = "export default async function () { const end = Date.now() + 900; let x = 0; while (Date.now() < end) x++; return { x } }";

interface Measured {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time the server process (all its threads) spent per answered request, µs: robust to a loaded machine. */
  cpuUsPerReq: number;
}

async function measure(url: string, pid: number, durationS = DURATION_S): Promise<Measured> {
  const before = cpuUs(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: durationS });
  const cpu = cpuUs(pid) - before;
  return {
    reqPerSec: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    cpuUsPerReq: Math.round((cpu / Math.max(1, r.requests.total)) * 10) / 10,
  };
}

interface Side {
  readonly name: string;
  readonly server: Spawned;
  readonly base: string;
}

async function startSide(name: "A" | "B", args: string[]): Promise<Side> {
  const { root, env } = SIDES[name];
  const { server, base, api } = await startServe(args, env, root);
  await api("POST", "/apps", { id: "bench" });
  await api("POST", "/apps", { id: "strict", settings: { strict: true } });
  await api("POST", "/apps", { id: "hog" });
  await api("PUT", "/apps/bench/scripts/hello", { source: HELLO });
  await api("PUT", "/apps/strict/scripts/hello", { source: HELLO });
  await api("PUT", "/apps/bench/scripts/workers-hello", { source: WORKERS_HELLO });
  await api("PUT", "/apps/strict/scripts/workers-hello", { source: WORKERS_HELLO });
  await api("PUT", "/apps/hog/scripts/burn", { source: BURN });
  await measure(`${base}/bench/${SCRIPT}${QUERY}`, server.child.pid as number, 2); // warm: JIT, sandboxes, and (B) the version proves itself
  return { name, server, base };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const round2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const lines: string[] = [];
  const loadBefore = os.loadavg();
  const bare = await spawnUntil(["--import", "tsx", "bench/bare-server.ts"], LISTENING);
  const bareUrl = `${bare.match[1]}/hello${QUERY}`;
  const barePid = bare.child.pid as number;
  await measure(bareUrl, barePid, 2);
  lines.push(
    `hot path A/B (${SCRIPT}${QUERY}) — ${CONNECTIONS} connections, ${DURATION_S} s per measurement, ${ROUNDS} rounds, ${os.cpus().length} cores, Node ${process.versions.node}`,
    `A = ${SIDES.A.label}${SIDES.A.root ? ` from ${SIDES.A.root}` : ""}, B = ${SIDES.B.label}${SIDES.B.root ? ` from ${SIDES.B.root}` : ""}`,
    "",
    "req/s ratios are within one round; CPU µs/req is the server process's CPU time (all threads) per answered request",
    "",
    "| backend | round | bare req/s | A req/s | B req/s | A / bare | B / bare | B / A | A p99 | B p99 | CPU µs/req bare / A / B | load avg |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  const summary: string[] = [];
  try {
    for (const backend of BACKENDS) {
      const dirs: string[] = [];
      const dbs: { url: string; drop: () => Promise<void> }[] = [];
      const argsFor = async (): Promise<string[]> => {
        if (backend === "postgres") {
          const db = await createPostgresDatabase();
          dbs.push(db);
          return ["--database-url", db.url];
        }
        const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-hotpath-"));
        dirs.push(dir);
        return ["--data-dir", dir];
      };
      const a = await startSide("A", await argsFor());
      const b = await startSide("B", await argsFor());
      try {
        const ratios = { a: [] as number[], b: [] as number[], ba: [] as number[], cpuA: [] as number[], cpuB: [] as number[] };
        const pids: Record<string, number> = { bare: barePid, A: a.server.child.pid as number, B: b.server.child.pid as number };
        for (let round = 1; round <= ROUNDS; round++) {
          const order: [string, string][] = [
            ["bare", bareUrl],
            ["A", `${a.base}/bench/${SCRIPT}${QUERY}`],
            ["B", `${b.base}/bench/${SCRIPT}${QUERY}`],
          ];
          // Rotate so no side always runs first (or right after the bare server).
          for (let i = 0; i < (round - 1) % 3; i++) order.push(order.shift() as [string, string]);
          const got: Record<string, Measured> = {};
          for (const [name, url] of order) got[name] = await measure(url, pids[name] as number);
          const [bareR, aR, bR] = [got.bare as Measured, got.A as Measured, got.B as Measured];
          ratios.a.push(aR.reqPerSec / bareR.reqPerSec);
          ratios.b.push(bR.reqPerSec / bareR.reqPerSec);
          ratios.ba.push(bR.reqPerSec / aR.reqPerSec);
          ratios.cpuA.push(bareR.cpuUsPerReq / aR.cpuUsPerReq);
          ratios.cpuB.push(bareR.cpuUsPerReq / bR.cpuUsPerReq);
          lines.push(
            `| ${backend} | ${round} | ${bareR.reqPerSec} | ${aR.reqPerSec} | ${bR.reqPerSec} | ${round2(aR.reqPerSec / bareR.reqPerSec)} | ${round2(bR.reqPerSec / bareR.reqPerSec)} | ${round2(bR.reqPerSec / aR.reqPerSec)} | ${aR.p99} | ${bR.p99} | ${bareR.cpuUsPerReq} / ${aR.cpuUsPerReq} / ${bR.cpuUsPerReq} | ${os.loadavg()[0]?.toFixed(1)} |`,
          );
        }
        summary.push(
          `| ${backend} | hello / bare fastify (median of rounds) | ${round2(median(ratios.a))} | ${round2(median(ratios.b))} | ${round2(median(ratios.ba))} |`,
          `| ${backend} | CPU efficiency: bare CPU per request / ours (median) | ${round2(median(ratios.cpuA))} | ${round2(median(ratios.cpuB))} | ${round2(median(ratios.cpuB) / median(ratios.cpuA))} |`,
        );
        for (const side of [a, b]) {
          const hog = autocannon({ url: `${side.base}/hog/burn`, connections: 1, duration: DURATION_S + 1 });
          const hello = await measure(`${side.base}/bench/${SCRIPT}${QUERY}`, side.server.child.pid as number);
          const burned = await hog;
          summary.push(
            `| ${backend} | ${side.name}: hello while another app burns CPU | ${hello.reqPerSec} req/s | p99 ${hello.p99} ms | ${burned.requests.total} burn runs, ${hello.errors} errors |`,
          );
        }
        for (const side of [a, b]) {
          const strict = await measure(`${side.base}/strict/${SCRIPT}${QUERY}`, side.server.child.pid as number);
          summary.push(
            `| ${backend} | ${side.name}: strict mode ${SCRIPT} | ${strict.reqPerSec} req/s | p99 ${strict.p99} ms | ${strict.errors} errors, CPU ${strict.cpuUsPerReq} µs/req |`,
          );
        }
      } finally {
        await stop(a.server.child);
        await stop(b.server.child);
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
        for (const db of dbs) await db.drop();
      }
    }
  } finally {
    await stop(bare.child);
  }
  lines.push(
    "",
    "| backend | case | A | B | B / A or note |",
    "|---|---|---:|---:|---|",
    ...summary,
    "",
    `load average before ${loadBefore.map((l) => l.toFixed(1)).join(" ")}, after ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
