// The check of a remote runtime before it is saved, made by the main process: the window's CSP lets
// the renderer reach only the runtimes already saved, so the first contact with a new URL is made here.
// Plain fetch: the main bundle carries no dependency but Electron (the runtime's client is not in it).
import type { ConnectionCheck } from "./ipc-contract.js";

const TIMEOUT_MS = 10_000;

/** Lists the runtime's apps with the token, as the renderer would first; the answer is plain data for IPC. */
export async function checkRemote(url: string, token: string): Promise<ConnectionCheck> {
  let response: Response;
  try {
    response = await fetch(`${url}/api/v1/apps`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    return { ok: false, status: 0, code: "UNREACHABLE", message: `Cannot reach ${url}. Is the runtime running and the URL right?` };
  }
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } } | undefined;
  if (response.ok && body && !body.error) return { ok: true };
  const { code, message } = body?.error ?? {};
  if (typeof code === "string" && typeof message === "string") return { ok: false, status: response.status, code, message };
  return {
    ok: false,
    status: response.status,
    code: "BAD_RESPONSE",
    message: `${url} did not answer like a PiCloud runtime (HTTP ${response.status}).`,
  };
}
