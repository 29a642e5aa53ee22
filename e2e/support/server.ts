// A real `picloud serve` on a fresh data directory for each spec.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ApiClient } from "../../runtime/cli/client.js";
import { type ServeProcess, startServe } from "../../runtime/testing/processes.js";

export interface E2eServer {
  readonly url: string;
  readonly token: string;
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startE2eServer(token = `pc_e2e_${Math.random().toString(36).slice(2)}_token`): Promise<E2eServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-e2e-"));
  let serving: ServeProcess;
  try {
    serving = await startServe(["--data-dir", dataDir], { PICLOUD_ADMIN_TOKEN: token });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const client = new ApiClient({ url: serving.url, token });
  return {
    url: serving.url,
    token,
    api: <T>(method: string, route: string, body?: unknown) => client.request<T>(method, route, body),
    async stop() {
      serving.child.kill("SIGTERM");
      await serving.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
