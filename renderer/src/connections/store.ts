// Where connections live: in the desktop app the main process keeps them (tokens encrypted with
// safeStorage); in a browser, this server is the local connection and remotes are kept in
// localStorage. In a browser, tokens live only in this tab's sessionStorage, never in
// localStorage: a page on this origin opened in another tab (e.g. a script endpoint of an app that
// opted out of the browser sandbox) cannot read them. See docs/security.md.
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
const remoteTokenKey = (id: string) => `picloud.remoteToken.${id}`;

interface StoredRemote extends ConnectionInfo {
  /** Only in entries written by earlier versions: moved to sessionStorage on load. */
  readonly token?: string;
}

/** Moves tokens that earlier versions persisted in localStorage into this tab's sessionStorage. */
function migrateTokens(): void {
  const legacy = localStorage.getItem(LOCAL_TOKEN_KEY);
  if (legacy) sessionStorage.setItem(LOCAL_TOKEN_KEY, legacy);
  localStorage.removeItem(LOCAL_TOKEN_KEY);
  try {
    const stored = JSON.parse(localStorage.getItem(REMOTES_KEY) ?? "[]") as StoredRemote[];
    if (!stored.some((r) => r.token)) return;
    for (const r of stored) if (r.token) sessionStorage.setItem(remoteTokenKey(r.id), r.token);
    localStorage.setItem(REMOTES_KEY, JSON.stringify(stored.map(({ token: _token, ...info }) => info)));
  } catch {
    // An unreadable list is left for remotes() to ignore.
  }
}

function browserStore(): ConnectionStore {
  migrateTokens();
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
      return sessionStorage.getItem(id === LOCAL_ID ? LOCAL_TOKEN_KEY : remoteTokenKey(id)) ?? undefined;
    },
    async save(connection) {
      const info: ConnectionInfo = {
        id: crypto.randomUUID(),
        kind: "remote",
        name: connection.name,
        url: connection.url.replace(/\/+$/, ""),
      };
      localStorage.setItem(REMOTES_KEY, JSON.stringify([...remotes(), info]));
      sessionStorage.setItem(remoteTokenKey(info.id), connection.token);
      return info;
    },
    async remove(id) {
      localStorage.setItem(REMOTES_KEY, JSON.stringify(remotes().filter((r) => r.id !== id)));
      sessionStorage.removeItem(remoteTokenKey(id));
    },
    async replace(id, connection) {
      const info: ConnectionInfo = { id, kind: "remote", name: connection.name, url: connection.url.replace(/\/+$/, "") };
      localStorage.setItem(REMOTES_KEY, JSON.stringify(remotes().map((r) => (r.id === id ? info : r))));
      sessionStorage.setItem(remoteTokenKey(id), connection.token);
      return info;
    },
    setLocalToken(token) {
      if (token) sessionStorage.setItem(LOCAL_TOKEN_KEY, token);
      else sessionStorage.removeItem(LOCAL_TOKEN_KEY);
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
