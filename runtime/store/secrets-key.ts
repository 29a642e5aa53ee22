// Where the secrets key comes from, in order: PICLOUD_SECRETS_KEY, PICLOUD_SECRETS_KEY_FILE, then (for
// the embedded database) `secrets.key` in the data directory, created on first start with mode 0600.
// A cluster on Postgres must configure a key (every node the same); without one, secrets are unavailable.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseSecretsKey, SecretBox } from "../shared/secret-box.js";

export interface SecretsKeySource {
  readonly secretsKey?: string | undefined;
  readonly secretsKeyFile?: string | undefined;
  readonly secretsOldKey?: string | undefined;
  /** The data directory when the embedded database lives there; undefined for Postgres. */
  readonly dataDir?: string | undefined;
  /** No data directory at all (in-memory PGlite in tests): an ephemeral key. */
  readonly ephemeral?: boolean;
}

export const SECRETS_KEY_FILE = "secrets.key";

export function loadSecretBoxes(source: SecretsKeySource): { current: SecretBox | undefined; old: SecretBox | undefined } {
  const old = source.secretsOldKey ? new SecretBox(parseSecretsKey(source.secretsOldKey)) : undefined;
  if (source.secretsKey) return { current: new SecretBox(parseSecretsKey(source.secretsKey)), old };
  if (source.secretsKeyFile) return { current: new SecretBox(parseSecretsKey(readFileSync(source.secretsKeyFile, "utf8"))), old };
  if (source.dataDir) {
    const file = path.join(source.dataDir, SECRETS_KEY_FILE);
    if (!existsSync(file)) {
      // Written whole and renamed into place, so a crash never leaves a truncated key behind.
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
      renameSync(temp, file);
    }
    return { current: new SecretBox(parseSecretsKey(readFileSync(file, "utf8"))), old };
  }
  return { current: source.ephemeral ? new SecretBox(randomBytes(32)) : undefined, old };
}
