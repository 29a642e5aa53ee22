// A real `picloud serve` on a fresh data directory for each spec.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
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
  return {
    url: serving.url,
    token,
    async api<T>(method: string, route: string, body?: unknown): Promise<T> {
      const response = await fetch(`${serving.url}/api/v1${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stop() {
      serving.child.kill("SIGTERM");
      await serving.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
