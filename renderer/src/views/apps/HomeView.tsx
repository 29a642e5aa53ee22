// The apps of the active runtime.
import { useQuery } from "@tanstack/react-query";
import helloExample from "../../../../resources/examples/hello.js?raw";
import { useCreateExampleApp } from "../../api/mutations";
import { appsQuery } from "../../api/queries";
import { StatsOverview } from "../../components/charts/StatsCharts";
import { Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi, useConnection } from "../../connections/context";
import { formatDateTime } from "../../lib/format";
import { href, navigate } from "../../router";

function StartWithExample() {
  const create = useCreateExampleApp();
  return (
    <div className="card-body stack center">
      <button
        type="button"
        className="btn primary"
        disabled={create.isPending}
        onClick={
          () =>
            // mutateAsync, not mutate's onSuccess: this card unmounts as soon as the new app is listed.
            create
              .mutateAsync({ app: "hello", script: "hello", source: helloExample })
              .then(() => navigate({ page: "script", app: "hello", script: "hello" }))
              .catch(() => {}) // shown by create.error while the card is there
        }
        data-testid="create-example"
      >
        {create.isPending ? "Creating…" : "Start with an example: app 'hello' with a deployed endpoint"}
      </button>
      <ErrorNotice error={create.error} />
    </div>
  );
}

export function HomeView() {
  const { info } = useConnection();
  const apps = useQuery(appsQuery(useApi()));
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
          <StartWithExample />
        </div>
      )}
      {apps.data && apps.data.length > 0 && (
        <div className="card">
          <table className="simple">
            <thead>
              <tr>
                <th>App</th>
                <th>Mode</th>
                <th>Endpoints</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {apps.data.map((app) => (
                <tr key={app.id}>
                  <td>
                    <a href={href({ page: "app", app: app.id, tab: "scripts" })}>{app.id}</a>
                  </td>
                  <td className="muted">{app.settings.strict ? "strict (fresh sandbox per call)" : "warm sandboxes"}</td>
                  <td className="muted">{app.settings.appKey ? "app key required" : "public"}</td>
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
