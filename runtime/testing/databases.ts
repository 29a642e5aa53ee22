// Test databases: every storage test runs once on PGlite and once on a real Postgres, each test
// file on its own fresh database (dropped afterwards).
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Db } from "../store/db.js";
import { openDatabase } from "../store/open-db.js";

export const POSTGRES_ADMIN_URL = process.env.PICLOUD_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  readonly url: string | undefined;
  open(): Promise<Db>;
  drop(): Promise<void>;
}

export type Backend = "pglite" | "postgres";
export const BACKENDS: readonly Backend[] = ["pglite", "postgres"];

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new, empty Postgres database; `drop()` removes it. `prefix` names whose it is on a shared server. */
export async function createPostgresDatabase(prefix = "picloud_test"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

export async function testDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === "pglite") {
    return { url: undefined, open: () => openDatabase({ pgliteLocation: "memory://" }), drop: async () => {} };
  }
  const created = await createPostgresDatabase();
  return { url: created.url, open: () => openDatabase({ databaseUrl: created.url, pgliteLocation: "" }), drop: created.drop };
}
