// The active connection: which runtime the UI talks to, with its client, shared by every view.
import { createContext, useContext, useMemo } from "react";
import type { PiCloudClient } from "../api/client";
import type { Api } from "../api/queries";
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

/** The active connection as the query factories take it (see api/queries.ts). */
export function useApi(): Api {
  const { info, client } = useConnection();
  return useMemo(() => ({ id: info.id, client }), [info.id, client]);
}
