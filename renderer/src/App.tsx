// The shell: picks the connection, asks for a token when needed, and lays out navigation and views.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { PiCloudClient } from "./api/client";
import { Spinner } from "./components/ui";
import { type ActiveConnection, ConnectionContext } from "./connections/context";
import { type ConnectionInfo, type ConnectionStore, openConnectionStore } from "./connections/store";
import { LoginView } from "./views/connections/LoginView";
import { Shell } from "./views/shell/Shell";

const ACTIVE_KEY = "picloud.activeConnection";

export function App() {
  const [store, setStore] = useState<ConnectionStore>();
  const [connections, setConnections] = useState<ConnectionInfo[]>([]);
  const [activeId, setActiveId] = useState<string>(() => localStorage.getItem(ACTIVE_KEY) ?? "local");
  // The token is kept with the id of the connection it belongs to, so a switch never pairs one
  // connection's URL with another's token, even for one render.
  const [tokenState, setTokenState] = useState<{ id: string; token: string | undefined }>();
  const queryClient = useQueryClient();

  const reloadConnections = useCallback(async (s: ConnectionStore) => setConnections(await s.list()), []);

  useEffect(() => {
    void openConnectionStore().then(async (s) => {
      setStore(s);
      await reloadConnections(s);
    });
  }, [reloadConnections]);

  const active = connections.find((c) => c.id === activeId) ?? connections[0];

  useEffect(() => {
    if (!store || !active) return;
    let current = true;
    void store.token(active.id).then((token) => {
      if (current) setTokenState({ id: active.id, token });
    });
    return () => {
      current = false;
    };
  }, [store, active]);
  const token = tokenState && active && tokenState.id === active.id ? tokenState.token : null; // null: not looked up yet
  const setToken = (value: string | undefined) => active && setTokenState({ id: active.id, token: value });

  const switchTo = (id: string) => {
    localStorage.setItem(ACTIVE_KEY, id);
    setActiveId(id);
    queryClient.clear();
  };

  const connection = useMemo<ActiveConnection | null>(
    () => (store && active && token ? { info: active, store, client: new PiCloudClient(active.url, token) } : null),
    [store, active, token],
  );

  if (!store || !active || token === null) {
    return (
      <div className="login">
        <Spinner label="Starting…" />
      </div>
    );
  }
  if (!connection) {
    return (
      <LoginView
        connection={active}
        onToken={(t) => {
          store.setLocalToken?.(t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <ConnectionContext.Provider value={connection}>
      <Shell
        connections={connections}
        onSwitch={switchTo}
        onConnectionsChanged={() => reloadConnections(store)}
        onSignOut={() => {
          store.setLocalToken?.(undefined);
          setToken(undefined);
        }}
      />
    </ConnectionContext.Provider>
  );
}
