// Checks on what the renderer sends over IPC: the main process trusts nothing it receives.
import type { NewConnection } from "./ipc-contract.js";

export class InvalidIpcInput extends Error {}

export function validateNewConnection(input: unknown): NewConnection {
  if (!input || typeof input !== "object") throw new InvalidIpcInput("Expected a connection object.");
  const { name, url, token } = input as Record<string, unknown>;
  if (typeof name !== "string" || name.trim().length === 0 || name.length > 100)
    throw new InvalidIpcInput("The name must be 1-100 characters.");
  if (typeof token !== "string" || token.length < 16 || token.length > 512 || /\s/.test(token))
    throw new InvalidIpcInput("The token must be 16-512 characters without spaces.");
  if (typeof url !== "string") throw new InvalidIpcInput("The URL must be a string.");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidIpcInput(`'${url}' is not a URL.`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new InvalidIpcInput("The URL must start with http:// or https://.");
  if (parsed.username || parsed.password) throw new InvalidIpcInput("Put the token in the token field, not in the URL.");
  return { name: name.trim(), url: parsed.origin + parsed.pathname.replace(/\/+$/, ""), token };
}

export function validateId(input: unknown): string {
  if (typeof input !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(input)) throw new InvalidIpcInput("Invalid connection id.");
  return input;
}
