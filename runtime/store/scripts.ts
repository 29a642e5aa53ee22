// Scripts and their immutable versions. Deploying or restoring always appends a version.
import { type Static, Type } from "typebox";
import { PiCloudError } from "../shared/errors.js";
import { ScriptLimitsOverrideSchema } from "../shared/limits.js";
import type { Db, Queryable } from "./db.js";

/** A script's own overrides of its app's settings; what it leaves out comes from the app (then the server). */
export const ScriptSettingsSchema = Type.Object(
  {
    /** A fresh sandbox instance for every invocation of this script (overrides the app's `strict`). */
    strict: Type.Optional(Type.Boolean()),
    limits: Type.Optional(ScriptLimitsOverrideSchema),
  },
  { additionalProperties: false },
);
export type ScriptSettings = Static<typeof ScriptSettingsSchema>;

export type ScriptLanguage = "javascript" | "typescript";

export interface ScriptSummary {
  readonly app: string;
  readonly name: string;
  readonly currentVersion: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ScriptVersion {
  readonly app: string;
  readonly name: string;
  readonly version: number;
  readonly language: ScriptLanguage;
  readonly source: string;
  /** What the sandbox runs: the source with TypeScript types stripped. */
  readonly compiled: string;
  readonly restoredFrom: number | null;
  readonly createdAt: string;
}

export interface NewVersion {
  readonly language: ScriptLanguage;
  readonly source: string;
  readonly compiled: string;
  readonly restoredFrom?: number;
}

interface ScriptRow extends Record<string, unknown> {
  app_id: string;
  name: string;
  current_version: number;
  settings: ScriptSettings;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow extends Record<string, unknown> {
  app_id: string;
  script_name: string;
  version: number;
  language: ScriptLanguage;
  source: string;
  compiled: string;
  restored_from: number | null;
  created_at: Date;
}

const toSummary = (r: ScriptRow): ScriptSummary => ({
  app: r.app_id,
  name: r.name,
  currentVersion: r.current_version,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const toVersion = (r: VersionRow): ScriptVersion => ({
  app: r.app_id,
  name: r.script_name,
  version: r.version,
  language: r.language,
  source: r.source,
  compiled: r.compiled,
  restoredFrom: r.restored_from,
  createdAt: r.created_at.toISOString(),
});

export class ScriptStore {
  constructor(private readonly db: Db) {}

  /** Appends a version and makes it current, atomically; the app must exist. */
  async deploy(app: string, name: string, next: NewVersion): Promise<ScriptVersion> {
    return this.db.transaction(async (tx) => {
      const apps = await tx.query("select id from apps where id = $1 for share", [app]);
      if (apps.length === 0) throw new PiCloudError("APP_NOT_FOUND", `No app named '${app}'.`);
      return appendVersion(tx, app, name, next);
    });
  }

  async list(app: string): Promise<ScriptSummary[]> {
    const rows = await this.db.query<ScriptRow>("select * from scripts where app_id = $1 order by name", [app]);
    return rows.map(toSummary);
  }

  /** The current version of a script with the script's settings, or undefined: the ingress lookup. */
  async current(app: string, name: string): Promise<(ScriptVersion & { readonly settings: ScriptSettings }) | undefined> {
    const rows = await this.db.query<VersionRow & { script_settings: ScriptSettings }>(
      `select v.*, s.settings as script_settings from scripts s
       join script_versions v on v.app_id = s.app_id and v.script_name = s.name and v.version = s.current_version
       where s.app_id = $1 and s.name = $2`,
      [app, name],
    );
    return rows[0] && { ...toVersion(rows[0]), settings: rows[0].script_settings };
  }

  /** The script's own settings (empty when it overrides nothing). */
  async settings(app: string, name: string): Promise<ScriptSettings> {
    const rows = await this.db.query<Pick<ScriptRow, "settings">>("select settings from scripts where app_id = $1 and name = $2", [
      app,
      name,
    ]);
    if (!rows[0]) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${name}' in app '${app}'.`);
    return rows[0].settings;
  }

  /** Replaces the script's settings; they stay with the script across deploys and go with it. */
  async updateSettings(app: string, name: string, settings: ScriptSettings): Promise<ScriptSettings> {
    const rows = await this.db.query<Pick<ScriptRow, "settings">>(
      "update scripts set settings = $3::jsonb where app_id = $1 and name = $2 returning settings",
      [app, name, JSON.stringify(settings)],
    );
    if (!rows[0]) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${name}' in app '${app}'.`);
    return rows[0].settings;
  }

  async versions(app: string, name: string): Promise<Omit<ScriptVersion, "source" | "compiled">[]> {
    const rows = await this.db.query<VersionRow>(
      `select app_id, script_name, version, language, restored_from, created_at, '' as source, '' as compiled
       from script_versions where app_id = $1 and script_name = $2 order by version desc`,
      [app, name],
    );
    if (rows.length === 0) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${name}' in app '${app}'.`);
    return rows.map((r) => {
      const { source: _s, compiled: _c, ...meta } = toVersion(r);
      return meta;
    });
  }

  async version(app: string, name: string, version: number): Promise<ScriptVersion> {
    const rows = await this.db.query<VersionRow>("select * from script_versions where app_id = $1 and script_name = $2 and version = $3", [
      app,
      name,
      version,
    ]);
    if (!rows[0]) throw new PiCloudError("VERSION_NOT_FOUND", `Script '${name}' in app '${app}' has no version ${version}.`);
    return toVersion(rows[0]);
  }

  /** Restoring version K appends a new version with K's source, so history stays linear and immutable. */
  async restore(app: string, name: string, version: number): Promise<ScriptVersion> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<VersionRow>("select * from script_versions where app_id = $1 and script_name = $2 and version = $3", [
        app,
        name,
        version,
      ]);
      const old = rows[0];
      if (!old) throw new PiCloudError("VERSION_NOT_FOUND", `Script '${name}' in app '${app}' has no version ${version}.`);
      return appendVersion(tx, app, name, {
        language: old.language,
        source: old.source,
        compiled: old.compiled,
        restoredFrom: version,
      });
    });
  }

  /** Deletes the script with its versions and triggers, and drops its undelivered events. */
  async delete(app: string, name: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query("delete from scripts where app_id = $1 and name = $2 returning name", [app, name]);
      await tx.query("delete from events where app_id = $1 and script_name = $2 and status = 'pending'", [app, name]);
      return rows.length > 0;
    });
  }
}

async function appendVersion(tx: Queryable, app: string, name: string, next: NewVersion): Promise<ScriptVersion> {
  // The row lock on the script serialises concurrent deploys of one script.
  const [script] = await tx.query<ScriptRow>(
    `insert into scripts (app_id, name, current_version) values ($1, $2, 1)
     on conflict (app_id, name) do update set current_version = scripts.current_version + 1, updated_at = now()
     returning *`,
    [app, name],
  );
  if (!script) throw new PiCloudError("INTERNAL", "Upsert returned no script row.");
  const [row] = await tx.query<VersionRow>(
    `insert into script_versions (app_id, script_name, version, language, source, compiled, restored_from)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [app, name, script.current_version, next.language, next.source, next.compiled, next.restoredFrom ?? null],
  );
  if (!row) throw new PiCloudError("INTERNAL", "Insert returned no version row.");
  return toVersion(row);
}
