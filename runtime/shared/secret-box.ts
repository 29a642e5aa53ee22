// Seals secret values with AES-256-GCM. Each sealed value says how it was sealed (format version and
// the key's id), and is bound to its app and name (additional data), so a row copied elsewhere does
// not decrypt. The key never enters the database.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { PiCloudError } from "./errors.js";

export class SecretBox {
  /** First 8 bytes of SHA-256(key), hex: tells which key sealed a value without revealing it. */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new PiCloudError("CONFIG_INVALID", "The secrets key must be 32 bytes (base64 or hex encoded).");
    this.keyId = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  /** "v1:<keyId>:<iv>:<tag>:<ciphertext>", base64 parts. */
  seal(app: string, name: string, value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(`${app}\0${name}`));
    const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    return ["v1", this.keyId, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
  }

  open(app: string, name: string, sealed: string): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split(":");
    if (version !== "v1" || keyId !== this.keyId || !iv || !tag || ciphertext === undefined) {
      throw new PiCloudError("SECRETS_KEY_WRONG", `Secret '${name}' of app '${app}' was sealed with another key (${keyId}).`);
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
      decipher.setAAD(Buffer.from(`${app}\0${name}`));
      decipher.setAuthTag(Buffer.from(tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new PiCloudError("SECRETS_KEY_WRONG", `Secret '${name}' of app '${app}' does not decrypt with the configured key.`);
    }
  }

  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(":")[1];
  }
}

/** A key given as 64 hex characters or base64 of 32 bytes. */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new PiCloudError("CONFIG_INVALID", "The secrets key must be 32 bytes, as 64 hex characters or base64.");
  return key;
}
