// The KV path on its own (`npm run bench:kv`): the get+set script through `picloud serve` against the
// same get+set straight on the store, in interleaved rounds so that load from elsewhere on the
// machine hits every arm alike. Besides req/s it reports the CPU each request costs (the server
// process, or the bench process for the direct case, plus the Postgres backends of that database),
// which the machine's load does not inflate. `npm run bench` measures the two cases once each.
//   BENCH_KV_ROUNDS      rounds per backend (default 3)
//   BENCH_KV_ARMS        extra server arms, `label=ENV=value[,ENV=value]` separated by ';', e.g.
//                        "no cache=PICLOUD_KV_CACHE_MIB=0": the same build under other settings
//   BENCH_KV_BEFORE      a checkout whose `out/runtime` bundle (or sources) is "before": one more arm
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import autocannon from "autocannon";
import path from "node:path";
import { PiCloudApi } from "../runtime/client/api-client.js";
import type { Db } from "../runtime/store/db.js";
import { KvStore } from "../runtime/store/kv.js";
import { openDatabase } from "../runtime/store/open-db.js";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { CONNECTIONS, DURATION_S, load, type Row } from "./load.js";
import { type Spawned, spawnUntil, stop } from "./process.js";

export const KV_SCRIPT = `export default async function () {
  const c = kv.collection("bench");
  const n = ((await c.get("counter")) ?? 0) + 1;
  await c.set("counter", n);
  return { n };
}`;

/** The storage ceiling: the same get+set straight on the database, 50 concurrent loops, no HTTP or sandbox. */
export async function directKv(db: Db, label: string): Promise<Row> {
  await db.query("insert into apps (id) values ('direct') on conflict do nothing");
  const kv = new KvStore(db);
  const end = performance.now() + DURATION_S * 1000;
  const latencies: number[] = [];
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const value = await kv.get("direct", "bench", "counter");
      await kv.set("direct", "bench", "counter", String((value ? Number(value) : 0) + 1));
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.floor(latencies.length * q)] ?? 0) * 100) / 100;
  return { case: label, reqPerSec: Math.round(latencies.length / DURATION_S), p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** CPU seconds a process has used (user + system), from /proc: the machine's load does not inflate it. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0; // gone meanwhile
  }
}

/** The CPU that a database's Postgres backends use during `run` (none for PGlite: that is in-process). */
async function withBackendCpu<T>(db: Db | undefined, run: () => Promise<T>): Promise<{ result: T; backendCpuS: number }> {
  const pids = async () =>
    db ? (await db.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database()")).map((r) => r.pid) : [];
  const before = new Map((await pids()).map((pid) => [pid, cpuSeconds(pid)]));
  const result = await run();
  let backendCpuS = 0;
  for (const pid of await pids()) backendCpuS += cpuSeconds(pid) - (before.get(pid) ?? 0);
  return { result, backendCpuS };
}

const TOKEN = "pc_benchmark_token_0123456789";
const LISTENING = /listening on (\S+)/;

interface Arm {
  readonly label: string;
  readonly root: string | undefined;
  readonly env: Record<string, string>;
}

function arms(): Arm[] {
  const list: Arm[] = [{ label: "script", root: undefined, env: {} }];
  for (const spec of (process.env.BENCH_KV_ARMS ?? "").split(";").filter(Boolean)) {
    const [label, ...settings] = spec.split("=");
    const env = Object.fromEntries(
      settings
        .join("=")
        .split(",")
        .map((pair) => {
          const at = pair.indexOf("=");
          return [pair.slice(0, at), pair.slice(at + 1)];
        }),
    );
    list.push({ label: `script, ${label}`, root: undefined, env });
  }
  if (process.env.BENCH_KV_BEFORE) list.push({ label: "script, before", root: process.env.BENCH_KV_BEFORE, env: {} });
  return list;
}

/** A server with the bench app and its KV script, on its own data. */
async function startArm(arm: Arm, args: string[]): Promise<Spawned> {
  const root = arm.root ?? path.join(import.meta.dirname, "..");
  const server = await spawnUntil([path.join(root, "bin", "picloud"), "serve", "--port", "0", ...args], LISTENING, {
    PICLOUD_ADMIN_TOKEN: TOKEN,
    ...arm.env,
  });
  const client = new PiCloudApi({ url: server.match[1] as string, token: TOKEN });
  await client.POST("/api/v1/apps", { body: { id: "bench" } });
  await client.PUT("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app: "bench", name: "kv" } }, body: { source: KV_SCRIPT } });
  return server;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function backend(label: "PGlite" | "Postgres", rounds: number): Promise<string[]> {
  const cleanups: (() => Promise<void>)[] = [];
  const lines: string[] = [];
  try {
    const dataFor = async (): Promise<{ args: string[]; open: () => Promise<Db> }> => {
      if (label === "PGlite") {
        const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-kv-"));
        cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        return { args: ["--data-dir", dir], open: () => openDatabase({ pgliteLocation: path.join(dir, "pgdata") }) };
      }
      const database = await createPostgresDatabase();
      cleanups.push(database.drop);
      return { args: ["--database-url", database.url], open: () => openDatabase({ databaseUrl: database.url, pgliteLocation: "" }) };
    };
    const direct = await (await dataFor()).open();
    cleanups.push(() => direct.close());
    const servers: { arm: Arm; server: Spawned; db: Db | undefined }[] = [];
    for (const arm of arms()) {
      const data = await dataFor();
      const server = await startArm(arm, data.args);
      cleanups.push(() => stop(server.child));
      // Postgres: a connection to see the server's backends (PGlite's work is inside the server process).
      const db = label === "Postgres" ? await data.open() : undefined;
      if (db) cleanups.push(() => db.close());
      servers.push({ arm, server, db });
    }
    const figures = new Map<string, (Row & { cpuUs: number })[]>();
    const add = (row: Row, cpuS: number) =>
      figures.set(row.case, [...(figures.get(row.case) ?? []), { ...row, cpuUs: Math.round((cpuS / (row.reqPerSec * DURATION_S)) * 1e6) }]);
    const measureDirect = async () => {
      const before = process.cpuUsage();
      const { result, backendCpuS } = await withBackendCpu(label === "Postgres" ? direct : undefined, () => directKv(direct, "direct"));
      const own = process.cpuUsage(before);
      add(result, backendCpuS + (own.user + own.system) / 1e6);
    };
    for (let round = 0; round < rounds; round++) {
      // Alternate the order so that neither arm always runs right after the other.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      if (round % 2 === 0) await measureDirect();
      for (const { arm, server, db } of order) {
        const url = `${server.match[1]}/bench/kv`;
        await autocannon({ url, connections: CONNECTIONS, duration: 1 });
        const pid = server.child.pid as number;
        const before = cpuSeconds(pid);
        const { result, backendCpuS } = await withBackendCpu(db, () => load(url, arm.label, { warmup: false }));
        add(result, backendCpuS + cpuSeconds(pid) - before);
      }
      if (round % 2 === 1) await measureDirect();
    }
    // Each round's ratio against that round's direct case, then the median: slow drifts in the machine's load cancel out.
    const directRows = figures.get("direct") ?? [];
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    for (const [name, rows] of figures) {
      const rpsRatios = rows.map((r, i) => r.reqPerSec / (directRows[i]?.reqPerSec ?? Number.NaN));
      const cpuRatios = rows.map((r, i) => (directRows[i]?.cpuUs ?? Number.NaN) / r.cpuUs);
      const p50 = median(rows.map((r) => r.p50Ms ?? Number.NaN));
      const p99 = median(rows.map((r) => r.p99Ms ?? Number.NaN));
      const notes = rows.flatMap((r) => (r.note ? [r.note] : [])).join("; ");
      lines.push(
        `| ${label} | ${name} | ${rows.map((r) => r.reqPerSec).join(" / ")} | ${ratio(median(rpsRatios), 1)} | ${rows.map((r) => r.cpuUs).join(" / ")} | ${ratio(median(cpuRatios), 1)} | ${p50} | ${p99} | ${notes} |`,
      );
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
  return lines;
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_KV_ROUNDS ?? 3);
  const lines = [
    `KV get+set — ${CONNECTIONS} connections, ${DURATION_S} s per case, ${rounds} interleaved rounds, ${os.cpus().length} cores, load average at start ${loadAverage()}`,
    "",
    "| backend | case | req/s per round | req/s / direct (median of rounds) | CPU µs per request, per round | direct CPU / this (median of rounds) | p50 ms | p99 ms | note |",
    "|---|---|---|---:|---|---:|---:|---:|---|",
  ];
  for (const label of ["PGlite", "Postgres"] as const) {
    if (process.env.BENCH_KV_BACKENDS && !process.env.BENCH_KV_BACKENDS.includes(label)) continue;
    lines.push(...(await backend(label, rounds)));
  }
  lines.push("", `load average at end ${loadAverage()}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
