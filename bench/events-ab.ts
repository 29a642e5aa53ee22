// The event path on its own (`npm run bench:events`), A/B against another checkout, in interleaved
// rounds (A, B, A, B, ...) so that load from elsewhere on the machine hits both arms alike.
//   latency   write-to-handler p50/p99 (bench/events.ts' measure: one KV write at a time over HTTP,
//             to the handler's first line) through `picloud serve` of each checkout (its bundle, or
//             its sources when they are newer), on PGlite; with the server's CPU per event.
//   dispatch  events/s draining a committed backlog on Postgres (runtime in a child process from each
//             checkout's sources, like `npm run bench`'s dispatch case), with the process's and the
//             Postgres backends' CPU per event.
//   BENCH_EVENTS_BEFORE    the checkout that is "before" (required)
//   BENCH_EVENTS_ROUNDS    rounds (default 4)
//   BENCH_EVENTS_CASES     latency,dispatch (default both)
//   BENCH_EVENTS_SAMPLES   latency samples per arm and round (default 200)
//   BENCH_EVENTS_BACKENDS  backends of the latency case (default pglite; postgres too: "pglite,postgres")
//   BENCH_EVENT_BURST      backlog size (default 3000)
//   BENCH_EVENTS_ENV       settings for the "after" arm's server, "NAME=value,...", e.g.
//                          "PICLOUD_EXECUTOR_INLINE=1,PICLOUD_EXECUTOR_INLINE_CALLS=1" (with BENCH_EVENTS_BEFORE=.
//                          it compares the same build under two settings)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { measureLatency, preparePong, quantile } from "./events.js";
import { cpuUs, envOf, ROOT, startServe, stop } from "./process.js";

const BEFORE = process.env.BENCH_EVENTS_BEFORE;
if (!BEFORE) throw new Error("BENCH_EVENTS_BEFORE=<checkout> names the build to compare against");
const ROUNDS = Number(process.env.BENCH_EVENTS_ROUNDS ?? 4);
const CASES = new Set((process.env.BENCH_EVENTS_CASES ?? "latency,dispatch").split(","));
const SAMPLES = Number(process.env.BENCH_EVENTS_SAMPLES ?? 200);
const BACKENDS = (process.env.BENCH_EVENTS_BACKENDS ?? "pglite").split(",");
const BURST = Number(process.env.BENCH_EVENT_BURST ?? 3000);
const ARMS = [
  { label: "before", root: path.resolve(BEFORE), env: {} },
  { label: "after", root: ROOT, env: envOf(process.env.BENCH_EVENTS_ENV ?? "") },
];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

interface LatencyServer {
  readonly arm: string;
  readonly backend: string;
  readonly pid: number;
  readonly api: Awaited<ReturnType<typeof startServe>>["api"];
  readonly stop: () => Promise<void>;
  next: number;
}

async function latencyServer(arm: (typeof ARMS)[number], backend: string): Promise<LatencyServer> {
  let args: string[];
  let cleanup: () => Promise<void>;
  if (backend === "postgres") {
    const database = await createPostgresDatabase("evbench");
    args = ["--database-url", database.url];
    cleanup = database.drop;
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), "evbench-"));
    args = ["--data-dir", dir];
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const { server, api } = await startServe(args, arm.env, arm.root);
  await preparePong(api, "evlat");
  // Warm-up: the script compiled, a sandbox warm in each worker.
  await measureLatency(api, "evlat", 20);
  return {
    arm: arm.label,
    backend,
    pid: server.child.pid as number,
    api,
    next: 20,
    stop: async () => {
      await stop(server.child);
      await cleanup();
    },
  };
}

function dispatchRound(root: string, env: Record<string, string>): { eventsPerSec: number; processUs: number; databaseUs: number } {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "bench", "events-dispatch-child.ts"), "postgres", String(BURST)],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, BENCH_ROOT: root },
      encoding: "utf8",
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string);
}

const lines: string[] = [`events A/B, ${os.cpus().length} cores, load at start ${load()}`, ""];
if (CASES.has("latency")) {
  const servers: LatencyServer[] = [];
  try {
    for (const backend of BACKENDS) for (const arm of ARMS) servers.push(await latencyServer(arm, backend));
    lines.push(
      "| round | backend | arm | p50 ms | p90 ms | p99 ms | server CPU µs/event | load |",
      "|---|---|---|---:|---:|---:|---:|---|",
    );
    const all = new Map<string, number[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which arm goes first.
      const order = round % 2 ? servers : [...servers].reverse();
      for (const s of order) {
        // The server's CPU over the writes (and their events) only, not over reading the results back.
        const before = cpuUs(s.pid);
        let after = before;
        const latencies = await measureLatency(s.api, "evlat", SAMPLES, { from: s.next, afterWrites: () => (after = cpuUs(s.pid)) });
        const cpu = Math.round((after - before) / SAMPLES);
        s.next += SAMPLES;
        const key = `${s.backend} ${s.arm}`;
        all.set(key, [...(all.get(key) ?? []), ...latencies]);
        lines.push(
          `| ${round} | ${s.backend} | ${s.arm} | ${quantile(latencies, 0.5)} | ${quantile(latencies, 0.9)} | ${quantile(latencies, 0.99)} | ${cpu} | ${load()} |`,
        );
        console.log(lines.at(-1));
      }
    }
    lines.push("", "| all rounds | p50 ms | p90 ms | p99 ms |", "|---|---:|---:|---:|");
    for (const [key, values] of all) {
      values.sort((a, b) => a - b);
      lines.push(`| ${key} | ${quantile(values, 0.5)} | ${quantile(values, 0.9)} | ${quantile(values, 0.99)} |`);
    }
  } finally {
    for (const s of servers) await s.stop();
  }
}
if (CASES.has("dispatch")) {
  lines.push(
    "",
    `| round | arm | events/s, ${BURST}-event backlog, Postgres | process CPU µs/event | Postgres CPU µs/event | load |`,
    "|---|---|---:|---:|---:|---|",
  );
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? ARMS : [...ARMS].reverse();
    for (const arm of order) {
      const r = dispatchRound(arm.root, arm.env);
      lines.push(`| ${round} | ${arm.label} | ${r.eventsPerSec} | ${r.processUs} | ${r.databaseUs} | ${load()} |`);
      console.log(lines.at(-1));
    }
  }
}
console.log(`\n${lines.join("\n")}`);
