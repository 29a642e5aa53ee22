// Browser mode: the runtime's dashboard asks for the admin token printed by `picloud serve`.
import { useState } from "react";
import { checkConnection } from "../../api/client";
import { ErrorNotice, TokenField } from "../../components/ui";
import type { ConnectionInfo } from "../../connections/store";

export function LoginView({ connection, onToken }: { connection: ConnectionInfo; onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await checkConnection(connection.url, token.trim());
      onToken(token.trim());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login">
      <form
        className="card stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="brand on-light">
          <span className="brand-mark">π</span> PiCloud
        </div>
        <h1>Sign in</h1>
        <p className="muted small flush">
          Enter the admin token of <span className="mono">{connection.url}</span>. <span className="mono">picloud serve</span> prints it on
          first start; <span className="mono">picloud token create NAME</span> makes another.
        </p>
        <TokenField value={token} onChange={setToken} testId="login-token" />
        <ErrorNotice error={error} title="Sign-in failed" />
        <button type="submit" className="btn primary" disabled={busy || token.trim() === ""} data-testid="login-submit">
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
