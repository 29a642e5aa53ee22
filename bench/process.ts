// Child processes for the benchmark: start a server and wait for its URL, stop it, read its memory.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

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
