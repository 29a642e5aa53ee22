// Where connections live: in the desktop app the main process keeps them (tokens encrypted with
// safeStorage) and checks a new remote before the renderer may reach it (the window's CSP opens only
// saved runtimes). In a browser, the panel manages the runtime that serves it and nothing else: its
// CSP (`connect-src 'self'`) lets it reach no other origin. Its token lives only in this tab's
// sessionStorage, never in localStorage: a page on this origin opened in another tab (e.g. a script
// endpoint of an app that opted out of the browser sandbox) cannot read it. See docs/security.md.
import type { ConnectionInfo, NewConnection, PiCloudDesktopApi } from "../../../main/ipc-contract";
import { ApiError } from "../api/client";

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
  /** Whether this panel can add remote runtimes (the desktop app only). */
  readonly remotes: boolean;
  /** Tries a remote's URL and token before it is saved; a refusal is the runtime's coded ApiError. */
  check(url: string, token: string): Promise<void>;
  save(connection: NewConnection): Promise<ConnectionInfo>;
  remove(id: string): Promise<void>;
  /** Saves a changed remote (e.g. a new token after the old one was revoked); returns its info, whose id may differ. */
  replace(id: string, connection: NewConnection): Promise<ConnectionInfo>;
  /** Browser only: remember the admin token for this server. */
  setLocalToken?(token: string | undefined): void;
}

const LOCAL_ID = "local";
/** Remote runtimes earlier versions kept in a browser: forgotten (the CSP no longer lets the page reach them). */
const LEGACY_REMOTES_KEY = "picloud.connections";
const LOCAL_TOKEN_KEY = "picloud.localToken";

function browserStore(): ConnectionStore {
  // Earlier versions persisted the token in localStorage: it moves to this tab's sessionStorage.
  const legacy = localStorage.getItem(LOCAL_TOKEN_KEY);
  if (legacy) sessionStorage.setItem(LOCAL_TOKEN_KEY, legacy);
  localStorage.removeItem(LOCAL_TOKEN_KEY);
  localStorage.removeItem(LEGACY_REMOTES_KEY);
  const local: ConnectionInfo = { id: LOCAL_ID, name: "This server", url: window.location.origin, kind: "local" };
  const desktopOnly = () =>
    Promise.reject(new Error("Remote runtimes are managed from the desktop app; in a browser, open their own URL."));
  return {
    storage: "browser",
    remotes: false,
    async list() {
      return [local];
    },
    async token(id) {
      return id === LOCAL_ID ? (sessionStorage.getItem(LOCAL_TOKEN_KEY) ?? undefined) : undefined;
    },
    check: desktopOnly,
    save: desktopOnly,
    remove: desktopOnly,
    replace: desktopOnly,
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
    remotes: true,
    async check(url, token) {
      const answer = await desktop.checkConnection({ url, token });
      if (!answer.ok) throw new ApiError(answer.status, answer.code, answer.message);
    },
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
