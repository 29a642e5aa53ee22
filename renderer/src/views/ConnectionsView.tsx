// Local runtime plus any number of remote nodes (URL + token). A connection is checked before it is saved.
import { useState } from "react";
import { checkConnection } from "../api/client";
import { ErrorNotice, TokenField } from "../components/ui";
import { useConnection } from "../connections/context";
import type { ConnectionInfo } from "../connections/store";

export function ConnectionsView(props: { connections: ConnectionInfo[]; onChanged: () => void; onSwitch: (id: string) => void }) {
  const { store, info } = useConnection();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const add = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await checkConnection(url.trim(), token.trim());
      const saved = await store.save({ name: name.trim() || url.trim(), url: url.trim(), token: token.trim() });
      setName("");
      setUrl("");
      setToken("");
      props.onChanged();
      props.onSwitch(saved.id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Connections</h1>
        <span className="muted">runtimes this control panel can manage</span>
      </div>
      {store.storage === "plain" && (
        <div className="notice warn" style={{ marginBottom: 12 }}>
          This system has no secure key store: remote tokens are saved in plain text.
        </div>
      )}
      {store.storage === "browser" && (
        <div className="notice warn" style={{ marginBottom: 12 }}>
          In a browser, remote tokens are kept in this browser's local storage. Use the desktop app to keep them encrypted.
        </div>
      )}
      <div className="card" style={{ marginBottom: 16 }}>
        <table className="simple">
          <thead>
            <tr>
              <th>Name</th>
              <th>URL</th>
              <th>Kind</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.connections.map((c) => (
              <tr key={c.id} data-testid={`connection-${c.name}`}>
                <td>
                  {c.name} {c.id === info.id && <span className="pill ok">active</span>}
                </td>
                <td className="mono">{c.url}</td>
                <td className="muted">{c.kind}</td>
                <td style={{ textAlign: "right" }}>
                  {c.id !== info.id && (
                    <button type="button" className="btn small" onClick={() => props.onSwitch(c.id)}>
                      Switch
                    </button>
                  )}{" "}
                  {c.kind === "remote" && (
                    <button
                      type="button"
                      className="btn small danger"
                      onClick={async () => {
                        await store.remove(c.id);
                        props.onChanged();
                        if (c.id === info.id) props.onSwitch("local");
                      }}
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <div className="card-head">Add a remote runtime</div>
        <div className="card-body stack">
          <div className="row">
            <label className="field" style={{ flex: 1 }}>
              Name
              <input
                className="input"
                value={name}
                onChange={(e) => setName(e.target.value)}
                placeholder="home server"
                data-testid="remote-name"
              />
            </label>
            <label className="field" style={{ flex: 2 }}>
              URL
              <input
                className="input mono"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                placeholder="http://192.168.1.20:8787"
                data-testid="remote-url"
              />
            </label>
          </div>
          <TokenField value={token} onChange={setToken} testId="remote-token" />
          <ErrorNotice error={error} title="Could not connect" />
          <div>
            <button type="submit" className="btn primary" disabled={busy || !url.trim() || !token.trim()} data-testid="remote-add">
              {busy ? "Checking…" : "Check and add"}
            </button>
          </div>
        </div>
      </form>
    </div>
  );
}
