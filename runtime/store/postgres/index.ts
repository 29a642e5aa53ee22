// External PostgreSQL through a `pg` connection pool.
import pg from "pg";
import type { Db, Queryable, Row } from "../db.js";

export async function openPostgres(connectionString: string, options: { poolSize?: number } = {}): Promise<Db> {
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  await pool.query("select 1");
  let listener: pg.PoolClient | undefined;
  const handlers = new Map<string, Set<(payload: string) => void>>();

  const asQueryable = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends Row>(sql: string, params?: readonly unknown[]) {
      const result = await client.query<R>(sql, params as unknown[] | undefined);
      return result.rows;
    },
  });

  async function listenerClient(): Promise<pg.PoolClient> {
    if (listener) return listener;
    const client = await pool.connect();
    client.on("notification", (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? "");
    });
    listener = client;
    return client;
  }

  const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

  return {
    kind: "postgres",
    ...asQueryable(pool),
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await fn(asQueryable(client));
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(channel, onPayload) {
      const client = await listenerClient();
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await client.query(`listen ${quoteIdent(channel)}`);
      }
      set.add(onPayload);
      return async () => {
        set.delete(onPayload);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          await client.query(`unlisten ${quoteIdent(channel)}`).catch(() => {});
        }
      };
    },
    async notify(channel, payload) {
      await pool.query("select pg_notify($1, $2)", [channel, payload]);
    },
    async close() {
      listener?.release();
      listener = undefined;
      await pool.end();
    },
  };
}
