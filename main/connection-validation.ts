// Checks on what the renderer sends over IPC: the main process trusts nothing it receives.
import type { NewConnection } from "./ipc-contract.js";

export class InvalidIpcInput extends Error {}

export function validateNewConnection(input: unknown): NewConnection {
  if (!input || typeof input !== "object") throw new InvalidIpcInput("Expected a connection object.");
  const { name } = input as Record<string, unknown>;
  if (typeof name !== "string" || name.trim().length === 0 || name.length > 100)
    throw new InvalidIpcInput("The name must be 1-100 characters.");
  return { name: name.trim(), ...validateUrlAndToken(input) };
}

/** The URL (normalised: origin and path, no trailing slash) and token of a connection to save or check. */
export function validateUrlAndToken(input: unknown): { url: string; token: string } {
  if (!input || typeof input !== "object") throw new InvalidIpcInput("Expected a connection object.");
  const { url, token } = input as Record<string, unknown>;
  if (typeof token !== "string" || token.length < 16 || token.length > 512 || /\s/.test(token))
    throw new InvalidIpcInput("The token must be 16-512 characters without spaces.");
  if (typeof url !== "string") throw new InvalidIpcInput("The URL must be a string.");
  const problem = connectionUrlProblem(url);
  if (problem) throw new InvalidIpcInput(problem);
  const parsed = new URL(url.trim());
  return { url: parsed.origin + parsed.pathname.replace(/\/+$/, ""), token };
}

export function validateId(input: unknown): string {
  if (typeof input !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(input)) throw new InvalidIpcInput("Invalid connection id.");
  return input;
}

/** What is wrong with a runtime URL, in words for the user; undefined when it is fine. Shared with the renderer's form. */
export function connectionUrlProblem(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url.trim())) return "The URL must start with http:// or https://.";
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return `'${url}' is not a URL.`;
  }
  if (parsed.username || parsed.password) return "Put the token in the token field, not in the URL.";
  return undefined;
}
