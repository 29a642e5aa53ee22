// An app's scripts: the list with endpoints, and a field to name a new one.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { scriptsQuery } from "../../api/queries";
import { Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { formatDateTime } from "../../lib/format";
import { href, navigate } from "../../router";

export function ScriptList({ app }: { app: string }) {
  const api = useApi();
  const scripts = useQuery(scriptsQuery(api, app));
  const [name, setName] = useState("");
  return (
    <div className="page">
      <form
        className="row form-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) navigate({ page: "script", app, script: name.trim() });
        }}
      >
        <input
          className="input mono"
          placeholder="script-name"
          aria-label="New script name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          data-testid="new-script-name"
        />
        <button type="submit" className="btn primary" disabled={!name.trim()} data-testid="new-script-submit">
          New script
        </button>
      </form>
      {scripts.isLoading && <Spinner />}
      <ErrorNotice error={scripts.error} />
      {scripts.data?.length === 0 && (
        <div className="card">
          <Empty>No scripts in {app} yet. Name one above to open the editor.</Empty>
        </div>
      )}
      {scripts.data && scripts.data.length > 0 && (
        <div className="card">
          <table className="simple">
            <thead>
              <tr>
                <th>Script</th>
                <th>Version</th>
                <th>Endpoint</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {scripts.data.map((s) => (
                <tr key={s.name}>
                  <td>
                    <a href={href({ page: "script", app, script: s.name })} className="mono">
                      {s.name}
                    </a>
                  </td>
                  <td>v{s.currentVersion}</td>
                  <td className="mono small">{s.url}</td>
                  <td className="muted">{formatDateTime(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
