// Cluster test helpers: real `picloud manager` / `picloud node` processes, a real Caddy with the
// shipped Caddyfile, and a private PostgreSQL that a test may restart (never the shared one).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PICLOUD_BIN } from "./processes.js";

export const CADDYFILE = fileURLToPath(new URL("../../resources/deploy/Caddyfile", import.meta.url));
const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface Proc {
  readonly child: ChildProcess;
  readonly url: string;
  readonly name: string;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** A free loopback port (for programs that cannot report the port they bound, like Caddy). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function spawnUntil(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 90_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.slice(0, 2).join(" ")} did not start: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output, exited });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.slice(0, 2).join(" ")} exited with ${code}: ${output}`));
    });
  });
}

const CLUSTER_ENV = { PICLOUD_LOG_LEVEL: "warn", PICLOUD_EXECUTOR_WORKERS: "1" };

export async function startManager(databaseUrl: string, env: Record<string, string> = {}): Promise<Proc & { token: string | undefined }> {
  const started = await spawnUntil(
    process.execPath,
    [PICLOUD_BIN, "manager", "--database-url", databaseUrl, "--port", "0"],
    { ...CLUSTER_ENV, ...env },
    /manager listening on (http:\/\/\S+)\n/,
  );
  const url = started.match[1] as string;
  return { ...started, url, name: "manager", token: /Admin token[^:]*: (\S+)/.exec(started.output())?.[1] };
}

export async function startNode(databaseUrl: string, name: string, env: Record<string, string> = {}): Promise<Proc> {
  const started = await spawnUntil(
    process.execPath,
    [PICLOUD_BIN, "node", "--database-url", databaseUrl, "--port", "0", "--name", name],
    { ...CLUSTER_ENV, ...env },
    /node (\S+) listening on (http:\/\/\S+)\n/,
  );
  return { ...started, name: started.match[1] as string, url: started.match[2] as string };
}

/** Caddy with the shipped Caddyfile; its data and config stay in a temp dir. */
export async function startCaddy(manager: Proc, nodes: readonly Proc[], env: Record<string, string> = {}): Promise<Proc & { dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-caddy-"));
  const hostPort = (url: string) => new URL(url).host;
  const started = await spawnUntil(
    "caddy",
    ["run", "--config", CADDYFILE, "--adapter", "caddyfile"],
    {
      HOME: dir,
      XDG_DATA_HOME: dir,
      XDG_CONFIG_HOME: dir,
      PICLOUD_SITE: `http://127.0.0.1:${port}`,
      PICLOUD_MANAGER: hostPort(manager.url),
      PICLOUD_NODES: nodes.map((n) => hostPort(n.url)).join(" "),
      PICLOUD_HEALTH_INTERVAL: "500ms",
      ...env,
    },
    /serving initial configuration/,
  );
  return { ...started, url: `http://127.0.0.1:${port}`, name: "caddy", dir };
}

export async function stopProc(proc: Proc, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  return proc.exited;
}

/** A PostgreSQL cluster of our own (initdb in a temp dir, run as user postgres) that tests may restart. */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static available(): boolean {
    try {
      execFileSync(path.join(PG_BIN, "pg_ctl"), ["--version"], { stdio: "ignore" });
      execFileSync("id", ["postgres"], { stdio: "ignore" });
      return process.getuid?.() === 0;
    } catch {
      return false;
    }
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-pg-"));
    chmodSync(dir, 0o700);
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    chownSync(dir, uid, gid);
    const port = await freePort();
    const pg = new PrivatePostgres(dir, port);
    pg.asPostgres("initdb", ["-D", path.join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private asPostgres(program: string, args: string[]): void {
    execFileSync("runuser", ["-u", "postgres", "--", path.join(PG_BIN, program), ...args], { stdio: "ignore" });
  }

  start(): void {
    this.asPostgres("pg_ctl", [
      "-D",
      path.join(this.dir, "data"),
      "-l",
      path.join(this.dir, "log"),
      "-w",
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]);
  }

  stop(): void {
    this.asPostgres("pg_ctl", ["-D", path.join(this.dir, "data"), "-m", "fast", "-w", "stop"]);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
