// A real `picloud serve` on a fresh data directory for each spec.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PiCloudApi } from "../../runtime/client/api-client.js";
import { type ServeProcess, startServe } from "../../runtime/testing/processes.js";

export interface E2eServer {
  readonly url: string;
  readonly token: string;
  /** The typed admin API client. */
  readonly client: PiCloudApi;
  /** An admin API call by method and a path under /api/v1 (e.g. built with the test's names). */
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  /** Stops the process and keeps its data: the runtime is down until `start()`. */
  halt(): Promise<void>;
  /** Starts it again on the same data directory and port (a runtime that comes back). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startE2eServer(token = `pc_e2e_${Math.random().toString(36).slice(2)}_token`): Promise<E2eServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-e2e-"));
  let serving: ServeProcess | undefined;
  try {
    serving = await startServe(["--data-dir", dataDir], { PICLOUD_ADMIN_TOKEN: token });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = serving.url;
  const client = new PiCloudApi({ url, token });
  const halt = async () => {
    if (!serving) return;
    serving.child.kill("SIGTERM");
    await serving.exited;
    serving = undefined;
  };
  return {
    url,
    token,
    client,
    api: <T>(method: string, route: string, body?: unknown) => client.requestUntyped<T>(method, route, body),
    halt,
    async start() {
      serving = await startServe(["--data-dir", dataDir, "--port", new URL(url).port], { PICLOUD_ADMIN_TOKEN: token });
    },
    async stop() {
      await halt();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
