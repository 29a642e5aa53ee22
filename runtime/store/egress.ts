// Per-app egress patterns (which private or named destinations the app's fetch may reach) and mode
// (whether the public internet is open besides them).
import type { Db } from "./db.js";

/** `public`: the public internet and the app's patterns (the default); `allowlist`: only the patterns. */
export type EgressMode = "public" | "allowlist";
export const EGRESS_MODES: readonly EgressMode[] = ["public", "allowlist"];

export class EgressStore {
  constructor(private readonly db: Db) {}

  async list(app: string): Promise<{ pattern: string; createdAt: string }[]> {
    const rows = await this.db.query<{ pattern: string; created_at: Date }>(
      "select pattern, created_at from app_egress where app_id = $1 order by pattern",
      [app],
    );
    return rows.map((r) => ({ pattern: r.pattern, createdAt: r.created_at.toISOString() }));
  }

  /** Stores patterns the caller validated and normalised (bindings/fetch/egress-policy.ts); existing ones are kept. */
  async allow(app: string, texts: readonly string[]): Promise<readonly string[]> {
    for (const text of texts) {
      await this.db.query("insert into app_egress (app_id, pattern) values ($1, $2) on conflict do nothing", [app, text]);
    }
    return texts;
  }

  async remove(app: string, pattern: string): Promise<boolean> {
    const text = String(pattern).trim().toLowerCase();
    const rows = await this.db.query("delete from app_egress where app_id = $1 and pattern = $2 returning pattern", [app, text]);
    return rows.length > 0;
  }

  /** The app's mode; `public` when it never set one. */
  async mode(app: string): Promise<EgressMode> {
    const rows = await this.db.query<{ mode: EgressMode }>("select mode from app_egress_mode where app_id = $1", [app]);
    return rows[0]?.mode ?? "public";
  }

  async setMode(app: string, mode: EgressMode): Promise<void> {
    await this.db.query(
      `insert into app_egress_mode (app_id, mode) values ($1, $2)
       on conflict (app_id) do update set mode = excluded.mode, updated_at = now()`,
      [app, mode],
    );
  }
}
