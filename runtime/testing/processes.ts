// Runs the real `bin/picloud` as a child process, as a user would.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PICLOUD_BIN = fileURLToPath(new URL("../../bin/picloud", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin/picloud`; `stdin`, when given, is piped to it (e.g. a secret's value). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PICLOUD_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly token: string | undefined;
  readonly stdout: () => string;
  /** Its logs so far. */
  readonly stderr: () => string;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
}

/** Starts `picloud serve` and waits until it prints its URL (and, on first start, the token). */
export function startServe(args: string[], env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PICLOUD_BIN, "serve", "--port", "0", ...args], {
      env: { ...process.env, PICLOUD_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    // A start that misses its deadline must not leave the process running after the test gave up on it.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`serve did not start: ${stdout} ${stderr}`));
    }, 120_000);
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (url && /^Data: /m.test(stdout)) {
        // The token line, when there is one, is written in the same burst as the data line.
        setImmediate(() => {
          clearTimeout(timer);
          resolve({
            child,
            url,
            token: /Admin token[^:]*: (\S+)/.exec(stdout)?.[1],
            stdout: () => stdout,
            stderr: () => stderr,
            exited,
          });
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr.trim()}`));
    });
  });
}
