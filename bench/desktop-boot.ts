// The desktop app's start-up, measured under plain Node (no Electron binary here): the built main
// process (out/main/index.js) with main/testing's stand-in for the Electron API, on embedded PGlite in
// an existing user-data folder, until its window has loaded the control panel from the runtime.
// With BENCH_BASELINE=<another checkout, built> the two alternate, boot by boot, so a busy machine
// slows both alike. Per boot: wall time and the main thread's CPU time at that point.
//   npx tsx bench/desktop-boot.ts            BENCH_BOOTS (default 5)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./process.js";

const BOOTS = Number(process.env.BENCH_BOOTS ?? 5);

function mainThreadCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** One start of `root`'s desktop main process: ms until its window showed the control panel. */
async function boot(root: string, userData: string): Promise<{ wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["--import", path.join(root, "main", "testing", "electron-stub-loader.mjs"), path.join(root, "out", "main", "index.js")],
    {
      cwd: root,
      env: { ...process.env, PICLOUD_STUB_USER_DATA: userData, PICLOUD_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    return await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (!out.includes("\n")) return;
        const status = (JSON.parse(out.split("\n")[0] as string) as { status: number }).status;
        if (status !== 200) reject(new Error(`the window got ${status}`));
        resolve({ wallMs: Math.round(performance.now() - started), cpuMs: mainThreadCpuMs(child.pid as number) });
      });
      void exited.then(() => reject(new Error(`the main process exited: ${stderr}`)));
    });
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const variants = [{ label: "this checkout", root: ROOT }];
  if (process.env.BENCH_BASELINE) variants.push({ label: "baseline", root: path.resolve(process.env.BENCH_BASELINE) });
  const dirs = variants.map(() => mkdtempSync(path.join(os.tmpdir(), "picloud-desktop-boot-")));
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
  const lines = [
    `desktop main process (Node + Electron stand-in, PGlite, existing user data), ${BOOTS} boots each, alternating; load average at start ${load()}`,
    "",
  ];
  try {
    // The first start makes the data directory (not measured).
    for (const [i, variant] of variants.entries()) await boot(variant.root, dirs[i] as string);
    const results = variants.map(() => [] as { wallMs: number; cpuMs: number }[]);
    for (let n = 0; n < BOOTS; n++) {
      const order = n % 2 === 0 ? [...variants.keys()] : [...variants.keys()].reverse();
      for (const i of order) results[i]?.push(await boot(variants[i]?.root as string, dirs[i] as string));
    }
    lines.push(
      "| variant | to the window's first answer, ms (median) | per boot | main thread CPU ms (median) | per boot |",
      "|---|---:|---|---:|---|",
    );
    for (const [i, variant] of variants.entries()) {
      const rows = results[i] ?? [];
      lines.push(
        `| ${variant.label} | ${median(rows.map((r) => r.wallMs))} | ${rows.map((r) => r.wallMs).join(" / ")} | ${median(rows.map((r) => r.cpuMs))} | ${rows.map((r) => r.cpuMs).join(" / ")} |`,
      );
    }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  lines.push("", `load average at end ${load()}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
