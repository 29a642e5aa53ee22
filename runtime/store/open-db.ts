// Picks the storage implementation from the configuration and checks (or brings up to date) its schema.
// Only a manager (or `serve`) migrates; a node waits for the manager to do so, which makes a rolling
// upgrade "manager first, then nodes". Nobody runs on a schema newer than it knows.
import path from "node:path";
import { PiCloudError } from "../shared/errors.js";
import type { Db } from "./db.js";
import { migrate, schemaState } from "./migrate.js";
import { openPglite } from "./pglite/index.js";
import { openPostgres, type PostgresOptions } from "./postgres/index.js";

export interface OpenDbOptions {
  readonly databaseUrl?: string | undefined;
  /** PGlite location: a directory, or "memory://". */
  readonly pgliteLocation: string;
  /** "apply" (manager, serve; the default) or "wait" until another process has applied them (node). */
  readonly migrations?: "apply" | "wait";
  /** Told while waiting for an older schema to be migrated. */
  readonly onWaiting?: (state: { applied: number; needed: number }) => void;
  readonly postgres?: PostgresOptions;
  /** How often a waiting node looks again. */
  readonly waitIntervalMs?: number;
}

export async function openDatabase(options: OpenDbOptions): Promise<Db> {
  const db = options.databaseUrl ? await openPostgres(options.databaseUrl, options.postgres) : await openPglite(options.pgliteLocation);
  try {
    if (options.migrations === "wait") await waitForSchema(db, options);
    else {
      // Up to date (every start but the first after an upgrade): no DDL and no locking transaction.
      const state = await refuseNewer(db);
      if (state.missing > 0) await migrate(db);
    }
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return db;
}

async function refuseNewer(db: Db): Promise<{ applied: number; needed: number; missing: number }> {
  const state = await schemaState(db);
  if (state.unknown.length > 0) {
    throw new PiCloudError(
      "SCHEMA_TOO_NEW",
      `The database has schema version ${Math.max(...state.unknown)}, newer than this PiCloud knows (${state.needed}). Upgrade this process (upgrade the manager first, then the nodes).`,
    );
  }
  return { applied: state.applied, needed: state.needed, missing: state.missing.length };
}

async function waitForSchema(db: Db, options: OpenDbOptions): Promise<void> {
  for (;;) {
    const state = await refuseNewer(db);
    if (state.missing === 0) return;
    options.onWaiting?.({ applied: state.applied, needed: state.needed });
    await new Promise((resolve) => setTimeout(resolve, options.waitIntervalMs ?? 2_000));
  }
}

export function pgliteDirectory(dataDir: string): string {
  return path.join(dataDir, "pgdata");
}
