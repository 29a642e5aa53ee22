// The active connection: which runtime the UI talks to, with its client, shared by every view.
import { createContext, useContext } from "react";
import type { PiCloudClient } from "../api/client";
import type { ConnectionInfo, ConnectionStore } from "./store";

export interface ActiveConnection {
  readonly info: ConnectionInfo;
  readonly client: PiCloudClient;
  readonly store: ConnectionStore;
}

export const ConnectionContext = createContext<ActiveConnection | null>(null);

export function useConnection(): ActiveConnection {
  const value = useContext(ConnectionContext);
  if (!value) throw new Error("useConnection outside a connection");
  return value;
}

export function useClient(): PiCloudClient {
  return useConnection().client;
}
