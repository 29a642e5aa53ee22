import { useQuery } from "@tanstack/react-query";
import { StatsOverview } from "../components/charts/StatsCharts";
import { Empty, ErrorNotice, Spinner } from "../components/ui";
import { useConnection } from "../connections/context";
import { formatDateTime } from "../lib/format";
import { href } from "../router";

export function HomeView() {
  const { client, info } = useConnection();
  const apps = useQuery({ queryKey: ["apps", info.id], queryFn: () => client.listApps() });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Apps</h1>
        <span className="muted">on {info.name}</span>
      </div>
      {apps.isLoading && <Spinner />}
      {apps.data && apps.data.length > 0 && <StatsOverview />}
      <ErrorNotice error={apps.error} />
      {apps.data?.length === 0 && (
        <div className="card">
          <Empty>
            No apps yet. Create one in the sidebar: an app holds scripts, their triggers and KV data.
            <br />
            Each script gets an endpoint at <span className="mono">/APP/SCRIPT</span>.
          </Empty>
        </div>
      )}
      {apps.data && apps.data.length > 0 && (
        <div className="card">
          <table className="simple">
            <thead>
              <tr>
                <th>App</th>
                <th>Mode</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {apps.data.map((app) => (
                <tr key={app.id}>
                  <td>
                    <a href={href({ page: "script", app: app.id, script: null })}>{app.id}</a>
                  </td>
                  <td className="muted">{app.settings.strict ? "strict (fresh sandbox per call)" : "warm sandboxes"}</td>
                  <td className="muted">{formatDateTime(app.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
