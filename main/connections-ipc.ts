// Remote connections kept by the main process: name, URL and a token encrypted with safeStorage
// (plain text only where the OS has no key store, and then the UI says so).
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { ipcMain, safeStorage } from "electron";
import { validateId, validateNewConnection } from "./connection-validation.js";
import { type ConnectionInfo, IPC } from "./ipc-contract.js";

interface StoredConnection extends ConnectionInfo {
  readonly secret: string;
  readonly encrypted: boolean;
}

export interface ConnectionsIpcDeps {
  readonly file: string;
  readonly local: { readonly url: string; readonly token: string };
}

/**
 * Whether secrets are really encrypted: on Linux without a keyring, Electron falls back to a
 * "basic_text" backend that reports encryption as available but protects nothing.
 */
export function encryptionIsReal(): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  const backend = (safeStorage as { getSelectedStorageBackend?: () => string }).getSelectedStorageBackend?.();
  return backend !== "basic_text";
}

export function registerConnectionsIpc(deps: ConnectionsIpcDeps): void {
  const read = (): StoredConnection[] => {
    try {
      return JSON.parse(readFileSync(deps.file, "utf8")) as StoredConnection[];
    } catch {
      return [];
    }
  };
  const write = (connections: StoredConnection[]) => writeFileSync(deps.file, JSON.stringify(connections, null, 2), { mode: 0o600 });
  const local: ConnectionInfo = { id: "local", name: "This computer", url: deps.local.url, kind: "local" };

  ipcMain.handle(IPC.storage, () => (encryptionIsReal() ? "encrypted" : "plain"));
  ipcMain.handle(IPC.list, () => [local, ...read().map(({ secret: _secret, encrypted: _encrypted, ...info }) => info)]);
  ipcMain.handle(IPC.token, (_event, rawId: unknown) => {
    const id = validateId(rawId);
    if (id === "local") return deps.local.token;
    const stored = read().find((c) => c.id === id);
    if (!stored) return undefined;
    return stored.encrypted ? safeStorage.decryptString(Buffer.from(stored.secret, "base64")) : stored.secret;
  });
  ipcMain.handle(IPC.save, (_event, raw: unknown) => {
    const input = validateNewConnection(raw);
    const encrypted = safeStorage.isEncryptionAvailable();
    const stored: StoredConnection = {
      id: randomUUID(),
      name: input.name,
      url: input.url,
      kind: "remote",
      encrypted,
      secret: encrypted ? safeStorage.encryptString(input.token).toString("base64") : input.token,
    };
    write([...read(), stored]);
    const { secret: _secret, encrypted: _encrypted, ...info } = stored;
    return info;
  });
  ipcMain.handle(IPC.remove, (_event, rawId: unknown) => {
    const id = validateId(rawId);
    write(read().filter((c) => c.id !== id));
  });
}
