// Where connections live: in the desktop app the main process keeps them (tokens encrypted with
// safeStorage); in a browser, this server is the local connection and remotes are kept in
// localStorage.
import type { ConnectionInfo, NewConnection, PiCloudDesktopApi } from "../../../main/ipc-contract";

declare global {
  interface Window {
    picloud?: PiCloudDesktopApi;
  }
}

export type { ConnectionInfo, NewConnection };

export interface ConnectionStore {
  readonly storage: "encrypted" | "plain" | "browser";
  list(): Promise<ConnectionInfo[]>;
  token(id: string): Promise<string | undefined>;
  save(connection: NewConnection): Promise<ConnectionInfo>;
  remove(id: string): Promise<void>;
  /** Saves a changed remote (e.g. a new token after the old one was revoked); returns its info, whose id may differ. */
  replace(id: string, connection: NewConnection): Promise<ConnectionInfo>;
  /** Browser only: remember the admin token for this server. */
  setLocalToken?(token: string | undefined): void;
}

const LOCAL_ID = "local";
const REMOTES_KEY = "picloud.connections";
const LOCAL_TOKEN_KEY = "picloud.localToken";

interface StoredRemote extends ConnectionInfo {
  readonly token: string;
}

function browserStore(): ConnectionStore {
  const remotes = (): StoredRemote[] => {
    try {
      return JSON.parse(localStorage.getItem(REMOTES_KEY) ?? "[]") as StoredRemote[];
    } catch {
      return [];
    }
  };
  const local: ConnectionInfo = { id: LOCAL_ID, name: "This server", url: window.location.origin, kind: "local" };
  return {
    storage: "browser",
    async list() {
      return [local, ...remotes().map(({ token: _token, ...info }) => info)];
    },
    async token(id) {
      if (id === LOCAL_ID) return localStorage.getItem(LOCAL_TOKEN_KEY) ?? undefined;
      return remotes().find((r) => r.id === id)?.token;
    },
    async save(connection) {
      const info: StoredRemote = {
        id: crypto.randomUUID(),
        kind: "remote",
        name: connection.name,
        url: connection.url.replace(/\/+$/, ""),
        token: connection.token,
      };
      localStorage.setItem(REMOTES_KEY, JSON.stringify([...remotes(), info]));
      const { token: _token, ...rest } = info;
      return rest;
    },
    async remove(id) {
      localStorage.setItem(REMOTES_KEY, JSON.stringify(remotes().filter((r) => r.id !== id)));
    },
    async replace(id, connection) {
      const updated = {
        id,
        kind: "remote" as const,
        name: connection.name,
        url: connection.url.replace(/\/+$/, ""),
        token: connection.token,
      };
      localStorage.setItem(REMOTES_KEY, JSON.stringify(remotes().map((r) => (r.id === id ? updated : r))));
      const { token: _token, ...info } = updated;
      return info;
    },
    setLocalToken(token) {
      if (token) localStorage.setItem(LOCAL_TOKEN_KEY, token);
      else localStorage.removeItem(LOCAL_TOKEN_KEY);
    },
  };
}

export async function openConnectionStore(): Promise<ConnectionStore> {
  const desktop = window.picloud;
  if (!desktop) return browserStore();
  const storage = await desktop.storage();
  return {
    storage,
    list: () => desktop.listConnections(),
    token: (id) => desktop.connectionToken(id),
    save: (connection) => desktop.saveConnection(connection),
    remove: (id) => desktop.removeConnection(id),
    // The desktop store has no update: save the new one first, so a failure loses nothing.
    async replace(id, connection) {
      const saved = await desktop.saveConnection(connection);
      await desktop.removeConnection(id);
      return saved;
    },
  };
}
