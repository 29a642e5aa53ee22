// Apps and their scripts, with quick creation; the current app is expanded.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../components/ui";
import { useConnection } from "../connections/context";
import { href, navigate, type Route } from "../router";

export function Sidebar({ route }: { route: Route }) {
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const apps = useQuery({ queryKey: ["apps", info.id], queryFn: () => client.listApps() });
  const currentApp = route.page === "script" || route.page === "kv" ? route.app : undefined;
  const scripts = useQuery({
    queryKey: ["scripts", info.id, currentApp],
    queryFn: () => client.listScripts(currentApp as string),
    enabled: Boolean(currentApp),
  });
  const [newApp, setNewApp] = useState("");
  const create = useMutation({
    mutationFn: (id: string) => client.createApp(id),
    onSuccess: async (app) => {
      setNewApp("");
      await queryClient.invalidateQueries({ queryKey: ["apps", info.id] });
      navigate({ page: "script", app: app.id, script: null });
    },
  });
  return (
    <aside className="sidebar" aria-label="Apps">
      <div className="side-title">Apps</div>
      {apps.isLoading && <div className="side-item muted">Loading…</div>}
      {apps.isError && (
        <div className="side-item" style={{ color: "#ff9b9b" }}>
          Unavailable
        </div>
      )}
      {apps.data?.length === 0 && (
        <div className="side-item" style={{ color: "var(--side-muted)" }}>
          No apps yet
        </div>
      )}
      {apps.data?.map((app) => (
        <div key={app.id}>
          <a
            className={`side-item ${currentApp === app.id && route.page === "script" && !route.script ? "active" : ""}`}
            href={href({ page: "script", app: app.id, script: null })}
            data-testid={`app-${app.id}`}
          >
            <span>▸</span> {app.id}
          </a>
          {currentApp === app.id && (
            <div className="side-sub">
              {scripts.data?.map((s) => (
                <a
                  key={s.name}
                  className={`side-item ${route.page === "script" && route.script === s.name ? "active" : ""}`}
                  href={href({ page: "script", app: app.id, script: s.name })}
                  data-testid={`script-${s.name}`}
                >
                  <span className="mono">{s.name}</span>
                  <span className="count">v{s.currentVersion}</span>
                </a>
              ))}
              <a
                className={`side-item ${route.page === "kv" ? "active" : ""}`}
                href={href({ page: "kv", app: app.id })}
                data-testid="nav-kv"
              >
                ⛁ KV data
              </a>
            </div>
          )}
        </div>
      ))}
      <form
        className="side-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (newApp.trim()) create.mutate(newApp.trim());
        }}
      >
        <input
          placeholder="new-app"
          value={newApp}
          onChange={(e) => setNewApp(e.target.value)}
          aria-label="New app id"
          data-testid="new-app-input"
        />
        <button type="submit" className="btn small" disabled={!newApp.trim()} data-testid="new-app-submit">
          Add
        </button>
      </form>
      {create.isError && <div style={{ color: "#ff9b9b", fontSize: 12, padding: "0 8px" }}>{errorText(create.error)}</div>}
    </aside>
  );
}
