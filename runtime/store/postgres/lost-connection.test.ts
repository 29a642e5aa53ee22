// A connection lost in the middle of a transaction, between two of its statements (Postgres
// restarted, pg_terminate_backend): the transaction fails with DATABASE_UNAVAILABLE, the process
// lives on (no uncaught 'error' from the checked-out client), and the pool serves the next call.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createPostgresDatabase } from "../../testing/databases.js";
import { type PostgresPool, postgresPool } from "./index.js";

let created: { url: string; drop: () => Promise<void> };
let pool: PostgresPool;
beforeAll(async () => {
  created = await createPostgresDatabase();
  pool = postgresPool(created.url, 2);
});
afterAll(async () => {
  await pool?.close();
  await created?.drop();
});

it("a transaction whose connection is terminated between statements fails coded, and the pool carries on", async () => {
  const transaction = pool.transaction(async (tx) => {
    const [own] = await tx.query<{ pid: number }>("select pg_backend_pid() as pid");
    // From the pool's other connection, while this one is checked out and idle.
    await pool.query("select pg_terminate_backend($1)", [own?.pid]);
    // The backend's goodbye arrives while no statement is running on this connection.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await tx.query("select 1");
  });
  await expect(transaction).rejects.toMatchObject({ code: "DATABASE_UNAVAILABLE" });
  expect(await pool.query<{ n: number }>("select 1 as n")).toEqual([{ n: 1 }]);
  expect(await pool.transaction(async (tx) => tx.query<{ n: number }>("select 2 as n"))).toEqual([{ n: 2 }]);
});
