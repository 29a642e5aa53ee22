// Per-app settings: sandbox mode, resource limits, the app key for endpoints, secrets and egress,
// and deleting the app.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useDeleteApp } from "../../api/mutations";
import { appQuery } from "../../api/queries";
import type { App } from "../../api/types";
import { ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { navigate } from "../../router";
import { AppKeyCard } from "./AppKeyCard";
import { EgressCard } from "./EgressCard";
import { LimitsCard } from "./LimitsCard";
import { SecretsCard } from "./SecretsCard";

export function AppSettingsView({ app }: { app: string }) {
  const query = useQuery(appQuery(useApi(), app));
  return (
    <div className="page settings" data-testid="app-settings">
      {query.isLoading && <Spinner />}
      <ErrorNotice error={query.error} />
      {query.data && (
        <>
          <LimitsCard app={query.data} />
          <AppKeyCard app={query.data} />
          <div className="settings-pair">
            <SecretsCard app={query.data.id} />
            <EgressCard app={query.data.id} />
          </div>
          <DangerCard app={query.data} />
        </>
      )}
    </div>
  );
}

function DangerCard({ app }: { app: App }) {
  const remove = useDeleteApp();
  const [confirmText, setConfirmText] = useState("");
  return (
    <section className="card danger-zone">
      <div className="card-head">Delete app</div>
      <div className="card-body stack">
        <p className="muted small flush">
          Deletes <span className="mono">{app.id}</span> with all its scripts, versions, triggers, KV data and invocation records. Its
          endpoints stop answering at once. This cannot be undone.
        </p>
        <label className="field">
          Type the app id to confirm
          <input
            className="input mono"
            value={confirmText}
            onChange={(e) => setConfirmText(e.target.value)}
            data-testid="delete-app-confirm"
          />
        </label>
        <ErrorNotice error={remove.error} />
        <div>
          <button
            type="button"
            className="btn danger"
            disabled={confirmText !== app.id || remove.isPending}
            onClick={() => remove.mutate(app.id, { onSuccess: () => navigate({ page: "home" }) })}
            data-testid="delete-app"
          >
            Delete app {app.id}
          </button>
        </div>
      </div>
    </section>
  );
}
