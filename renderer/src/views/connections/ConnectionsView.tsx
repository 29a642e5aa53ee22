// Local runtime plus any number of remote nodes (URL + token). A connection is checked before it
// is saved; a remote can be edited (e.g. a new token after the old one was revoked). Desktop only:
// in a browser the panel reaches no other origin (CSP), so it manages the runtime that serves it.
import { useState } from "react";
import { useConnection } from "../../connections/context";
import type { ConnectionInfo } from "../../connections/store";
import { ConnectionForm } from "./ConnectionForm";

export function ConnectionsView(props: { connections: ConnectionInfo[]; onChanged: () => void; onSwitch: (id: string) => void }) {
  const { store, info } = useConnection();
  const [editing, setEditing] = useState<ConnectionInfo>();
  const saved = (connection: ConnectionInfo) => {
    setEditing(undefined);
    props.onChanged();
    props.onSwitch(connection.id);
    // The window's CSP names the saved runtimes when the document loads: load it again so it names this one.
    window.location.reload();
  };
  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Connections</h1>
        <span className="muted">runtimes this control panel can manage</span>
      </div>
      {store.storage === "plain" && (
        <div className="notice warn spaced">This system has no secure key store: remote tokens are saved in plain text.</div>
      )}
      {!store.remotes && (
        <div className="notice info spaced" role="note" data-testid="remotes-desktop-only">
          In a browser, this control panel manages the runtime that serves it and talks to no other site. To manage another runtime, open
          its own URL, or add it in the desktop app.
        </div>
      )}
      <div className="card">
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
                <td className="mono break">{c.url}</td>
                <td className="muted">{c.kind}</td>
                <td className="right nowrap-cell">
                  {c.id !== info.id && (
                    <button type="button" className="btn small" onClick={() => props.onSwitch(c.id)}>
                      Switch
                    </button>
                  )}{" "}
                  {c.kind === "remote" && (
                    <>
                      <button type="button" className="btn small" onClick={() => setEditing(c)} data-testid={`edit-${c.name}`}>
                        Edit
                      </button>{" "}
                      <button
                        type="button"
                        className="btn small danger"
                        onClick={async () => {
                          if (!confirm(`Remove the connection '${c.name}'? The runtime itself is not touched.`)) return;
                          await store.remove(c.id);
                          props.onChanged();
                          if (c.id === info.id) props.onSwitch("local");
                          // The window's CSP stops naming it once the document loads again.
                          window.location.reload();
                        }}
                        data-testid={`remove-${c.name}`}
                      >
                        Remove
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!store.remotes ? null : editing ? (
        <ConnectionForm key={editing.id} editing={editing} onSaved={saved} onCancel={() => setEditing(undefined)} />
      ) : (
        <ConnectionForm key="new" onSaved={saved} />
      )}
    </div>
  );
}
