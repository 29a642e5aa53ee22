// Where the app's fetch may go besides the public internet: private, loopback and link-local
// destinations are closed until a pattern here opens them.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useAllowEgress, useRemoveEgress } from "../../api/mutations";
import { egressQuery } from "../../api/queries";
import { ConfirmButton, NamedList } from "../../components/forms";
import { ErrorNotice } from "../../components/ui";
import { useApi } from "../../connections/context";

export function EgressCard({ app }: { app: string }) {
  const patterns = useQuery(egressQuery(useApi(), app));
  const allow = useAllowEgress(app);
  const remove = useRemoveEgress(app);
  const [pattern, setPattern] = useState("");
  return (
    <section className="card" data-testid="egress-card">
      <div className="card-head">Egress allow-list</div>
      <div className="card-body stack">
        <p className="muted small flush">
          Scripts may <span className="mono">fetch</span> any public address. Private, loopback and link-local addresses stay closed unless
          a pattern opens them: a host, <span className="mono">host:port</span>, <span className="mono">*.domain</span>, an IP address or a
          CIDR such as <span className="mono">192.168.1.0/24</span>.
        </p>
        <form
          className="row nowrap"
          onSubmit={(e) => {
            e.preventDefault();
            allow.mutate(pattern.trim(), { onSuccess: () => setPattern("") });
          }}
        >
          <input
            className="input mono grow"
            placeholder="ha.lan:8123"
            aria-label="Host pattern"
            value={pattern}
            maxLength={300}
            spellCheck={false}
            onChange={(e) => {
              setPattern(e.target.value);
              if (allow.isError) allow.reset();
            }}
            data-testid="egress-pattern"
          />
          <button type="submit" className="btn primary" disabled={!pattern.trim() || allow.isPending} data-testid="egress-allow">
            Allow
          </button>
        </form>
        <ErrorNotice error={allow.error ?? remove.error ?? patterns.error} />
      </div>
      <NamedList
        rows={patterns.data?.map((p) => ({
          name: p.pattern,
          at: p.createdAt,
          actions: (
            <ConfirmButton
              label="Remove"
              question={`Close '${p.pattern}' again? Scripts' fetch calls to it are refused from their next run.`}
              onConfirm={() => remove.mutate(p.pattern)}
              disabled={remove.isPending}
              ariaLabel={`Remove ${p.pattern}`}
            />
          ),
        }))}
        loading={patterns.isLoading}
        empty="Nothing opened: only public addresses are reachable."
        nameHeader="Pattern"
        timeHeader="Added"
        testId="egress-list"
        rowTestId={(pattern) => `egress-${pattern}`}
      />
    </section>
  );
}
