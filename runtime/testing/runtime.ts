// A real runtime for tests: real QuickJS workers and real SQL, on in-memory PGlite or a fresh Postgres database.
import type { LightMyRequestResponse } from "fastify";
import { type Runtime, startRuntime } from "../main.js";
import { type ConfigFlags, loadConfig } from "../shared/config.js";
import { silentLogger } from "../shared/log.js";
import { type Backend, createPostgresDatabase } from "./databases.js";

export const TEST_TOKEN = "pc_test_token_0123456789abcdef";

export interface TestRuntime {
  readonly runtime: Runtime;
  /** Admin API call with the test token; `path` is below /api/v1. */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
  deploy(app: string, name: string, source: string, language?: "javascript" | "typescript"): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestRuntime(options: { backend?: Backend; flags?: ConfigFlags } = {}): Promise<TestRuntime> {
  const backend = options.backend ?? "pglite";
  const postgres = backend === "postgres" ? await createPostgresDatabase() : undefined;
  const config = loadConfig(
    {
      dataDir: "/nonexistent-picloud-test",
      adminToken: TEST_TOKEN,
      executorWorkers: 2,
      port: 0,
      ...(postgres && { databaseUrl: postgres.url }),
      ...options.flags,
    },
    {},
  );
  const runtime = await startRuntime({ config, logger: silentLogger(), ...(backend === "pglite" && { pgliteLocation: "memory://" }) });
  const api: TestRuntime["api"] = (method, path, body, token = TEST_TOKEN) =>
    runtime.app.inject({
      method: method as "GET",
      url: `/api/v1${path}`,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      ...(body !== undefined && { payload: body as object }),
    });
  return {
    runtime,
    api,
    deploy: (app, name, source, language = "javascript") => api("PUT", `/apps/${app}/scripts/${name}`, { source, language }),
    async close() {
      await runtime.close();
      await postgres?.drop();
    },
  };
}
