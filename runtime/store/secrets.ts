// Per-app secrets: names in clear, values sealed (shared/secret-box.ts). Nothing here returns a value
// to the admin API: `list` gives names and update times; `valuesFor` serves the invoker only.
import { PiCloudError } from "../shared/errors.js";
import type { SecretBox } from "../shared/secret-box.js";
import type { Db } from "./db.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_SECRET_BYTES = 64 * 1024;

export interface SecretInfo {
  readonly name: string;
  readonly updatedAt: string;
}

export function assertSecretName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new PiCloudError("SECRET_INVALID_NAME", "Secret names are 1-64 letters, digits and '_', not starting with a digit.");
  }
}

export class SecretStore {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox | undefined,
  ) {}

  private sealer(): SecretBox {
    if (!this.box) throw new PiCloudError("SECRETS_KEY_MISSING");
    return this.box;
  }

  async list(app: string): Promise<SecretInfo[]> {
    const rows = await this.db.query<{ name: string; updated_at: Date }>(
      "select name, updated_at from app_secrets where app_id = $1 order by name",
      [app],
    );
    return rows.map((r) => ({ name: r.name, updatedAt: r.updated_at.toISOString() }));
  }

  async set(app: string, name: string, value: string): Promise<SecretInfo> {
    assertSecretName(name);
    if (typeof value !== "string" || value.length === 0 || Buffer.byteLength(value) > MAX_SECRET_BYTES) {
      throw new PiCloudError("SECRET_INVALID_VALUE");
    }
    const sealed = this.sealer().seal(app, name, value);
    const [row] = await this.db.query<{ updated_at: Date }>(
      `insert into app_secrets (app_id, name, sealed) values ($1, $2, $3)
       on conflict (app_id, name) do update set sealed = excluded.sealed, updated_at = now()
       returning updated_at`,
      [app, name, sealed],
    );
    return { name, updatedAt: (row?.updated_at ?? new Date()).toISOString() };
  }

  async delete(app: string, name: string): Promise<boolean> {
    const rows = await this.db.query("delete from app_secrets where app_id = $1 and name = $2 returning name", [app, name]);
    return rows.length > 0;
  }

  /** Decrypted values of one app, for its invocations only. */
  async valuesFor(app: string): Promise<Record<string, string>> {
    const rows = await this.db.query<{ name: string; sealed: string }>("select name, sealed from app_secrets where app_id = $1", [app]);
    const values: Record<string, string> = {};
    if (rows.length === 0) return values;
    const box = this.sealer();
    for (const row of rows) values[row.name] = box.open(app, row.name, row.sealed);
    return values;
  }

  /** Re-seals every value sealed with `old` under the current key (key rotation at start). Returns how many. */
  async reseal(old: SecretBox): Promise<number> {
    const box = this.sealer();
    const rows = await this.db.query<{ app_id: string; name: string; sealed: string }>("select app_id, name, sealed from app_secrets");
    let count = 0;
    for (const row of rows) {
      if (row.sealed.split(":")[1] !== old.keyId) continue;
      const value = old.open(row.app_id, row.name, row.sealed);
      await this.db.query("update app_secrets set sealed = $3 where app_id = $1 and name = $2", [
        row.app_id,
        row.name,
        box.seal(row.app_id, row.name, value),
      ]);
      count++;
    }
    return count;
  }
}
