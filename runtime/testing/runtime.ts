// A real runtime for tests: real QuickJS workers and real SQL, on in-memory PGlite or a fresh Postgres database.
import type { LightMyRequestResponse } from "fastify";
import { type Runtime, type RuntimeOptions, startRuntime } from "../main.js";
import type { Clock } from "../shared/clock.js";
import { type ConfigFlags, loadConfig } from "../shared/config.js";
import { silentLogger } from "../shared/log.js";
import { type Backend, createPostgresDatabase } from "./databases.js";

export const TEST_TOKEN = "pc_test_token_0123456789abcdef";
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString("base64");

export interface TestRuntime {
  readonly runtime: Runtime;
  /** Admin API call with the test token; `path` is below /api/v1. */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
  deploy(app: string, name: string, source: string, language?: "javascript" | "typescript"): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A clock tests move by hand: retries and schedules are tested in milliseconds, without sleeping. */
export class FakeClock implements Clock {
  constructor(public time: number = Date.parse("2026-03-01T12:00:00.000Z")) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface TestRuntimeOptions {
  readonly backend?: Backend;
  readonly flags?: ConfigFlags;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** DNS for scripts' fetch: tests resolve names to loopback or to addresses the policy must refuse. */
  readonly resolver?: RuntimeOptions["resolver"];
  /** Share an existing Postgres database (cluster tests: two runtimes, one database). */
  readonly databaseUrl?: string;
  /** Tuning of inline runs (with executorInline / executorInlineCalls in `flags`). */
  readonly inline?: RuntimeOptions["inline"];
}

export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const backend = options.databaseUrl ? "postgres" : (options.backend ?? "pglite");
  const postgres = backend === "postgres" && !options.databaseUrl ? await createPostgresDatabase() : undefined;
  const databaseUrl = options.databaseUrl ?? postgres?.url;
  const config = loadConfig(
    {
      dataDir: "/nonexistent-picloud-test",
      adminToken: TEST_TOKEN,
      executorWorkers: 2,
      port: 0,
      ...(databaseUrl && { databaseUrl }),
      // One key per test database: cluster tests share it between their runtimes.
      secretsKey: TEST_SECRETS_KEY,
      ...options.flags,
    },
    {},
  );
  const runtime = await startRuntime({
    config,
    logger: silentLogger(),
    ...(backend === "pglite" && { pgliteLocation: "memory://" }),
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
    ...(options.resolver && { resolver: options.resolver }),
    ...(options.inline && { inline: options.inline }),
  });
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
