// The header: navigation, which runtime this is (name, status), the palette and the connection switch.
import { useQuery } from "@tanstack/react-query";
import type { Health } from "../../api/health";
import { deadLettersQuery } from "../../api/queries";
import { errorText } from "../../components/ui";
import { useApi, useConnection } from "../../connections/context";
import type { ConnectionInfo } from "../../connections/store";
import { href, type Route } from "../../router";

const STATUS_TEXT: Record<Health["state"], string> = {
  checking: "connecting",
  up: "connected",
  down: "unreachable",
  rejected: "token rejected",
};

/** Top-level pages in the header; other helpers add theirs (e.g. "Nodes") here. */
const NAV: readonly { route: Route; label: string }[] = [
  { route: { page: "home" }, label: "Apps" },
  { route: { page: "events" }, label: "Events" },
  { route: { page: "deadletters" }, label: "Dead letters" },
  { route: { page: "tokens" }, label: "Tokens" },
  { route: { page: "nodes" }, label: "Nodes" },
  { route: { page: "connections" }, label: "Connections" },
];

export function Topbar(props: {
  route: Route;
  health: Health;
  connections: ConnectionInfo[];
  onSwitch: (id: string) => void;
  onSignOut: () => void;
  onToggleSidebar: () => void;
  sidebarCollapsed: boolean;
  onOpenPalette: () => void;
}) {
  const api = useApi();
  const { info, store } = useConnection();
  const deadLetters = useQuery({ ...deadLettersQuery(api), enabled: props.health.state === "up" });
  const deadCount = deadLetters.data?.total ?? 0;
  const { health } = props;
  const title =
    "error" in health ? `${STATUS_TEXT[health.state]}: ${errorText(health.error)}` : `${STATUS_TEXT[health.state]} to ${info.url}`;
  return (
    <header className="topbar">
      <button
        type="button"
        className="btn icon on-dark"
        onClick={props.onToggleSidebar}
        aria-label={props.sidebarCollapsed ? "Show sidebar" : "Hide sidebar"}
        aria-expanded={!props.sidebarCollapsed}
        data-testid="toggle-sidebar"
      >
        ☰
      </button>
      <div className="brand">
        <span className="brand-mark">π</span> PiCloud
        {info.kind === "remote" && (
          <span className="runtime-name" data-testid="runtime-name" title={info.url}>
            {info.name}
          </span>
        )}
      </div>
      <nav className="topnav" aria-label="Main">
        {NAV.map(({ route, label }) => (
          <a
            key={label}
            href={href(route)}
            className={props.route.page === route.page ? "active" : ""}
            aria-current={props.route.page === route.page ? "page" : undefined}
          >
            {label}
            {route.page === "deadletters" && deadCount > 0 && (
              <span className="badge" data-testid="deadletter-badge">
                {deadCount}
              </span>
            )}
          </a>
        ))}
      </nav>
      <div className="spacer" />
      <button type="button" className="btn small on-dark palette-hint" onClick={props.onOpenPalette} data-testid="open-palette">
        <span className="label-text">Search</span> <kbd>Ctrl K</kbd>
      </button>
      <div className="conn-switch" title={title}>
        <span className={`dot ${health.state}`} data-testid="connection-status" data-state={health.state} />
        <span className="conn-state small" data-testid="connection-state">
          {STATUS_TEXT[health.state]}
        </span>
        <select aria-label="Connection" value={info.id} onChange={(e) => props.onSwitch(e.target.value)} data-testid="connection-select">
          {props.connections.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </div>
      {store.storage === "browser" && info.kind === "local" && (
        <button type="button" className="btn small on-dark" onClick={props.onSignOut}>
          Sign out
        </button>
      )}
    </header>
  );
}
