// What schema a data-dir template holds: each migration it applied, by version, with a digest of its
// name and SQL. The build applies every migration to the template, so a first start migrates nothing
// (the DDL would otherwise grow PGlite's WASM memory by ~120 MiB, held for the life of the process, and
// cost ~1.5 s of CPU). A template is only used when each migration it holds is one this code knows, SQL
// and all; the migrations it lacks are applied at start as on any older database.
import { createHash } from "node:crypto";
import { MIGRATIONS, type Migration } from "../migrations/index.js";

/** version -> digest of the migration's name and SQL. */
export type TemplateSchema = Record<string, string>;

export function templateSchema(migrations: readonly Migration[] = MIGRATIONS): TemplateSchema {
  return Object.fromEntries(
    migrations.map((m) => [String(m.version), createHash("sha256").update(`${m.name}\n${m.sql}`).digest("hex").slice(0, 16)]),
  );
}

/** Whether a template built with `held` can start a database of this code: none of its migrations unknown or changed. */
export function templateSchemaFits(held: TemplateSchema | undefined, migrations: readonly Migration[] = MIGRATIONS): boolean {
  if (!held) return false;
  const known = templateSchema(migrations);
  return Object.entries(held).every(([version, digest]) => known[version] === digest);
}
