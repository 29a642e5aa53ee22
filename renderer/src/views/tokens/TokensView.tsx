// Admin tokens of the active runtime: list, create (the secret is shown once), revoke. The last
// token cannot be revoked (the API answers TOKEN_LAST), so its button is disabled and says why.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useCreateToken, useRevokeToken } from "../../api/mutations";
import { tokensQuery } from "../../api/queries";
import { ConfirmButton } from "../../components/forms";
import { CopyButton, Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi, useConnection } from "../../connections/context";
import { formatDateTime } from "../../lib/format";

const LAST_TOKEN = "This is the only token, so it cannot be revoked (nobody could sign in): create another one first.";

export function TokensView() {
  const { info } = useConnection();
  const tokens = useQuery(tokensQuery(useApi()));
  const create = useCreateToken();
  const revoke = useRevokeToken();
  const [name, setName] = useState("");
  const onlyOne = tokens.data?.length === 1;
  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Admin tokens</h1>
        <span className="muted">of {info.name}: each one can do everything the admin API allows</span>
      </div>
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) create.mutate(name.trim(), { onSuccess: () => setName("") });
        }}
      >
        <div className="card-head">Create a token</div>
        <div className="card-body stack">
          <div className="row nowrap">
            <input
              className="input grow"
              placeholder="what it is for, e.g. laptop CLI"
              aria-label="Token name"
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
              data-testid="token-name"
            />
            <button type="submit" className="btn primary" disabled={!name.trim() || create.isPending} data-testid="token-create">
              Create token
            </button>
          </div>
          {create.data && (
            <div className="notice warn stack tight" role="status" data-testid="token-created">
              <div>
                <strong>{create.data.name}</strong>: copy the token now. It is stored hashed and is never shown again.
              </div>
              <div className="row nowrap">
                <code className="secret mono grow break" data-testid="token-secret">
                  {create.data.token}
                </code>
                <CopyButton text={create.data.token} />
              </div>
            </div>
          )}
          <ErrorNotice error={create.error} />
        </div>
      </form>
      <section className="card">
        <div className="card-head">Tokens</div>
        {tokens.isLoading && (
          <div className="card-body">
            <Spinner />
          </div>
        )}
        <ErrorNotice error={tokens.error ?? revoke.error} />
        {tokens.data?.length === 0 && <Empty>No tokens.</Empty>}
        {tokens.data && tokens.data.length > 0 && (
          <table className="simple" data-testid="token-list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => (
                <tr key={token.id} data-testid={`token-${token.name}`}>
                  <td>{token.name}</td>
                  <td className="muted">{formatDateTime(token.createdAt)}</td>
                  <td className="muted">{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : "never"}</td>
                  <td className="right">
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke '${token.name}'? Anything using it gets 401 at once, on every node.`}
                      onConfirm={() => revoke.mutate(token.id)}
                      disabled={revoke.isPending || onlyOne}
                      title={onlyOne ? LAST_TOKEN : undefined}
                      ariaLabel={`Revoke ${token.name}`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {onlyOne && (
          <div className="muted small card-body" data-testid="token-last">
            {LAST_TOKEN}
          </div>
        )}
      </section>
    </div>
  );
}
