// The typed surface the preload exposes to the renderer as `window.picloud`: one method per
// action, no generic channel. The main process validates every argument again.
export interface ConnectionInfo {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly kind: "local" | "remote";
}

export interface NewConnection {
  readonly name: string;
  readonly url: string;
  readonly token: string;
}

/** A remote runtime as it answered the main process's check: the admin API's code and message when it refused. */
export type ConnectionCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

export interface PiCloudDesktopApi {
  /** How remote tokens are stored: encrypted by the OS keychain, or (warned) plain text. */
  storage(): Promise<"encrypted" | "plain">;
  listConnections(): Promise<ConnectionInfo[]>;
  connectionToken(id: string): Promise<string | undefined>;
  /**
   * Tries the URL and token from the main process: the window's CSP lets the renderer reach only
   * connections already saved, so the first contact with a new runtime happens there.
   */
  checkConnection(connection: { url: string; token: string }): Promise<ConnectionCheck>;
  saveConnection(connection: NewConnection): Promise<ConnectionInfo>;
  removeConnection(id: string): Promise<void>;
}

/** Channel names: renderer-to-main requests, named by domain and action. */
export const IPC = {
  storage: "connections:storage",
  list: "connections:list",
  token: "connections:token",
  check: "connections:check",
  save: "connections:save",
  remove: "connections:remove",
} as const;
