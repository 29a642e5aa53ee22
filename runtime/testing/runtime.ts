// A real runtime for tests: real QuickJS workers and real SQL, on in-memory PGlite or a fresh Postgres database.
import type { LightMyRequestResponse } from "fastify";
import { type Runtime, type RuntimeOptions, startRuntime } from "../main.js";
import type { Clock } from "../shared/clock.js";
import { type ConfigFlags, loadConfig } from "../shared/config.js";
import { silentLogger } from "../shared/log.js";
import { type Backend, createPostgresDatabase } from "./databases.js";

export const TEST_TOKEN = "pc_test_token_0123456789abcdef";
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString("base64");

/** Parsed JSON, as JSON.parse types it: tests read API bodies freely, as with `response.json()`. */
type Json = ReturnType<typeof JSON.parse>;

/** Options of a process (any role) on a Postgres database, one executor worker, any port; `kvCacheMiB`: PICLOUD_KV_CACHE_MIB. */
export function postgresProcessOptions(databaseUrl: string, kvCacheMiB?: number): RuntimeOptions {
  const config = loadConfig(
    {
      dataDir: "/nonexistent-picloud-test",
      adminToken: TEST_TOKEN,
      executorWorkers: 1,
      port: 0,
      databaseUrl,
      secretsKey: TEST_SECRETS_KEY,
      ...(kvCacheMiB !== undefined && { kvCacheMiB }),
    },
    {},
  );
  return { config, logger: silentLogger() };
}

export interface TestRuntime {
  readonly runtime: Runtime;
  /** Admin API call with the test token; `path` is below /api/v1. */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
  deploy(app: string, name: string, source: string, language?: "javascript" | "typescript"): Promise<LightMyRequestResponse>;
  /** Admin API call that must succeed: its JSON body (undefined for 204); throws with the body on a 4xx/5xx. */
  apiOk(method: string, path: string, body?: unknown): Promise<Json>;
  /** A KV value as stored (parsed), or undefined when the key is absent. */
  kvGet(app: string, collection: string, key: string): Promise<Json>;
  /** A fresh app named `${prefix}N` with each script deployed as an async handler of the given body. */
  appWith(prefix: string, handlers: Record<string, string>): Promise<string>;
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
  const apiOk: TestRuntime["apiOk"] = async (method, path, body) => {
    const response = await api(method, path, body);
    if (response.statusCode >= 400) throw new Error(`${method} ${path}: ${response.body}`);
    return response.statusCode === 204 ? undefined : response.json();
  };
  let apps = 0;
  return {
    runtime,
    api,
    deploy: (app, name, source, language = "javascript") => api("PUT", `/apps/${app}/scripts/${name}`, { source, language }),
    apiOk,
    async kvGet(app, collection, key) {
      const response = await api("GET", `/apps/${app}/kv/${collection}/${encodeURIComponent(key)}`);
      return response.statusCode === 404 ? undefined : response.json().value;
    },
    async appWith(prefix, handlers) {
      const id = `${prefix}${++apps}`;
      await apiOk("POST", "/apps", { id });
      for (const [name, body] of Object.entries(handlers)) {
        await apiOk("PUT", `/apps/${id}/scripts/${name}`, { source: `export default async function (ctx) {\n${body}\n}` });
      }
      return id;
    },
    async close() {
      await runtime.close();
      await postgres?.drop();
    },
  };
}
