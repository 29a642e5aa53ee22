// Overload: many clients hammer a script that burns ~700 ms of CPU per call, while one calm client
// calls another app every 250 ms. Reports how many got 200, how many 503 OVERLOADED, and the calm
// app's latency (the goal: still under 1 s). Part of `npm run bench`; alone: `npm run bench:overload`
// (starts its own `picloud serve` on a temp PGlite dir).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PiCloudApi } from "../runtime/client/api-client.js";
import { spawnUntil, stop } from "./process.js";

type Api = (method: string, route: string, body?: unknown) => Promise<unknown>;

const BURN_MS = 700;
const BURNER = `export default async function () {
  const end = Date.now() + ${BURN_MS};
  let n = 0;
  while (Date.now() < end) n++;
  return { n };
}`;
const CALM = "export default async function () { return { calm: true } }";
const CALM_EVERY_MS = 250;

export interface OverloadFigures {
  readonly clients: number;
  readonly seconds: number;
  readonly ok: number;
  readonly overloaded: number;
  /** Other statuses/codes, e.g. {"500 ENGINE_FAULT": 3}. */
  readonly other: Record<string, number>;
  readonly clientErrors: number;
  readonly calmRequests: number;
  readonly calmP50Ms: number;
  readonly calmMaxMs: number;
  readonly calmAllUnder1s: boolean;
}

export async function prepareOverload(api: Api): Promise<void> {
  for (const id of ["burner", "calm"]) await api("POST", "/apps", { id });
  await api("PUT", "/apps/burner/scripts/burn", { source: BURNER });
  await api("PUT", "/apps/calm/scripts/hello", { source: CALM });
}

async function hit(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (response.status === 200) return "200";
  let code = "";
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "";
  } catch {
    // not our error shape
  }
  return `${response.status} ${code}`.trim();
}

/** The hammering clients, in a worker thread: their event loop must not delay the calm probe's. */
const HAMMER = `
const { parentPort, workerData } = require("node:worker_threads");
const { url, clients, seconds } = workerData;
const end = performance.now() + seconds * 1000;
const counts = {};
let clientErrors = 0;
async function hit() {
  const response = await fetch(url, { signal: AbortSignal.timeout(30000) });
  const text = await response.text();
  if (response.status === 200) return "200";
  let code = "";
  try { code = (JSON.parse(text).error || {}).code || ""; } catch {}
  return (response.status + " " + code).trim();
}
async function client() {
  while (performance.now() < end) {
    try { const outcome = await hit(); counts[outcome] = (counts[outcome] || 0) + 1; } catch { clientErrors++; }
  }
}
Promise.all(Array.from({ length: clients }, client)).then(() => parentPort.postMessage({ counts, clientErrors }));
`;

/** `clients` closed-loop clients on the burner for `seconds`, and the calm probe alongside. */
export async function measureOverload(base: string, clients: number, seconds: number): Promise<OverloadFigures> {
  // Steady state: the calm app's sandbox already exists on every worker thread.
  await Promise.all(Array.from({ length: 8 }, () => hit(`${base}/calm/hello`)));
  const end = performance.now() + seconds * 1000;
  const hammer = new Worker(HAMMER, { eval: true, workerData: { url: `${base}/burner/burn`, clients, seconds } });
  const hammered = new Promise<{ counts: Record<string, number>; clientErrors: number }>((resolve, reject) => {
    hammer.once("message", resolve);
    hammer.once("error", reject);
  });
  const calm: number[] = [];
  while (performance.now() < end) {
    const started = performance.now();
    const outcome = await hit(`${base}/calm/hello`).catch(() => "error");
    calm.push(outcome === "200" ? performance.now() - started : Number.POSITIVE_INFINITY);
    await new Promise((r) => setTimeout(r, CALM_EVERY_MS));
  }
  const { counts, clientErrors } = await hammered;
  await hammer.terminate();
  calm.sort((a, b) => a - b);
  const { "200": ok = 0, "503 OVERLOADED": overloaded = 0, ...other } = counts;
  const round = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? -1 : Math.round(ms));
  return {
    clients,
    seconds,
    ok,
    overloaded,
    other,
    clientErrors,
    calmRequests: calm.length,
    calmP50Ms: round(calm[Math.floor(calm.length / 2)]),
    calmMaxMs: round(calm.at(-1)),
    calmAllUnder1s: calm.every((ms) => ms < 1000),
  };
}

export function overloadTable(rows: readonly OverloadFigures[]): string[] {
  return [
    `| overload: clients on a ${BURN_MS} ms CPU script | s | 200 | 503 OVERLOADED | other | calm app p50 ms | calm max ms | calm all < 1 s |`,
    "|---|---:|---:|---:|---|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.clients} | ${r.seconds} | ${r.ok} | ${r.overloaded} | ${JSON.stringify({ ...r.other, ...(r.clientErrors && { clientErrors: r.clientErrors }) })} | ${r.calmP50Ms} | ${r.calmMaxMs} | ${r.calmAllUnder1s} |`,
    ),
  ];
}

async function main(): Promise<void> {
  const token = "pc_benchmark_token_0123456789";
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-bench-overload-"));
  const server = await spawnUntil(["bin/picloud", "serve", "--port", "0", "--data-dir", dataDir], /listening on (\S+)/, {
    PICLOUD_ADMIN_TOKEN: token,
  });
  try {
    const base = server.match[1] as string;
    const client = new PiCloudApi({ url: base, token });
    await prepareOverload((method, route, body) => client.requestUntyped(method, route, body));
    const rows: OverloadFigures[] = [];
    for (const clients of [80, 400]) rows.push(await measureOverload(base, clients, Number(process.env.BENCH_OVERLOAD_SECONDS ?? 15)));
    process.stdout.write(`${overloadTable(rows).join("\n")}\n`);
  } finally {
    await stop(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
