// Applies pending migrations in order, each in its own transaction, recording them in a version table.
// An advisory lock makes concurrent starts against one Postgres safe.
import type { Db } from "./db.js";
import { MIGRATIONS, type Migration } from "./migrations/index.js";

const MIGRATION_LOCK_KEY = 7_340_812; // arbitrary, stable: "picloud migrations"

export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(`create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    applied_at timestamptz not null default now()
  )`);
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    const rows = await tx.query<{ version: number }>("select version from schema_migrations");
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("insert into schema_migrations (version, name) values ($1, $2)", [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}

/** Our migrations contain no ';' inside literals; a function body is dollar-quoted ($$ ... $$) and kept whole. */
function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  sql.split("$$").forEach((part, i) => {
    if (i % 2 === 1) {
      current += `$$${part}$$`;
      return;
    }
    const pieces = part.split(";");
    current += pieces[0];
    for (const piece of pieces.slice(1)) {
      statements.push(current);
      current = piece;
    }
  });
  statements.push(current);
  return statements.map((s) => s.trim()).filter((s) => s.length > 0);
}

export interface SchemaState {
  /** Highest version applied (0 on an empty database). */
  readonly applied: number;
  /** Highest version this code knows. */
  readonly needed: number;
  /** Known versions not applied yet. */
  readonly missing: number[];
  /** Applied versions this code does not know: a newer PiCloud migrated this database. */
  readonly unknown: number[];
}

export async function schemaState(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<SchemaState> {
  const exists = await db.query<{ present: boolean }>("select to_regclass('schema_migrations') is not null as present");
  const rows = exists[0]?.present ? await db.query<{ version: number }>("select version from schema_migrations") : [];
  const applied = new Set(rows.map((r) => Number(r.version)));
  const known = new Set(migrations.map((m) => m.version));
  return {
    applied: Math.max(0, ...applied),
    needed: Math.max(0, ...known),
    missing: [...known].filter((v) => !applied.has(v)),
    unknown: [...applied].filter((v) => !known.has(v)),
  };
}
