// Picks the storage implementation from the configuration and brings its schema up to date.
import path from "node:path";
import type { Db } from "./db.js";
import { migrate } from "./migrate.js";
import { openPglite } from "./pglite/index.js";
import { openPostgres } from "./postgres/index.js";

export interface OpenDbOptions {
  readonly databaseUrl?: string | undefined;
  /** PGlite location: a directory, or "memory://". */
  readonly pgliteLocation: string;
}

export async function openDatabase(options: OpenDbOptions): Promise<Db> {
  const db = options.databaseUrl ? await openPostgres(options.databaseUrl) : await openPglite(options.pgliteLocation);
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return db;
}

export function pgliteDirectory(dataDir: string): string {
  return path.join(dataDir, "pgdata");
}
