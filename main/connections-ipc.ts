// Remote connections kept by the main process: name, URL and a token encrypted with safeStorage
// (plain text only where the OS has no key store, and then the UI says so). Every handler first
// checks that the control panel's top frame sent the request: tokens go to nobody else.
import { randomUUID } from "node:crypto";
import { type IpcMainInvokeEvent, ipcMain, safeStorage } from "electron";
import { checkRemote } from "./connection-check.js";
import { readConnectionsFile, writeConnectionsFile } from "./connections-file.js";
import { validateId, validateNewConnection, validateUrlAndToken } from "./connection-validation.js";
import { type ConnectionInfo, IPC } from "./ipc-contract.js";
import { isTrustedSender, UntrustedSenderError } from "./window-security.js";

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

/** Registers the handlers; returns the saved remotes' URLs as the window's CSP needs them (read afresh each time). */
export function registerConnectionsIpc(deps: ConnectionsIpcDeps): () => string[] {
  // A corrupt file throws here (and so fails the call) instead of reading as empty.
  const read = (): StoredConnection[] => readConnectionsFile<StoredConnection>(deps.file);
  const write = (connections: StoredConnection[]) => writeConnectionsFile(deps.file, connections);
  const local: ConnectionInfo = { id: "local", name: "This computer", url: deps.local.url, kind: "local" };
  const uiOrigin = new URL(deps.local.url).origin;
  const handle = (channel: string, fn: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown) =>
    ipcMain.handle(channel, (event, ...args) => {
      if (!isTrustedSender(event.senderFrame, uiOrigin)) throw new UntrustedSenderError(channel, event.senderFrame?.url);
      return fn(event, ...args);
    });

  handle(IPC.storage, () => (encryptionIsReal() ? "encrypted" : "plain"));
  handle(IPC.list, () => [local, ...read().map(({ secret: _secret, encrypted: _encrypted, ...info }) => info)]);
  handle(IPC.token, (_event, rawId: unknown) => {
    const id = validateId(rawId);
    if (id === "local") return deps.local.token;
    const stored = read().find((c) => c.id === id);
    if (!stored) return undefined;
    return stored.encrypted ? safeStorage.decryptString(Buffer.from(stored.secret, "base64")) : stored.secret;
  });
  handle(IPC.check, (_event, raw: unknown) => {
    const { url, token } = validateUrlAndToken(raw);
    return checkRemote(url, token);
  });
  handle(IPC.save, (_event, raw: unknown) => {
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
  handle(IPC.remove, (_event, rawId: unknown) => {
    const id = validateId(rawId);
    write(read().filter((c) => c.id !== id));
  });
  return () => read().map((c) => c.url);
}
