// Apps and their scripts, with quick creation; the current app is expanded.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useCreateApp } from "../../api/mutations";
import { appsQuery, scriptsQuery } from "../../api/queries";
import { errorText } from "../../components/ui";
import { useApi } from "../../connections/context";
import { href, navigate, type Route, routeApp } from "../../router";

export function Sidebar({ route }: { route: Route }) {
  const api = useApi();
  const apps = useQuery(appsQuery(api));
  const currentApp = routeApp(route);
  // Only an app the list has: an unknown app's scripts would be one more 404 (the view says it is unknown).
  const listed = Boolean(currentApp && apps.data?.some((app) => app.id === currentApp));
  const scripts = useQuery({ ...scriptsQuery(api, currentApp ?? ""), enabled: listed });
  const [newApp, setNewApp] = useState("");
  const create = useCreateApp();
  const isActive = (target: Route) => href(target) === href(route);
  return (
    <aside className="sidebar" aria-label="Apps">
      <div className="side-title">Apps</div>
      {apps.isLoading && <div className="side-item muted">Loading…</div>}
      {apps.isError && (
        <div className="side-item side-error" title={errorText(apps.error)}>
          Unavailable
        </div>
      )}
      {apps.data?.length === 0 && <div className="side-item side-muted">No apps yet</div>}
      {apps.data?.map((app) => (
        <div key={app.id}>
          <a
            className={`side-item ${isActive({ page: "app", app: app.id, tab: "scripts" }) ? "active" : ""}`}
            href={href({ page: "app", app: app.id, tab: "scripts" })}
            title={app.id}
            data-testid={`app-${app.id}`}
          >
            <span aria-hidden="true">{currentApp === app.id ? "▾" : "▸"}</span> <span className="ellipsis">{app.id}</span>
          </a>
          {currentApp === app.id && (
            <div className="side-sub">
              {scripts.data?.map((s) => (
                <a
                  key={s.name}
                  className={`side-item ${isActive({ page: "script", app: app.id, script: s.name }) ? "active" : ""}`}
                  href={href({ page: "script", app: app.id, script: s.name })}
                  title={s.name}
                  data-testid={`script-${s.name}`}
                >
                  <span className="mono ellipsis">{s.name}</span>
                  <span className="count">v{s.currentVersion}</span>
                </a>
              ))}
              <a
                className={`side-item ${isActive({ page: "app", app: app.id, tab: "kv" }) ? "active" : ""}`}
                href={href({ page: "app", app: app.id, tab: "kv" })}
                data-testid="nav-kv"
              >
                ⛁ KV data
              </a>
              <a
                className={`side-item ${isActive({ page: "app", app: app.id, tab: "settings" }) ? "active" : ""}`}
                href={href({ page: "app", app: app.id, tab: "settings" })}
                data-testid="nav-settings"
              >
                ⚙ Settings
              </a>
            </div>
          )}
        </div>
      ))}
      <form
        className="side-form"
        onSubmit={(e) => {
          e.preventDefault();
          const id = newApp.trim();
          if (id)
            create.mutate(id, {
              onSuccess: (app) => {
                setNewApp("");
                navigate({ page: "app", app: app.id, tab: "scripts" });
              },
            });
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
      {create.isError && <div className="side-error small side-pad">{errorText(create.error)}</div>}
    </aside>
  );
}
