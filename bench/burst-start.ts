// How long another app's request waits while one app's endless loops hold both executor workers: the
// burst worker's start is on that path (docs/limits.md, "Isolation"). Real `picloud serve` processes
// (the bundle, PGlite), A/B interleaved in one run: BENCH_A_ROOT (a checkout of the base, built with
// `node scripts/build-runtime.mjs`) against this checkout. Each round: two loops (3 s CPU limit), then,
// 0.5 s or 2 s later (rounds alternate in pairs), one hello of another app, timed; then the loops end and
// the burst worker stops (10 s idle) before the next round. BENCH_ROUNDS (default 8).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PiCloudApi } from "../runtime/client/api-client.js";
import { ROOT, spawnUntil, stop, type Spawned } from "./process.js";

const TOKEN = "pc_benchmark_token_0123456789";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const A_ROOT = process.env.BENCH_A_ROOT;
if (!A_ROOT) throw new Error("BENCH_A_ROOT: a checkout of the base to compare with");
const LOOP_MS = 3_000;
/** When the hello is sent after the loops: 0.5 s (soon after they turn long) and 2 s (well into them). */
const SOON_MS = 500;
const LATER_MS = 2_000;

interface Side {
  readonly label: string;
  readonly server: Spawned;
  readonly base: string;
  readonly dir: string;
  readonly soon: number[];
  readonly later: number[];
}

async function startSide(label: string, root: string): Promise<Side> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-burst-"));
  const server = await spawnUntil([path.join(root, "bin", "picloud"), "serve", "--port", "0", "--data-dir", dir], /listening on (\S+)/, {
    PICLOUD_ADMIN_TOKEN: TOKEN,
    PICLOUD_EXECUTOR_WORKERS: "2",
  });
  const base = server.match[1] as string;
  const api = new PiCloudApi({ url: base, token: TOKEN });
  await api.requestUntyped("POST", "/apps", { id: "shop", settings: { limits: { cpuMs: LOOP_MS, wallMs: LOOP_MS } } });
  await api.requestUntyped("PUT", "/apps/shop/scripts/spin", { source: "export default async function () { while (true) {} }" });
  await api.requestUntyped("POST", "/apps", { id: "demo" });
  await api.requestUntyped("PUT", "/apps/demo/scripts/hello", { source: "export default async function () { return 'hello' }" });
  for (let i = 0; i < 20; i++) await (await fetch(`${base}/demo/hello`)).text();
  return { label, server, base, dir, soon: [], later: [] };
}

async function round(side: Side, afterMs: number): Promise<void> {
  const spins = [1, 2].map(() => fetch(`${side.base}/shop/spin`).then((r) => r.text()));
  // Both loops executing for longer than a long run's threshold (100 ms): soon after, or well into them.
  await new Promise((r) => setTimeout(r, afterMs));
  const started = performance.now();
  const text = await (await fetch(`${side.base}/demo/hello`)).text();
  (afterMs === SOON_MS ? side.soon : side.later).push(performance.now() - started);
  if (text !== "hello") throw new Error(`${side.label}: ${text}`);
  await Promise.all(spins);
  // The burst worker stops after 10 s without work.
  await new Promise((r) => setTimeout(r, 11_000));
}

const sides = [await startSide("A (base)", A_ROOT), await startSide("B (this checkout)", ROOT)];
const loads: string[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    for (const side of i % 2 ? [...sides].reverse() : sides) {
      loads.push(os.loadavg()[0]?.toFixed(1) ?? "");
      await round(side, i % 4 < 2 ? SOON_MS : LATER_MS);
    }
  }
} finally {
  for (const side of sides) {
    await stop(side.server.child);
    rmSync(side.dir, { recursive: true, force: true });
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
console.log(
  `another app's hello while two loops hold both workers, ${ROUNDS} rounds interleaved; 1-min load average per round: ${loads.join(" ")}`,
);
for (const side of sides) {
  for (const [when, waits] of [
    [SOON_MS, side.soon],
    [LATER_MS, side.later],
  ] as const) {
    if (waits.length === 0) continue;
    console.log(
      `${side.label.padEnd(20)} hello ${when} ms after the loops: median ${median(waits).toFixed(0)} ms; each: ${waits.map((w) => w.toFixed(0)).join(" ")}`,
    );
  }
}
