// An app's secrets: names and update times only. A value goes in (set or replace) and is never
// shown again; scripts read it as ctx.env / env. Deleting asks first.
import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useDeleteSecret, useSetSecret } from "../../api/mutations";
import { secretsQuery } from "../../api/queries";
import { ConfirmButton, NamedList } from "../../components/forms";
import { ErrorNotice } from "../../components/ui";
import { useApi } from "../../connections/context";

/** The API's rule for secret names (they become property names of env). */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function SecretsCard({ app }: { app: string }) {
  const secrets = useQuery(secretsQuery(useApi(), app));
  const set = useSetSecret(app);
  const remove = useDeleteSecret(app);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [saved, setSaved] = useState<string>();
  const valueRef = useRef<HTMLInputElement>(null);
  const nameError = name !== "" && !SECRET_NAME.test(name) ? "letters, digits and _, not starting with a digit" : undefined;
  const replacing = secrets.data?.some((s) => s.name === name) ?? false;
  return (
    <section className="card" data-testid="secrets-card">
      <div className="card-head">Secrets</div>
      <div className="card-body stack">
        <p className="muted small flush">
          Scripts read secrets as <span className="mono">ctx.env.NAME</span> (or <span className="mono">env.NAME</span>). Values are
          write-only: they are never shown again, and they are masked in logs.
        </p>
        <form
          className="row secret-form"
          onSubmit={(e) => {
            e.preventDefault();
            setSaved(undefined);
            set.mutate(
              { name, value },
              {
                onSuccess: (info) => {
                  setSaved(`${replacing ? "Replaced" : "Set"} ${info.name}.`);
                  setName("");
                  setValue("");
                },
              },
            );
          }}
        >
          <label className="field grow">
            Name
            <input
              className={`input mono ${nameError ? "invalid" : ""}`}
              placeholder="API_KEY"
              value={name}
              maxLength={64}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={Boolean(nameError)}
              data-testid="secret-name"
            />
          </label>
          <label className="field grow-2">
            Value
            <input
              ref={valueRef}
              className="input mono"
              type="password"
              placeholder={replacing ? "new value (replaces the old one)" : "value"}
              value={value}
              autoComplete="new-password"
              onChange={(e) => setValue(e.target.value)}
              data-testid="secret-value"
            />
          </label>
          <button
            type="submit"
            className="btn primary"
            disabled={!name || !value || Boolean(nameError) || set.isPending}
            data-testid="secret-save"
          >
            {replacing ? "Replace" : "Set secret"}
          </button>
        </form>
        {nameError && <span className="hint error-text">{nameError}</span>}
        {saved && (
          <span className="ok-text small" role="status" data-testid="secret-saved">
            {saved} Running scripts get it on their next run.
          </span>
        )}
        <ErrorNotice error={set.error ?? remove.error ?? secrets.error} />
      </div>
      <NamedList
        rows={secrets.data?.map((secret) => ({
          name: secret.name,
          at: secret.updatedAt,
          actions: (
            <>
              <button
                type="button"
                className="btn small"
                onClick={() => {
                  setName(secret.name);
                  setValue("");
                  valueRef.current?.focus();
                }}
                aria-label={`Replace ${secret.name}`}
              >
                Replace
              </button>{" "}
              <ConfirmButton
                label="Delete"
                question={`Delete the secret '${secret.name}'? Scripts that read it get undefined from their next run.`}
                onConfirm={() => remove.mutate(secret.name)}
                disabled={remove.isPending}
                ariaLabel={`Delete ${secret.name}`}
              />
            </>
          ),
        }))}
        loading={secrets.isLoading}
        empty="No secrets yet."
        nameHeader="Name"
        timeHeader="Updated"
        testId="secret-list"
        rowTestId={(name) => `secret-${name}`}
      />
    </section>
  );
}
