// Where the app's fetch may go: in public mode (the default) the public internet, and private, loopback
// and link-local destinations only when a pattern here opens them; in allowlist mode only the patterns.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useAllowEgress, useRemoveEgress, useSetEgressMode } from "../../api/mutations";
import { egressQuery } from "../../api/queries";
import { ConfirmButton, NamedList } from "../../components/forms";
import { ErrorNotice } from "../../components/ui";
import { useApi } from "../../connections/context";

export function EgressCard({ app }: { app: string }) {
  const egress = useQuery(egressQuery(useApi(), app));
  const allow = useAllowEgress(app);
  const remove = useRemoveEgress(app);
  const setMode = useSetEgressMode(app);
  const [pattern, setPattern] = useState("");
  const allowlist = egress.data?.mode === "allowlist";
  return (
    <section className="card" data-testid="egress-card">
      <div className="card-head">Egress</div>
      <div className="card-body stack">
        <label className="check">
          <input
            type="checkbox"
            checked={allowlist}
            disabled={!egress.data || setMode.isPending}
            onChange={(e) => setMode.mutate(e.target.checked ? "allowlist" : "public")}
            data-testid="egress-allowlist-mode"
          />
          <span>
            <strong>Only allowed destinations</strong>
            <span className="muted small block">
              Deny everything else, the public internet included: scripts' <span className="mono">fetch</span> reaches only the patterns
              below.
            </span>
          </span>
        </label>
        <p className="muted small flush" data-testid="egress-mode-summary">
          {allowlist ? (
            <>
              Scripts may <span className="mono">fetch</span> only what a pattern opens
            </>
          ) : (
            <>
              Scripts may <span className="mono">fetch</span> any public address. Private, loopback and link-local addresses stay closed
              unless a pattern opens them
            </>
          )}
          : a host, <span className="mono">host:port</span>, <span className="mono">*.domain</span>, an IP address or a CIDR such as{" "}
          <span className="mono">192.168.1.0/24</span>.
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
        <ErrorNotice error={allow.error ?? remove.error ?? setMode.error ?? egress.error} />
      </div>
      <NamedList
        rows={egress.data?.patterns.map((p) => ({
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
        loading={egress.isLoading}
        empty={allowlist ? "Nothing opened: every fetch is refused." : "Nothing opened: only public addresses are reachable."}
        nameHeader="Pattern"
        timeHeader="Added"
        testId="egress-list"
        rowTestId={(pattern) => `egress-${pattern}`}
      />
    </section>
  );
}
