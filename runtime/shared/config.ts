// One configuration schema: defaults, environment and flags are read here once, then frozen.
import os from "node:os";
import path from "node:path";
import { Type, type Static } from "typebox";
import { Value } from "typebox/value";
import { PiCloudError } from "./errors.js";
import { DEFAULT_LIMITS, LimitsOverrideSchema, resolveLimits, type Limits } from "./limits.js";

export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65_535 }),
  dataDir: Type.String({ minLength: 1 }),
  databaseUrl: Type.Optional(Type.String({ pattern: "^postgres(ql)?://" })),
  adminToken: Type.Optional(Type.String({ minLength: 16 })),
  logLevel: Type.Union(["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l))),
  executorWorkers: Type.Integer({ minimum: 1, maximum: 64 }),
  /**
   * Extra executor threads at most, started while every worker is held by a long run and another
   * app's quick run waits; each stops after 10 s idle (docs/limits.md, "Isolation"). 0: none.
   */
  executorBurstWorkers: Type.Integer({ minimum: 0, maximum: 64 }),
  /** Invocations waiting for an executor on this server, all apps together; more get 503 OVERLOADED. */
  executorQueueLimit: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  /** How long an invocation may wait for an executor before it gets 503 OVERLOADED. */
  executorQueueTimeoutMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
  /**
   * Run script versions that proved quick and make no binding calls on the main thread, under a
   * ~2 ms budget, instead of a worker (docs/architecture.md, "Where a run executes"). Off by default
   * until `npm run bench:hot-path` shows a win on a quiet machine (see the note there).
   */
  executorInline: Type.Boolean(),
  /**
   * Proven-quick versions that call bindings (kv, fetch, timers) run inline on the main thread too,
   * their calls served there without thread hops (executor/inline-runner.ts). Off by default: on this
   * 2-core machine it did not pay (Postgres: ~14% less CPU per KV request with one key before the
   * ingress fast path, none since; PGlite: ~30% more; docs/architecture.md, "KV on Postgres").
   */
  executorInlineCalls: Type.Boolean(),
  /** How long past its wall limit one run may execute before its worker thread is presumed hung. */
  executorWatchdogGraceMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  bodyLimitBytes: Type.Integer({ minimum: 1_024, maximum: 256 * 1024 * 1024 }),
  adminRateLimitPerMinute: Type.Integer({ minimum: 1 }),
  /** A request's headers and body must have arrived within this time (slow-body clients get 408). */
  requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  /** Bytes an event-stream client may leave unread before its messages are skipped (it is told how many). */
  streamBufferBytes: Type.Integer({ minimum: 64 * 1024, maximum: 256 * 1024 * 1024 }),
  /** The headers alone must have arrived within this time. */
  headersTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  invocationRetentionCount: Type.Integer({ minimum: 100 }),
  invocationRetentionHours: Type.Number({ exclusiveMinimum: 0 }),
  /** Warm sandbox instances are recycled after this many invocations or this age. */
  instanceMaxUses: Type.Integer({ minimum: 1 }),
  instanceMaxAgeMs: Type.Integer({ minimum: 1 }),
  /** How long a claimed event belongs to one process; longer than the longest wall-time limit. */
  eventLeaseMs: Type.Integer({ minimum: 1_000 }),
  eventConcurrency: Type.Integer({ minimum: 1, maximum: 1_000 }),
  /** Handler runs in one trigger chain before writes stop producing events (loop bound). */
  eventMaxChainDepth: Type.Integer({ minimum: 0, maximum: 1_000 }),
  /** Serve GET /metrics without an admin token (for a Prometheus on a trusted network). */
  metricsPublic: Type.Boolean(),
  /** Names this process in event leases; unique per process. */
  nodeId: Type.String({ minLength: 1, maxLength: 200 }),
  /** The key sealing app secrets (32 bytes, base64 or hex). Default for the embedded database: <dataDir>/secrets.key. */
  secretsKey: Type.Optional(Type.String({ minLength: 32 })),
  /** A file holding that key (e.g. a mounted secret in a cluster). */
  secretsKeyFile: Type.Optional(Type.String({ minLength: 1 })),
  /** The previous key during a rotation: values sealed with it are re-sealed with the current key at start. */
  secretsOldKey: Type.Optional(Type.String({ minLength: 32 })),
  /** Cluster: this node's name (default: host name and port); unique in a cluster. */
  nodeName: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" })),
  /**
   * Cluster: the URL other machines reach this process at (behind NAT, a proxy or a DNS name). Default:
   * the bound address, or the first external address when bound to 0.0.0.0 / :: (see core/advertised-url.ts).
   */
  publicUrl: Type.Optional(Type.String({ maxLength: 2_000, pattern: "^https?://[^\\s/?#]+(/[^\\s?#]*)?$" })),
  /** Cluster: how often a process refreshes its row in the nodes table; three missed = down. */
  heartbeatMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  /** SIGTERM: how long /readyz answers 503 while still serving, so a load balancer stops sending. */
  drainGraceMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
  /** SIGTERM: how long in-flight work may take to finish before it is handed back. */
  drainTimeoutMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  /**
   * This process's KV read cache (keys and values), MiB; 0 turns it off. Default: 16 on the embedded
   * database, 0 on Postgres (there every process must set the same: see docs/architecture.md).
   */
  kvCacheMiB: Type.Optional(Type.Number({ minimum: 0, maximum: 4_096 })),
  /**
   * Postgres without a KV read cache: each executor worker serves its scripts' kv calls on a pool of
   * this many connections of its own (opened on demand) instead of sending them to the main thread.
   * Default 0 (off): on a 2-core VM it cost ~25% more CPU per get+set (docs/architecture.md).
   */
  kvWorkerConnections: Type.Integer({ minimum: 0, maximum: 64 }),
  /**
   * Group commit of KV sets (store/kv-batch.ts): how many batches of concurrent sets may be in
   * flight at once before further sets queue for the next; 0 sends every set alone. Default 1
   * (docs/architecture.md, "KV on Postgres").
   */
  kvBatchInFlight: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
  limits: LimitsOverrideSchema,
});

export type ConfigInput = Static<typeof ConfigSchema>;
export type Config = Readonly<Omit<ConfigInput, "limits">> & { readonly limits: Limits };

/** The per-user folder where the embedded database lives when no --data-dir is given. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Application Support", "PiCloud");
  if (process.platform === "win32") return path.join(env.APPDATA ?? path.join(home, "AppData", "Roaming"), "PiCloud");
  return path.join(env.XDG_DATA_HOME ?? path.join(home, ".local", "share"), "picloud");
}

export type ConfigFlags = Partial<Omit<ConfigInput, "limits">> & { limits?: ConfigInput["limits"] };

function envInt(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : (value as unknown as number); // let the schema name the bad value
}

function envBool(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return value as unknown as boolean; // let the schema name the bad value
}

/** Precedence: flags > environment > defaults. A bad value fails here, naming the setting. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const fromEnv = defined({
    host: env.PICLOUD_HOST,
    port: envInt(env.PICLOUD_PORT),
    requestTimeoutMs: envInt(env.PICLOUD_REQUEST_TIMEOUT_MS),
    headersTimeoutMs: envInt(env.PICLOUD_HEADERS_TIMEOUT_MS),
    dataDir: env.PICLOUD_DATA_DIR,
    databaseUrl: env.PICLOUD_DATABASE_URL || undefined,
    adminToken: env.PICLOUD_ADMIN_TOKEN || undefined,
    logLevel: env.PICLOUD_LOG_LEVEL,
    executorWorkers: envInt(env.PICLOUD_EXECUTOR_WORKERS),
    executorBurstWorkers: envInt(env.PICLOUD_EXECUTOR_BURST_WORKERS),
    executorQueueLimit: envInt(env.PICLOUD_EXECUTOR_QUEUE_LIMIT),
    executorQueueTimeoutMs: envInt(env.PICLOUD_EXECUTOR_QUEUE_TIMEOUT_MS),
    executorInline: envBool(env.PICLOUD_EXECUTOR_INLINE),
    executorInlineCalls: envBool(env.PICLOUD_EXECUTOR_INLINE_CALLS),
    eventLeaseMs: envInt(env.PICLOUD_EVENT_LEASE_MS),
    metricsPublic: envBool(env.PICLOUD_METRICS_PUBLIC),
    secretsKey: env.PICLOUD_SECRETS_KEY || undefined,
    secretsKeyFile: env.PICLOUD_SECRETS_KEY_FILE || undefined,
    secretsOldKey: env.PICLOUD_SECRETS_OLD_KEY || undefined,
    nodeName: env.PICLOUD_NODE_NAME || undefined,
    publicUrl: env.PICLOUD_PUBLIC_URL || undefined,
    heartbeatMs: envInt(env.PICLOUD_HEARTBEAT_MS),
    drainGraceMs: envInt(env.PICLOUD_DRAIN_GRACE_MS),
    drainTimeoutMs: envInt(env.PICLOUD_DRAIN_TIMEOUT_MS),
    kvCacheMiB: envInt(env.PICLOUD_KV_CACHE_MIB),
    kvWorkerConnections: envInt(env.PICLOUD_KV_WORKER_CONNECTIONS),
    kvBatchInFlight: envInt(env.PICLOUD_KV_BATCH_IN_FLIGHT),
  });
  const input = {
    host: "127.0.0.1",
    port: 8787,
    dataDir: defaultDataDir(env),
    logLevel: "info",
    executorWorkers: Math.max(1, Math.min(os.availableParallelism(), 8)),
    executorBurstWorkers: 2,
    executorQueueLimit: 1_000,
    executorQueueTimeoutMs: 10_000,
    executorInline: false,
    executorInlineCalls: false,
    executorWatchdogGraceMs: 5_000,
    bodyLimitBytes: 1024 * 1024,
    adminRateLimitPerMinute: 6_000,
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    streamBufferBytes: 1024 * 1024,
    invocationRetentionCount: 100_000,
    invocationRetentionHours: 24 * 7,
    instanceMaxUses: 10_000,
    instanceMaxAgeMs: 10 * 60_000,
    eventLeaseMs: 330_000,
    eventConcurrency: 32,
    eventMaxChainDepth: 8,
    metricsPublic: false,
    heartbeatMs: 5_000,
    drainGraceMs: 0,
    drainTimeoutMs: 30_000,
    kvWorkerConnections: 0,
    nodeId: `${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    limits: {},
    ...fromEnv,
    ...defined(flags),
  };
  if (!Value.Check(ConfigSchema, input)) {
    const first = [...Value.Errors(ConfigSchema, input)][0];
    const where = first ? first.instancePath.replace(/^\//, "").replaceAll("/", ".") : "?";
    throw new PiCloudError("CONFIG_INVALID", `Invalid setting '${where}': ${first?.message ?? "invalid"}`);
  }
  const checked = input as ConfigInput;
  return Object.freeze({
    ...checked,
    dataDir: path.resolve(checked.dataDir),
    limits: resolveLimits(DEFAULT_LIMITS, checked.limits),
  });
}
