// The KV path on its own (`npm run bench:kv`): the get+set script through `picloud serve` against the
// same get+set straight on the store, in interleaved rounds so that load from elsewhere on the
// machine hits every arm alike. Besides req/s it reports the CPU each request costs (the server
// process, or the bench process for the direct case, plus the Postgres backends of that database),
// which the machine's load does not inflate. `npm run bench` measures the two cases once each.
//   BENCH_KV_ROUNDS      rounds per backend (default 3)
//   BENCH_KV_ARMS        extra server arms, `label=ENV=value[,ENV=value]` separated by ';', e.g.
//                        "no cache=PICLOUD_KV_CACHE_MIB=0": the same build under other settings
//   BENCH_KV_BEFORE      a checkout whose `out/runtime` bundle (or sources) is "before": one more arm
//   BENCH_KV_RATE        the script arms' requests per second in all (autocannon's overallRate) instead of
//                        saturating: at a fixed rate every arm does the same work per second, so its CPU per
//                        request does not move with how much it batches (a saturated server batches more
//                        per wake-up, so its CPU per request falls as its req/s rises); req/s ratios then say nothing
//   BENCH_KV_KEYS        how many keys the requests spread over, uniformly at random (default 1: one
//                        counter). With one key every write waits for the previous one's commit (its WAL
//                        flush) under the row lock, so req/s measures that chain's latency, not the path's cost.
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

export const KV_KEYS = Number(process.env.BENCH_KV_KEYS ?? 1);
/** The script arms' fixed request rate, if any (BENCH_KV_RATE). */
const RATE = process.env.BENCH_KV_RATE ? Number(process.env.BENCH_KV_RATE) : undefined;

/** Key of one request: "counter", or one of `keys` at random (the script and the direct loops draw alike). */
const keyExpression = (keys: number) => (keys <= 1 ? `"counter"` : `"k" + Math.floor(Math.random() * ${keys})`);

/** The get+set script: a counter, or counters spread over `keys` keys. */
export const kvScript = (keys = KV_KEYS) => `export default async function () {
  const c = kv.collection("bench");
  const key = ${keyExpression(keys)};
  const n = ((await c.get(key)) ?? 0) + 1;
  await c.set(key, n);
  return { n };
}`;
export const KV_SCRIPT = kvScript(1);

/**
 * The storage ceiling: the same get+set straight on the database, as many concurrent loops as the
 * load has connections, no HTTP or sandbox. Like the HTTP cases, a 1 s warm-up first (the pool's
 * connections), and only calls completed within the measured time count.
 */
export async function directKv(db: Db, label: string, options: { keys?: number; warmup?: boolean; durationS?: number } = {}): Promise<Row> {
  const keys = options.keys ?? KV_KEYS;
  const durationS = options.durationS ?? DURATION_S;
  await db.query("insert into apps (id) values ('direct') on conflict do nothing");
  const kv = new KvStore(db);
  const pick = new Function(`return ${keyExpression(keys)}`) as () => string;
  const loops = async (ms: number, latencies?: number[]) => {
    const end = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const key = pick();
        const value = await kv.get("direct", "bench", key);
        await kv.set("direct", "bench", key, String((value ? Number(value) : 0) + 1));
        const done = performance.now();
        if (done <= end) latencies?.push(done - started);
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  };
  if (options.warmup !== false) await loops(1000);
  const latencies: number[] = [];
  await loops(durationS * 1000, latencies);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.floor(latencies.length * q)] ?? 0) * 100) / 100;
  return { case: label, reqPerSec: Math.round(latencies.length / durationS), p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** directKv on a fresh database of that backend (a PGlite directory, or a new Postgres database), closed after. */
export async function directKvOnFresh(backend: "PGlite" | "Postgres", label: string): Promise<Row> {
  if (backend === "PGlite") {
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-direct-"));
    const db = await openDatabase({ pgliteLocation: dir });
    try {
      return await directKv(db, label);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const database = await createPostgresDatabase("kvbench");
  const db = await openDatabase({ databaseUrl: database.url, pgliteLocation: "" });
  try {
    return await directKv(db, label);
  } finally {
    await db.close();
    await database.drop();
  }
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
  await client.PUT("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app: "bench", name: "kv" } }, body: { source: kvScript() } });
  return server;
}

/** The server's KV read cache counters (GET /metrics); zero when it has none or reports none. */
async function cacheReads(base: string): Promise<{ hits: number; misses: number }> {
  const text = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    .then((r) => (r.ok ? r.text() : ""))
    .catch(() => "");
  const counter = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return { hits: counter("picloud_kv_cache_hits_total"), misses: counter("picloud_kv_cache_misses_total") };
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
      const database = await createPostgresDatabase("kvbench");
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
    const figures = new Map<string, (Row & { cpuUs: number; processUs: number; databaseUs: number })[]>();
    const add = (row: Row, processCpuS: number, databaseCpuS: number) => {
      const perRequest = (s: number) => Math.round((s / (row.reqPerSec * DURATION_S)) * 1e6);
      const figure = {
        ...row,
        cpuUs: perRequest(processCpuS + databaseCpuS),
        processUs: perRequest(processCpuS),
        databaseUs: perRequest(databaseCpuS),
      };
      figures.set(row.case, [...(figures.get(row.case) ?? []), figure]);
    };
    const measureDirect = async () => {
      await directKv(direct, "warm-up", { warmup: false, durationS: 1 });
      const before = process.cpuUsage();
      const { result, backendCpuS } = await withBackendCpu(label === "Postgres" ? direct : undefined, () =>
        directKv(direct, "direct", { warmup: false }),
      );
      const own = process.cpuUsage(before);
      add(result, (own.user + own.system) / 1e6, backendCpuS);
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
        const reads = await cacheReads(server.match[1] as string);
        const { result, backendCpuS } = await withBackendCpu(db, () =>
          load(url, arm.label, { warmup: false, ...(RATE !== undefined && { rate: RATE }) }),
        );
        const cpuS = cpuSeconds(pid) - before;
        const after = await cacheReads(server.match[1] as string);
        const hits = after.hits - reads.hits;
        const total = hits + after.misses - reads.misses;
        if (total > 0) result.note = [result.note, `cache hits ${Math.round((hits / total) * 1000) / 10}%`].filter(Boolean).join(", ");
        add(result, cpuS, backendCpuS);
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
        `| ${label} | ${name} | ${rows.map((r) => r.reqPerSec).join(" / ")} | ${ratio(median(rpsRatios), 1)} | ${rows.map((r) => `${r.cpuUs} (${r.processUs} + ${r.databaseUs})`).join(" / ")} | ${ratio(median(cpuRatios), 1)} | ${p50} | ${p99} | ${notes} |`,
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
    `KV get+set — ${KV_KEYS === 1 ? "one key" : `${KV_KEYS} keys at random`}, ${CONNECTIONS} connections, ${DURATION_S} s per case, ${rounds} interleaved rounds, ${os.cpus().length} cores, load average at start ${loadAverage()}`,
    "",
    "| backend | case | req/s per round | req/s / direct (median of rounds) | CPU µs per request (process + database), per round | direct CPU / this (median of rounds) | p50 ms | p99 ms | note |",
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
