// `npm run bench:boot`: start-up and memory of `picloud serve` (the bundle), on both backends.
// Boot to first answer with an existing data directory / database, several times; with
// BENCH_BASELINE=<another checkout with `out/runtime` built> the two alternate, boot by boot, so a
// busy machine slows both alike. Per boot: wall time, the main thread's CPU time (what the wall time
// is made of on an idle machine: modules, PGlite and fastify run one after the other there) and the
// phases the server logged. Then RSS and its breakdown (bench/memory.ts) idle and after load.
// BENCH_NODE_FLAGS="--max-semi-space-size=4" adds this checkout under those Node options as a third variant.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PiCloudApi } from "../runtime/client/api-client.js";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { CONNECTIONS, load } from "./load.js";
import { formatBreakdown, type MemoryBreakdown, memoryBreakdown } from "./memory.js";
import { ROOT, spawnUntil, stop } from "./process.js";
import { execFileSync } from "node:child_process";

const TOKEN = "pc_benchmark_token_0123456789";
const LISTENING = /listening on (\S+)/;
const BOOTS = Number(process.env.BENCH_BOOTS ?? 5);
/** Seconds of load before the "after load" figures (hello, kv, strict, in turns). */
const LOAD_S = Number(process.env.BENCH_LOAD_SECONDS ?? 20);

interface Variant {
  readonly label: string;
  readonly root: string;
  /** Node options for the server process (BENCH_NODE_FLAGS: a third variant, e.g. V8 heap settings). */
  readonly nodeFlags?: readonly string[];
}

interface Boot {
  readonly wallMs: number;
  readonly mainCpuMs: number;
  readonly processCpuMs: number;
  readonly phases: string;
}

/** utime + stime of one thread (the main thread's id is the process id), ms. */
function cpuMs(pid: number, tid = pid): number {
  const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function serve(variant: Variant, args: string[], env: Record<string, string> = {}) {
  return spawnUntil(
    [...(variant.nodeFlags ?? []), path.join(variant.root, "out/runtime/picloud.js"), "serve", "--port", "0", ...args],
    LISTENING,
    {
      PICLOUD_ADMIN_TOKEN: TOKEN,
      ...env,
    },
  );
}

async function bootOnce(variant: Variant, args: string[]): Promise<Boot> {
  const server = await serve(variant, args, { PICLOUD_LOG_LEVEL: "info" });
  await (await fetch(`${server.match[1]}/health`)).text();
  const wallMs = Math.round(performance.now() - server.startedAt);
  const pid = server.child.pid as number;
  const boot = { wallMs, mainCpuMs: cpuMs(pid), processCpuMs: processCpuMs(pid) };
  await new Promise((resolve) => setTimeout(resolve, 300)); // the phases line follows the URL
  const logged = /"phases":(\{[^}]*\})/.exec(server.stderr())?.[1];
  await stop(server.child);
  return { ...boot, phases: logged ? logged.replaceAll('"', "").replaceAll(",", " ") : "" };
}

const HELLO = "export default async function () { return { message: 'Hello, world!' } }";
const KV = `export default async function () {
  const c = kv.collection("bench");
  const n = ((await c.get("counter")) ?? 0) + 1;
  await c.set("counter", n);
  return { n };
}`;

async function deploy(base: string): Promise<void> {
  const api = new PiCloudApi({ url: base, token: TOKEN });
  await api.requestUntyped("POST", "/apps", { id: "bench" });
  await api.requestUntyped("POST", "/apps", { id: "strict", settings: { strict: true } });
  for (const app of ["bench", "strict"]) await api.requestUntyped("PUT", `/apps/${app}/scripts/hello`, { source: HELLO });
  await api.requestUntyped("PUT", "/apps/bench/scripts/kv", { source: KV });
}

async function memory(variant: Variant, args: string[]): Promise<{ idle: MemoryBreakdown; loaded: MemoryBreakdown; rps: string }> {
  const server = await serve(variant, args);
  const base = server.match[1] as string;
  const pid = server.child.pid as number;
  try {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const idle = await memoryBreakdown(base, TOKEN, pid);
    const each = Math.max(1, Math.round(LOAD_S / 4));
    const rps: number[] = [];
    for (const route of ["/bench/hello", "/bench/kv", "/strict/hello", "/bench/hello"])
      rps.push((await load(`${base}${route}`, route, { duration: each, warmup: false })).reqPerSec);
    const loaded = await memoryBreakdown(base, TOKEN, pid);
    return { idle, loaded, rps: rps.join(" / ") };
  } finally {
    await stop(server.child);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  if (!process.env.BENCH_SKIP_BUILD) execFileSync(process.execPath, ["scripts/build-runtime.mjs"], { cwd: ROOT, stdio: "inherit" });
  const variants: Variant[] = [
    ...(process.env.BENCH_BASELINE ? [{ label: "baseline", root: path.resolve(process.env.BENCH_BASELINE) }] : []),
    { label: "this checkout", root: ROOT },
    ...(process.env.BENCH_NODE_FLAGS
      ? [{ label: `this checkout, node ${process.env.BENCH_NODE_FLAGS}`, root: ROOT, nodeFlags: process.env.BENCH_NODE_FLAGS.split(" ") }]
      : []),
  ];
  // Each variant boots on data it created itself: an older build refuses a newer schema (SCHEMA_TOO_NEW).
  const dataDirs: string[] = [];
  const databases: { url: string; drop: () => Promise<void> }[] = [];
  const storageFor = async (backend: "PGlite" | "Postgres"): Promise<string[]> => {
    if (backend === "PGlite") {
      const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-boot-"));
      dataDirs.push(dir);
      return ["--data-dir", dir];
    }
    const db = await createPostgresDatabase();
    databases.push(db);
    return ["--database-url", db.url];
  };
  const lines: string[] = [];
  const loads: string[] = [];
  try {
    for (const backend of ["PGlite", "Postgres"] as const) {
      const argsOf = new Map<string, string[]>();
      for (const v of variants) {
        const args = await storageFor(backend);
        argsOf.set(v.label, args);
        // First start (creates the schema and the apps), then boots on the existing data, alternating variants.
        const first = await serve(v, args);
        await deploy(first.match[1] as string);
        await stop(first.child);
      }
      const boots = new Map<string, Boot[]>(variants.map((v) => [v.label, []]));
      for (let i = 0; i < BOOTS; i++) for (const v of variants) boots.get(v.label)?.push(await bootOnce(v, argsOf.get(v.label) ?? []));
      for (const v of variants) {
        const list = boots.get(v.label) ?? [];
        lines.push(
          `| ${backend} | ${v.label} | ${median(list.map((b) => b.wallMs))} | ${median(list.map((b) => b.mainCpuMs))} | ${median(list.map((b) => b.processCpuMs))} | ${list.at(-1)?.phases ?? ""} |`,
        );
      }
      for (const v of variants) {
        const m = await memory(v, argsOf.get(v.label) ?? []);
        loads.push(`| ${backend} | ${v.label} | idle | ${formatBreakdown(m.idle)} |`);
        loads.push(`| ${backend} | ${v.label} | after ${LOAD_S} s of load (req/s ${m.rps}) | ${formatBreakdown(m.loaded)} |`);
      }
    }
  } finally {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    for (const db of databases) await db.drop();
  }
  const out = [
    `PiCloud boot and memory — ${os.cpus().length} cores, Node ${process.versions.node}, ${BOOTS} boots per variant (medians), ${CONNECTIONS} connections of load, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
    "",
    "| backend | code | boot to first answer, ms | main thread CPU, ms | process CPU, ms | phases of the last boot (ms since start) |",
    "|---|---|---:|---:|---:|---|",
    ...lines,
    "goal: boot < 1000 ms on both backends (an idle machine: wall time ≈ main thread CPU + waiting)",
    "",
    "| backend | code | when | memory, MiB |",
    "|---|---|---|---|",
    ...loads,
    "goal: RSS <= 300 MiB steady on PGlite",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

await main();
