// Admin tokens: shown once at creation, stored only as SHA-256 hashes (they are 256-bit random,
// so a slow password hash would add latency without adding security).
import { createHash, randomBytes } from "node:crypto";
import { newId } from "../shared/ids.js";
import type { Db } from "./db.js";

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

interface TokenRow extends Record<string, unknown> {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function generateToken(): string {
  return `pc_${randomBytes(32).toString("base64url")}`;
}

export class TokenStore {
  constructor(private readonly db: Db) {}

  /** Creates a token and returns its only plain-text copy. */
  async create(name: string, token: string = generateToken()): Promise<{ token: string; info: TokenInfo }> {
    const rows = await this.db.query<TokenRow>("insert into admin_tokens (id, name, hash) values ($1, $2, $3) returning *", [
      newId(),
      name,
      hashToken(token),
    ]);
    return { token, info: toInfo(rows[0] as TokenRow) };
  }

  /** Stores a token given from outside (PICLOUD_ADMIN_TOKEN) unless it is already known. */
  async ensure(name: string, token: string): Promise<void> {
    await this.db.query("insert into admin_tokens (id, name, hash) values ($1, $2, $3) on conflict (hash) do nothing", [
      newId(),
      name,
      hashToken(token),
    ]);
  }

  async count(): Promise<number> {
    const rows = await this.db.query<{ n: number }>("select count(*)::int as n from admin_tokens");
    return rows[0]?.n ?? 0;
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.db.query<TokenRow>("select id, name, created_at, last_used_at from admin_tokens order by created_at")).map(toInfo);
  }

  /** Returns the token's id when the hash is known. */
  async verify(token: string): Promise<string | undefined> {
    const rows = await this.db.query<{ id: string }>("update admin_tokens set last_used_at = now() where hash = $1 returning id", [
      hashToken(token),
    ]);
    return rows[0]?.id;
  }

  /**
   * Deletes a token unless it is the last one: with none left nobody could sign in until a restart
   * with PICLOUD_ADMIN_TOKEN. The table lock makes two concurrent revocations of the last two
   * tokens take turns, so one of them sees it would remove the last.
   */
  async revoke(id: string): Promise<"revoked" | "missing" | "last"> {
    return this.db.transaction(async (tx) => {
      await tx.query("lock table admin_tokens in share row exclusive mode");
      const rows = await tx.query<{ n: number; present: boolean }>(
        "select count(*)::int as n, bool_or(id = $1) as present from admin_tokens",
        [id],
      );
      const { n = 0, present = false } = rows[0] ?? {};
      if (!present) return "missing";
      if (n <= 1) return "last";
      await tx.query("delete from admin_tokens where id = $1", [id]);
      return "revoked";
    });
  }
}
