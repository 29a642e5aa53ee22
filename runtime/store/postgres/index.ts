// External PostgreSQL through a `pg` connection pool, plus one dedicated LISTEN connection that
// survives a database restart or a network drop: it reconnects with capped backoff, re-LISTENs
// every channel and tells subscribers (`onReconnect`) so they can catch up on what they missed.
import pg from "pg";
import { PiCloudError } from "../../shared/errors.js";
import type { Db, DbHealth, NamedStatement, Queryable, Row } from "../db.js";
import { isConnectionError } from "./connection-errors.js";

export interface PostgresOptions {
  readonly poolSize?: number;
  /** First and longest wait between LISTEN reconnect attempts. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Told about lost and restored connections (a logger's warn/info). */
  readonly onStateChange?: (state: "down" | "up", error?: unknown) => void;
  /** The LISTEN connection's application_name (it names the process in pg_stat_activity). */
  readonly applicationName?: string;
  /** Session state kept on the LISTEN connection (the KV writers' lock, store/kv-ownership.ts). */
  readonly session?: ListenSession;
  /**
   * How often the LISTEN connection is asked `select 1` (default 15 s); no answer within 2/3 of that,
   * or an error for an answer, and it counts as lost. With the server-side keepalives it sets (dropped after ~60 s of silence),
   * a silently dead connection is given up here before PostgreSQL releases what its session held.
   */
  readonly pingMs?: number;
}

/**
 * Told of each LISTEN connection: `connected` before it counts as listening (a throw fails the attempt),
 * `lost` as soon as it is gone. `drop` gives the connection up (as a failed ping does): for a session
 * that answered one of its holder's statements with an error, so it is taken again on a fresh one.
 */
export interface ListenSession {
  connected(session: Queryable & { drop(error: unknown): void }): Promise<void>;
  lost(): void;
}

/** A lost connection becomes one coded 503, so callers (and scripts' kv calls) see why. */
function coded(error: unknown): never {
  if (isConnectionError(error)) {
    throw new PiCloudError("DATABASE_UNAVAILABLE", "The database is unreachable; retry shortly.", { cause: error });
  }
  throw error;
}

/** The pool's half of a Postgres Db: queries and transactions, no LISTEN connection. */
export interface PostgresPool extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  exec(sql: string): Promise<void>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A connection pool that connects lazily and survives lost connections: an idle client that dies is
 * dropped (never an uncaught 'error'), a statement on a lost connection fails with a coded
 * DATABASE_UNAVAILABLE, and the next statement takes a new connection. The executor workers use it alone
 * for their KV calls (executor/worker-kv.ts); openPostgres adds the LISTEN connection.
 */
export function postgresPool(connectionString: string, poolSize: number, applicationName?: string): PostgresPool {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    ...(applicationName !== undefined && { application_name: applicationName }),
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const asQueryable = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends Row>(sql: string | NamedStatement, params?: readonly unknown[]) {
      try {
        const values = params as unknown[] | undefined;
        const result = await (typeof sql === "string"
          ? client.query<R>(sql, values)
          : client.query<R>({ name: sql.name, text: sql.text, values }));
        return result.rows;
      } catch (error) {
        return coded(error);
      }
    },
  });
  return {
    ...asQueryable(pool),
    async exec(sql) {
      try {
        await pool.query(sql);
      } catch (error) {
        coded(error);
      }
    },
    async transaction(fn) {
      const client = await pool.connect().catch(coded);
      let broken: Error | undefined;
      // A checked-out client has no listener of the pool's: a connection lost between two statements
      // (a restart, pg_terminate_backend) would be an uncaught 'error' that ends the process (or the
      // executor worker). Its next statement fails coded instead, and the client goes back destroyed.
      const lost = (error: Error) => {
        broken = error;
      };
      client.on("error", lost);
      try {
        await client.query("begin");
        const result = await fn(asQueryable(client));
        await client.query("commit");
        return result;
      } catch (error) {
        // A connection that failed goes back destroyed, not into the pool.
        if (isConnectionError(error) || isConnectionError((error as Error).cause)) broken = error as Error;
        else await client.query("rollback").catch(() => {});
        return coded(error);
      } finally {
        client.removeListener("error", lost);
        client.release(broken);
      }
    },
    async notify(channel, payload) {
      try {
        await pool.query("select pg_notify($1, $2)", [channel, payload]);
      } catch (error) {
        coded(error);
      }
    },
    close: () => pool.end(),
  };
}

export async function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<Db> {
  const pool = postgresPool(connectionString, options.poolSize ?? 10);
  await pool.query("select 1").catch(async (error: unknown) => {
    await pool.close().catch(() => {});
    throw (error as Error).cause ?? error;
  });
  const pingMs = options.pingMs ?? 15_000;
  const answerMs = Math.round((pingMs * 2) / 3);
  const minMs = options.reconnectMinMs ?? 100;
  const maxMs = options.reconnectMaxMs ?? 5_000;
  const handlers = new Map<string, Set<(payload: string) => void>>();
  const reconnectHandlers = new Set<() => void>();
  let listener: pg.Client | undefined;
  let listening = false;
  let lastError: string | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let connecting: Promise<void> | undefined;

  const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

  /** Opens the LISTEN connection and subscribes every channel; throws when the database is away. */
  async function connectListener(): Promise<void> {
    const client = new pg.Client({
      connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      ...(options.applicationName !== undefined && { application_name: options.applicationName }),
    });
    let lost = false;
    let pingTimer: NodeJS.Timeout | undefined;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      clearTimeout(pingTimer);
      // First, in the turn that hears of it: what the session held (a lock) is gone.
      options.session?.lost();
      client.removeAllListeners("notification");
      // Keep an error handler: a late 'error' from this dead client must not crash the process.
      client.on("error", () => {});
      client.end().catch(() => {});
      if (listener === client) listener = undefined;
      if (closed) return;
      if (listening) {
        listening = false;
        lastError = error instanceof Error ? error.message : "connection ended";
        options.onStateChange?.("down", error);
      }
      scheduleReconnect();
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? "");
    });
    try {
      await client.connect();
      // PostgreSQL drops this session ~60 s after the network goes silent (TCP; ignored on a Unix socket),
      // later than the ping below gives up on it here.
      await client.query("set tcp_keepalives_idle = 30; set tcp_keepalives_interval = 10; set tcp_keepalives_count = 3");
      for (const channel of handlers.keys()) await client.query(`listen ${quoteIdent(channel)}`);
      if (options.session) {
        await options.session.connected({
          query: async (sql, params) => (await client.query(typeof sql === "string" ? sql : sql.text, params as unknown[])).rows,
          drop: (error) => onLost(error),
        });
      }
    } catch (error) {
      onLost(error);
      if (!listening) lastError = error instanceof Error ? error.message : String(error);
      throw error;
    }
    if (lost) throw new Error("the LISTEN connection was lost while subscribing");
    listener = client;
    const ping = () => {
      pingTimer = setTimeout(() => {
        const deadline = setTimeout(() => onLost(new Error(`no answer to a ping within ${answerMs} ms`)), answerMs);
        deadline.unref();
        client.query("select 1").then(
          () => {
            clearTimeout(deadline);
            if (!lost) ping();
          },
          // A failed ping (cancelled, a statement_timeout, the session stuck in an aborted transaction,
          // which would also hold back notifications) leaves the session in a state nothing here checks:
          // lost, like an unanswered one, so the lock is taken again on a fresh connection. Keeping on
          // pinging would trust a session that just proved it is not answering as it should.
          (error: unknown) => {
            clearTimeout(deadline);
            onLost(error);
          },
        );
      }, pingMs);
      pingTimer.unref();
    };
    ping();
  }

  /** Listening again: in the same turn as the reconnect handlers, so no cache serves what it may have missed in between. */
  function markListening(): void {
    listening = true;
    lastError = undefined;
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer || connecting) return;
    // Capped exponential backoff with jitter: many nodes do not reconnect in lockstep.
    const delay = Math.min(maxMs, minMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connecting = connectListener().then(
        () => {
          connecting = undefined;
          // Lost again before this turn: onLost could not schedule a retry while connecting.
          if (!listener) return scheduleReconnect();
          attempt = 0;
          markListening();
          options.onStateChange?.("up");
          for (const handler of reconnectHandlers) handler();
        },
        () => {
          connecting = undefined;
          scheduleReconnect();
        },
      );
    }, delay);
    retryTimer.unref();
  }

  try {
    await connectListener();
  } catch (error) {
    // Nothing to retry for: the caller reports the error (e.g. DATABASE_OWNED) and gives up.
    closed = true;
    if (retryTimer) clearTimeout(retryTimer);
    await pool.close().catch(() => {});
    throw error;
  }
  markListening();

  return {
    kind: "postgres",
    query: (sql, params) => pool.query(sql, params),
    exec: (sql) => pool.exec(sql),
    transaction: (fn) => pool.transaction(fn),
    async listen(channel, onPayload) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        // While the connection is away, the reconnect subscribes every channel.
        if (listener) await listener.query(`listen ${quoteIdent(channel)}`).catch(() => {});
      }
      set.add(onPayload);
      return async () => {
        set.delete(onPayload);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          await listener?.query(`unlisten ${quoteIdent(channel)}`).catch(() => {});
        }
      };
    },
    notify: (channel, payload) => pool.notify(channel, payload),
    onReconnect(handler) {
      reconnectHandlers.add(handler);
      return () => {
        reconnectHandlers.delete(handler);
      };
    },
    health(): DbHealth {
      return { listening, ...(lastError && { error: lastError }) };
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await connecting?.catch(() => {});
      const client = listener;
      listener = undefined;
      listening = false;
      await client?.end().catch(() => {});
      await pool.close();
    },
  };
}
