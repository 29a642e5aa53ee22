// The yardstick: Cloudflare's workerd serving the same hello, when a binary is at hand.
// workerd is not a dependency (its npm package carries a ~100 MiB binary): point BENCH_WORKERD at one,
// e.g. after `npm install workerd` in a scratch directory, .../node_modules/.bin/workerd.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../runtime/testing/cluster.js";
import { stop as stopChild } from "./process.js";

export interface Workerd {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const WORKER = `export default { async fetch() { return Response.json({ message: "Hello, world!" }); } };\n`;

const config = (port: number) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .hello) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const hello :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2024-01-01",
);
`;

export async function startWorkerd(binary: string): Promise<Workerd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-workerd-"));
  const port = await freePort();
  writeFileSync(path.join(dir, "worker.js"), WORKER);
  writeFileSync(path.join(dir, "config.capnp"), config(port));
  const child = spawn(binary, ["serve", "config.capnp"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(url)).ok) return { url, child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`workerd did not answer on ${url}: ${stderr.slice(0, 500)}`);
}
