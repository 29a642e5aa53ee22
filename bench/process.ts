// Child processes for the benchmark: start a server and wait for its URL, stop it, read its memory.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PiCloudApi } from "../runtime/client/api-client.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface Spawned {
  readonly child: ChildProcess;
  readonly match: RegExpExecArray;
  readonly startedAt: number;
  /** Everything the process wrote to stderr so far (its log lines). */
  stderr(): string;
}

/** `cwd`: another checkout to run the command in (A/B against a build of other code). */
export function spawnUntil(command: string[], pattern: RegExp, env: Record<string, string> = {}, cwd = ROOT): Promise<Spawned> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, command, {
    cwd,
    env: { ...process.env, PICLOUD_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve({ child, match, startedAt, stderr: () => err });
    });
    child.stderr?.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => reject(new Error(`${command.join(" ")} exited ${code}: ${err}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Resident memory now, MiB. */
export const rssMiB = (pid: number) => status(pid, "VmRSS");
/** The highest resident memory the process ever had (the kernel's high-water mark), MiB. */
export const peakRssMiB = (pid: number) => status(pid, "VmHWM");

/** "NAME=value,..." (a BENCH_*_ENV variable) as an environment. */
export const envOf = (spec: string) =>
  Object.fromEntries(
    spec
      .split(",")
      .filter((pair) => pair.includes("="))
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
  ) as Record<string, string>;

const TICK_US = 1_000_000 / 100; // USER_HZ
/** utime + stime in µs (Linux): of the whole process (all its threads), or of one thread (`tid`; the main thread's is the pid). */
export function cpuUs(pid: number, tid?: number): number {
  const file = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const fields = readFileSync(file, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

export const BENCH_TOKEN = "pc_benchmark_token_0123456789";

/** `picloud serve` on a free port from a checkout (default this one), with the benchmark's admin token and an admin API call. */
export async function startServe(args: string[], env: Record<string, string>, root?: string) {
  const server = await spawnUntil(
    ["bin/picloud", "serve", "--port", "0", ...args],
    /listening on (\S+)/,
    { PICLOUD_ADMIN_TOKEN: BENCH_TOKEN, ...env },
    root,
  );
  const base = server.match[1] as string;
  const client = new PiCloudApi({ url: base, token: BENCH_TOKEN });
  const api = (method: string, route: string, body?: unknown) => client.requestUntyped(method, route, body);
  return { server, base, api };
}
