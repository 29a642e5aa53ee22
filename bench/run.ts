// `npm run bench`: one run, one table. Every figure is measured in this run, so compare ratios.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { KvStore } from "../runtime/store/kv.js";
import { openDatabase } from "../runtime/store/open-db.js";
import type { Db } from "../runtime/store/db.js";
import { startRuntime } from "../runtime/main.js";
import { loadConfig } from "../runtime/shared/config.js";
import { silentLogger } from "../runtime/shared/log.js";
import { dispatchThroughput, type EventFigures, idleCpuPercent, measureEvents } from "./events.js";
import { ApiClient } from "../runtime/cli/client.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 50;
const TOKEN = "pc_benchmark_token_0123456789";
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const EVENT_BURST = Number(process.env.BENCH_EVENT_BURST ?? 3000);

interface Row {
  case: string;
  reqPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  note?: string;
}

function spawnUntil(
  command: string[],
  pattern: RegExp,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; match: RegExpExecArray; startedAt: number }> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    env: { ...process.env, PICLOUD_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve({ child, match, startedAt });
    });
    child.stderr?.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => reject(new Error(`${command.join(" ")} exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function load(url: string, label: string): Promise<Row> {
  // Warm up first (JIT, warm sandboxes, connection pools): the table reports steady state.
  await autocannon({ url, connections: CONNECTIONS, duration: 1 });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, pipelining: 1 });
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    case: label,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ...(errors > 0 && { note: `${errors} errors/non-2xx` }),
  };
}

const api = (base: string, method: string, route: string, body?: unknown): Promise<unknown> =>
  new ApiClient({ url: base, token: TOKEN }).request(method, route, body);

const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const KV_SCRIPT = `export default async function () {
  const c = kv.collection("bench");
  const n = ((await c.get("counter")) ?? 0) + 1;
  await c.set("counter", n);
  return { n };
}`;

/** The storage ceiling: the same get+set straight on the database, 50 concurrent loops, no HTTP or sandbox. */
async function directKv(db: Db, label: string): Promise<Row> {
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

async function main(): Promise<void> {
  const rows: Row[] = [];
  const eventRows: EventFigures[] = [];
  const extra: Record<string, number | string> = {};
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-"));
  const postgres = await createPostgresDatabase();
  try {
    // (a) bare fastify
    const bare = await spawnUntil(["--import", "tsx", "bench/bare-server.ts"], /listening on (\S+)/);
    rows.push(await load(`${bare.match[1]}/hello`, "(a) bare fastify route"));
    await stop(bare.child);

    // PiCloud on PGlite: start-up time to the first answered request, then (b), (c), (d).
    const serve = await spawnUntil(["bin/picloud", "serve", "--port", "0", "--data-dir", dataDir], /listening on (\S+)/, {
      PICLOUD_ADMIN_TOKEN: TOKEN,
    });
    const base = serve.match[1] as string;
    await fetch(`${base}/health`);
    extra.startToFirstResponseMs = Math.round(performance.now() - serve.startedAt);
    await api(base, "POST", "/apps", { id: "bench" });
    await api(base, "POST", "/apps", { id: "strict", settings: { strict: true } });
    for (const app of ["bench", "strict"]) await api(base, "PUT", `/apps/${app}/scripts/hello`, { source: HELLO });
    await api(base, "PUT", "/apps/bench/scripts/kv", { source: KV_SCRIPT });
    rows.push(await load(`${base}/bench/hello`, "(b) hello script, warm (PGlite)"));
    rows.push(await load(`${base}/strict/hello`, "(c) hello script, strict mode"));
    rows.push(await load(`${base}/bench/kv`, "(d) kv get+set script, PGlite"));
    extra.rssAfterRunMiB = rssMiB(serve.child.pid as number);
    eventRows.push(await measureEvents((m, r, b) => api(base, m, r, b), "PGlite", { latencySamples: 300, burst: EVENT_BURST }));
    await stop(serve.child);

    // Idle CPU: a fresh runtime with an app, a script and a KV trigger, doing nothing.
    const idleDir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-idle-"));
    const idle = await spawnUntil(["bin/picloud", "serve", "--port", "0", "--data-dir", idleDir], /listening on (\S+)/, {
      PICLOUD_ADMIN_TOKEN: TOKEN,
    });
    const idleBase = idle.match[1] as string;
    await api(idleBase, "POST", "/apps", { id: "idle" });
    await api(idleBase, "PUT", "/apps/idle/scripts/s", { source: HELLO });
    await api(idleBase, "POST", "/apps/idle/triggers", { kind: "kv", script: "s", collection: "c" });
    // Let start-up work settle (V8 keeps collecting garbage for a while after PGlite's initdb) before measuring.
    await new Promise((r) => setTimeout(r, 30_000));
    extra[`idleCpuPercentOfOneCore (${IDLE_S}s)`] = await idleCpuPercent(idle.child.pid as number, IDLE_S);
    extra.idleRssMiB = rssMiB(idle.child.pid as number);
    await stop(idle.child);
    rmSync(idleDir, { recursive: true, force: true });

    // (d) on Postgres
    const pgServe = await spawnUntil(["bin/picloud", "serve", "--port", "0", "--database-url", postgres.url], /listening on (\S+)/, {
      PICLOUD_ADMIN_TOKEN: TOKEN,
    });
    const pgBase = pgServe.match[1] as string;
    await api(pgBase, "POST", "/apps", { id: "bench" });
    await api(pgBase, "PUT", "/apps/bench/scripts/kv", { source: KV_SCRIPT });
    rows.push(await load(`${pgBase}/bench/kv`, "(d) kv get+set script, Postgres"));
    extra.rssAfterRunPostgresMiB = rssMiB(pgServe.child.pid as number);
    eventRows.push(await measureEvents((m, r, b) => api(pgBase, m, r, b), "Postgres", { latencySamples: 300, burst: EVENT_BURST }));
    await stop(pgServe.child);

    // (e) storage ceiling, in-process
    const pgliteDir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-direct-"));
    const pgliteDb = await openDatabase({ pgliteLocation: pgliteDir });
    rows.push(await directKv(pgliteDb, "(e) direct get+set, PGlite (file)"));
    await pgliteDb.close();
    rmSync(pgliteDir, { recursive: true, force: true });
    // Dispatcher throughput, in-process, on each backend.
    for (const [label, location] of [
      ["PGlite", "memory://"],
      ["Postgres", undefined],
    ] as const) {
      const fresh = location ? undefined : await createPostgresDatabase();
      const config = loadConfig({ adminToken: TOKEN, ...(fresh && { databaseUrl: fresh.url }) }, {});
      const runtime = await startRuntime({ config, logger: silentLogger(), ...(location && { pgliteLocation: location }) });
      const figures = eventRows.find((e) => e.backend === label);
      if (figures) figures.dispatchEventsPerSec = await dispatchThroughput(runtime, EVENT_BURST);
      await runtime.close();
      await fresh?.drop();
    }

    const pgDb = await openDatabase({ databaseUrl: postgres.url, pgliteLocation: "" });
    await pgDb.query("truncate kv");
    rows.push(await directKv(pgDb, "(e) direct get+set, Postgres"));
    await pgDb.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await postgres.drop();
  }

  const find = (prefix: string) => rows.find((r) => r.case.startsWith(prefix))?.reqPerSec ?? Number.NaN;
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const ratios = {
    "b/a (target >= 0.35)": ratio(find("(b)"), find("(a)")),
    "c req/s (target >= 2500)": find("(c)"),
    "d/e PGlite (target >= 0.7)": ratio(find("(d) kv get+set script, PGlite"), find("(e) direct get+set, PGlite")),
    "d/e Postgres (target >= 0.7)": ratio(find("(d) kv get+set script, Postgres"), find("(e) direct get+set, Postgres")),
  };

  const lines = [
    `PiCloud benchmark — ${CONNECTIONS} connections, ${DURATION_S} s per case, ${os.cpus().length} cores, Node ${process.versions.node}`,
    "",
    "| case | req/s | p50 ms | p99 ms | note |",
    "|---|---:|---:|---:|---|",
    ...rows.map((r) => `| ${r.case} | ${r.reqPerSec} | ${r.p50Ms ?? ""} | ${r.p99Ms ?? ""} | ${r.note ?? ""} |`),
    "",
    ...Object.entries(ratios).map(([k, v]) => `${k}: ${v}`),
    "",
    `| events | write-to-handler p50 ms | p99 ms | events/s, ${EVENT_BURST} HTTP writes to all handled | events/s, dispatcher on a ${EVENT_BURST}-event backlog |`,
    "|---|---:|---:|---:|---:|",
    ...eventRows.map(
      (e) => `| ${e.backend} | ${e.latencyP50Ms} | ${e.latencyP99Ms} | ${e.endToEndEventsPerSec} | ${e.dispatchEventsPerSec ?? ""} |`,
    ),
    "targets: p50 < 10 ms on PGlite; >= 1000 events/s on Postgres",
    "",
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  const out = path.join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, "latest.json"),
    JSON.stringify({ rows, ratios, events: eventRows, extra, at: new Date().toISOString() }, null, 2),
  );
}

await main();
