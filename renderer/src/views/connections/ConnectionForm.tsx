// Add a remote runtime, or edit one: the URL is validated as typed, the token checked against the runtime.
import { useState } from "react";
import { connectionUrlProblem } from "../../../../main/connection-validation";
import { ErrorNotice, TokenField } from "../../components/ui";
import { useConnection } from "../../connections/context";
import type { ConnectionInfo } from "../../connections/store";

export function ConnectionForm(props: { editing?: ConnectionInfo; onSaved: (saved: ConnectionInfo) => void; onCancel?: () => void }) {
  const { store } = useConnection();
  const [name, setName] = useState(props.editing?.name ?? "");
  const [url, setUrl] = useState(props.editing?.url ?? "");
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const urlProblem = url.trim() ? connectionUrlProblem(url) : undefined;
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await store.check(url.trim(), token.trim());
      const connection = { name: name.trim() || url.trim(), url: url.trim(), token: token.trim() };
      props.onSaved(props.editing ? await store.replace(props.editing.id, connection) : await store.save(connection));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      data-testid="connection-form"
    >
      <div className="card-head">{props.editing ? `Edit ${props.editing.name}` : "Add a remote runtime"}</div>
      <div className="card-body stack">
        <div className="row">
          <label className="field grow">
            Name
            <input
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="home server"
              data-testid="remote-name"
            />
          </label>
          <label className="field grow-2">
            URL
            <input
              className={`input mono ${urlProblem ? "invalid" : ""}`}
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="http://192.168.1.20:8787"
              aria-invalid={Boolean(urlProblem)}
              aria-describedby="remote-url-problem"
              data-testid="remote-url"
            />
          </label>
        </div>
        {urlProblem && (
          <div id="remote-url-problem" className="error-text small" data-testid="remote-url-problem">
            {urlProblem}
          </div>
        )}
        <TokenField value={token} onChange={setToken} testId="remote-token" />
        <ErrorNotice error={error} title="Could not connect" />
        <div className="row">
          <button
            type="submit"
            className="btn primary"
            disabled={busy || !url.trim() || !token.trim() || Boolean(urlProblem)}
            data-testid="remote-add"
          >
            {busy ? "Checking…" : props.editing ? "Check and save" : "Check and add"}
          </button>
          {props.onCancel && (
            <button type="button" className="btn" onClick={props.onCancel}>
              Cancel
            </button>
          )}
        </div>
      </div>
    </form>
  );
}
