// Apps are tenants: every script, KV entry and invocation belongs to exactly one.
import { Type, type Static } from "typebox";
import { PiCloudError } from "../shared/errors.js";
import { LimitsOverrideSchema } from "../shared/limits.js";
import type { Db } from "./db.js";

export const AppSettingsSchema = Type.Object(
  {
    /** A fresh sandbox instance for every invocation instead of warm reuse. */
    strict: Type.Optional(Type.Boolean()),
    limits: Type.Optional(LimitsOverrideSchema),
    /** When set, script endpoints require this key in the `x-picloud-app-key` header. */
    appKey: Type.Optional(Type.Union([Type.String({ minLength: 16, maxLength: 256, pattern: "^[\\x21-\\x7e]+$" }), Type.Null()])),
    /**
     * Share (0..1) of successful HTTP runs without console output that are stored as full invocation
     * records; every run is counted in the per-minute aggregates regardless. Default 0.01.
     */
    recordSampleRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /**
     * Script responses are sandboxed in browsers (`content-security-policy: sandbox`, no cookies)
     * so tenant HTML cannot act on the dashboard's origin. `false` opts out: only for an app as
     * trusted as the admin (see docs/security.md).
     */
    browserSandbox: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AppSettings = Static<typeof AppSettingsSchema>;

export interface App {
  readonly id: string;
  readonly settings: AppSettings;
  readonly createdAt: string;
}

interface AppRow extends Record<string, unknown> {
  id: string;
  settings: AppSettings;
  created_at: Date;
}

const toApp = (r: AppRow): App => ({ id: r.id, settings: r.settings, createdAt: r.created_at.toISOString() });

export class AppStore {
  constructor(private readonly db: Db) {}

  async create(id: string, settings: AppSettings = {}): Promise<App> {
    const rows = await this.db.query<AppRow>(
      "insert into apps (id, settings) values ($1, $2::jsonb) on conflict (id) do nothing returning *",
      [id, JSON.stringify(settings)],
    );
    const row = rows[0];
    if (!row) throw new PiCloudError("APP_EXISTS", `An app named '${id}' already exists.`);
    return toApp(row);
  }

  async list(): Promise<App[]> {
    return (await this.db.query<AppRow>("select * from apps order by id")).map(toApp);
  }

  async get(id: string): Promise<App | undefined> {
    const rows = await this.db.query<AppRow>("select * from apps where id = $1", [id]);
    return rows[0] && toApp(rows[0]);
  }

  async require(id: string): Promise<App> {
    const app = await this.get(id);
    if (!app) throw new PiCloudError("APP_NOT_FOUND", `No app named '${id}'.`);
    return app;
  }

  async updateSettings(id: string, settings: AppSettings): Promise<App> {
    const rows = await this.db.query<AppRow>("update apps set settings = $2::jsonb where id = $1 returning *", [
      id,
      JSON.stringify(settings),
    ]);
    if (!rows[0]) throw new PiCloudError("APP_NOT_FOUND", `No app named '${id}'.`);
    return toApp(rows[0]);
  }

  /** Deletes the app with its scripts, versions, data and invocation records. */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query("delete from apps where id = $1 returning id", [id]);
      for (const table of ["invocations", "invocation_stats", "events", "dead_letters"])
        await tx.query(`delete from ${table} where app_id = $1`, [id]);
      return rows.length > 0;
    });
  }
}
