// The app key: when set, every endpoint of the app requires it in the x-picloud-app-key header.
import { useState } from "react";
import { useUpdateApp } from "../../api/mutations";
import type { App } from "../../api/types";
import { CopyButton, ErrorNotice } from "../../components/ui";

/** 32 random bytes, URL-safe: well above the 16-character minimum the API enforces. */
function newAppKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `ak_${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
}

export function AppKeyCard({ app }: { app: App }) {
  const update = useUpdateApp(app.id);
  const [revealed, setRevealed] = useState(false);
  const key = app.settings.appKey ?? null;
  const setKey = (appKey: string | null) => update.mutate({ ...app.settings, appKey });
  return (
    <section className="card" data-testid="app-key-card">
      <div className="card-head">App key</div>
      <div className="card-body stack">
        <label className="check">
          <input
            type="checkbox"
            checked={key !== null}
            disabled={update.isPending}
            onChange={(e) => {
              if (e.target.checked) setKey(newAppKey());
              else if (confirm(`Make every endpoint of '${app.id}' public again?`)) setKey(null);
            }}
            data-testid="require-app-key"
          />
          <span>
            <strong>Require an app key</strong>
            <span className="muted small block">
              Endpoints answer 401 unless the request carries the key in the <span className="mono">x-picloud-app-key</span> header.
            </span>
          </span>
        </label>
        {key !== null && (
          <div className="row">
            <code className="secret mono" data-testid="app-key">
              {revealed ? key : `${key.slice(0, 6)}${"•".repeat(18)}`}
            </code>
            <button type="button" className="btn small" onClick={() => setRevealed(!revealed)}>
              {revealed ? "Hide" : "Show"}
            </button>
            <CopyButton text={key} />
            <button
              type="button"
              className="btn small"
              disabled={update.isPending}
              onClick={() => {
                if (confirm("Rotate the app key? Callers using the old key get 401 at once.")) setKey(newAppKey());
              }}
              data-testid="rotate-app-key"
            >
              Rotate
            </button>
          </div>
        )}
        <ErrorNotice error={update.error} />
      </div>
    </section>
  );
}
