// The shell: picks the connection, asks for a token when needed, and lays out navigation and views.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { PiCloudClient } from "./api/client";
import { Spinner, errorText } from "./components/ui";
import { type ActiveConnection, ConnectionContext, useConnection } from "./connections/context";
import { type ConnectionInfo, type ConnectionStore, openConnectionStore } from "./connections/store";
import { href, type Route, useRoute } from "./router";
import { ConnectionsView } from "./views/ConnectionsView";
import { DeadLettersView } from "./views/DeadLettersView";
import { EventsView } from "./views/EventsView";
import { HomeView } from "./views/HomeView";
import { KvView } from "./views/KvView";
import { LoginView } from "./views/LoginView";
import { Sidebar } from "./views/Sidebar";

// Monaco is large: load the editor view on demand so the rest of the UI starts fast.
const ScriptView = lazy(() => import("./views/ScriptView").then((m) => ({ default: m.ScriptView })));

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

function Shell(props: {
  connections: ConnectionInfo[];
  onSwitch: (id: string) => void;
  onConnectionsChanged: () => void;
  onSignOut: () => void;
}) {
  const route = useRoute();
  const { client, info, store } = useConnection();
  const health = useQuery({ queryKey: ["health", info.id], queryFn: () => client.listApps(), refetchInterval: 30_000, retry: 0 });
  const deadLetters = useQuery({
    queryKey: ["deadletters", "count", info.id],
    queryFn: () => client.listDeadLetters(),
    refetchInterval: 15_000,
    enabled: health.isSuccess,
  });
  const nav = (target: Route, label: string, extra?: React.ReactNode) => (
    <a href={href(target)} className={route.page === target.page ? "active" : ""}>
      {label}
      {extra}
    </a>
  );
  const deadCount = deadLetters.data?.total ?? 0;
  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark">π</span> PiCloud
        </div>
        <nav className="topnav" aria-label="Main">
          {nav({ page: "home" }, "Apps")}
          {nav({ page: "events" }, "Events")}
          {nav(
            { page: "deadletters" },
            "Dead letters",
            deadCount > 0 ? (
              <span className="badge" data-testid="deadletter-badge">
                {deadCount}
              </span>
            ) : null,
          )}
          {nav({ page: "connections" }, "Connections")}
        </nav>
        <div className="spacer" />
        <div className="conn-switch" title={health.isError ? errorText(health.error) : `Connected to ${info.url}`}>
          <span className={`dot ${health.isSuccess ? "up" : health.isError ? "down" : ""}`} data-testid="connection-status" />
          <select aria-label="Connection" value={info.id} onChange={(e) => props.onSwitch(e.target.value)} data-testid="connection-select">
            {props.connections.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        {store.storage === "browser" && info.kind === "local" && (
          <button type="button" className="btn small ghost" style={{ color: "#c9d1e0" }} onClick={props.onSignOut}>
            Sign out
          </button>
        )}
      </header>
      <Sidebar route={route} />
      <main className="main">
        {health.isError && (
          <div className="notice error" role="alert" style={{ margin: "12px 24px 0" }} data-testid="connection-error">
            {info.name} ({info.url}) is not available: {errorText(health.error)}
          </div>
        )}
        <Suspense
          fallback={
            <div className="page">
              <Spinner label="Loading editor…" />
            </div>
          }
        >
          {route.page === "home" && <HomeView />}
          {route.page === "script" && <ScriptView key={`${route.app}/${route.script}`} app={route.app} script={route.script} />}
          {route.page === "kv" && <KvView key={route.app} app={route.app} />}
          {route.page === "events" && <EventsView />}
          {route.page === "deadletters" && <DeadLettersView />}
          {route.page === "connections" && (
            <ConnectionsView connections={props.connections} onChanged={props.onConnectionsChanged} onSwitch={props.onSwitch} />
          )}
        </Suspense>
      </main>
    </div>
  );
}
