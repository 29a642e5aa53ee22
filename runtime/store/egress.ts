// Per-app egress patterns: which private or named destinations the app's fetch may reach.
import type { Db } from "./db.js";

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
}
