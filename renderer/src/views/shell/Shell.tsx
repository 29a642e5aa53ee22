// The signed-in layout: header, collapsible sidebar, the routed view, the command palette, and
// the connection's live stream.
import { lazy, Suspense, useEffect, useState } from "react";
import { type Health, useHealth } from "../../api/health";
import { LiveContext, useLiveUpdates } from "../../api/live";
import { Spinner, errorText } from "../../components/ui";
import { useApi, useConnection } from "../../connections/context";
import type { ConnectionInfo } from "../../connections/store";
import { type Route, useRoute } from "../../router";
import { AppView } from "../apps/AppView";
import { HomeView } from "../apps/HomeView";
import { ConnectionsView } from "../connections/ConnectionsView";
import { DeadLettersView } from "../deadletters/DeadLettersView";
import { EventsView } from "../events/EventsView";
import { InvocationView } from "../events/InvocationView";
import { NodesView } from "../nodes/NodesView";
import { TokensView } from "../tokens/TokensView";
import { CommandPalette } from "./CommandPalette";
import { Sidebar } from "./Sidebar";
import { Topbar } from "./Topbar";

// Monaco is large: load the editor view on demand so the rest of the UI starts fast.
const ScriptEditor = lazy(() => import("../script/ScriptEditor").then((m) => ({ default: m.ScriptEditor })));

const COLLAPSED_KEY = "picloud.sidebarCollapsed";

export interface ShellProps {
  readonly connections: ConnectionInfo[];
  readonly onSwitch: (id: string) => void;
  readonly onConnectionsChanged: () => void;
  readonly onSignOut: () => void;
}

export function Shell(props: ShellProps) {
  const route = useRoute();
  const api = useApi();
  const { info } = useConnection();
  const health = useHealth(api);
  const live = useLiveUpdates(api);
  const [collapsed, setCollapsed] = useState(() => localStorage.getItem(COLLAPSED_KEY) === "1");
  const [paletteOpen, setPaletteOpen] = useState(false);

  useEffect(() => {
    document.title = info.kind === "local" ? "PiCloud" : `${info.name} — PiCloud`;
  }, [info]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        setPaletteOpen((open) => !open);
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, []);

  const toggleSidebar = () => {
    localStorage.setItem(COLLAPSED_KEY, collapsed ? "0" : "1");
    setCollapsed(!collapsed);
  };
  return (
    <LiveContext.Provider value={live}>
      <div className={`shell ${collapsed ? "collapsed" : ""} ${info.kind === "remote" ? "remote" : ""}`}>
        <Topbar
          route={route}
          health={health}
          connections={props.connections}
          onSwitch={props.onSwitch}
          onSignOut={props.onSignOut}
          onToggleSidebar={toggleSidebar}
          sidebarCollapsed={collapsed}
          onOpenPalette={() => setPaletteOpen(true)}
        />
        {!collapsed && <Sidebar route={route} />}
        <main className="main">
          <HealthNotice health={health} />
          <Suspense
            fallback={
              <div className="page">
                <Spinner label="Loading editor…" />
              </div>
            }
          >
            <RouteView route={route} {...props} />
          </Suspense>
        </main>
        {paletteOpen && <CommandPalette onClose={() => setPaletteOpen(false)} />}
      </div>
    </LiveContext.Provider>
  );
}

function RouteView({ route, ...props }: { route: Route } & ShellProps) {
  switch (route.page) {
    case "home":
      return <HomeView />;
    case "app":
      return <AppView app={route.app} tab={route.tab} />;
    case "script":
      return <ScriptEditor key={`${route.app}/${route.script}`} app={route.app} name={route.script} />;
    case "events":
      return <EventsView />;
    case "invocation":
      return <InvocationView key={route.id} id={route.id} />;
    case "deadletters":
      return <DeadLettersView />;
    case "tokens":
      return <TokensView />;
    case "nodes":
      return <NodesView />;
    case "connections":
      return <ConnectionsView connections={props.connections} onChanged={props.onConnectionsChanged} onSwitch={props.onSwitch} />;
  }
}

function HealthNotice({ health }: { health: Health }) {
  const { info } = useConnection();
  if (health.state === "down")
    return (
      <div className="notice error banner" role="alert" data-testid="connection-error">
        {info.name} ({info.url}) is not available: {errorText(health.error)}. Retrying every few seconds.
      </div>
    );
  if (health.state === "rejected")
    return (
      <div className="notice error banner" role="alert" data-testid="connection-error">
        {info.name} ({info.url}) rejected the saved token: {errorText(health.error)}.{" "}
        {info.kind === "remote" ? (
          <a href="#/connections" data-testid="edit-connection-link">
            Enter a new token
          </a>
        ) : (
          "Sign out and sign in with a valid token."
        )}
      </div>
    );
  return null;
}
