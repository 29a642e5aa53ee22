// The script's triggers: KV changes, schedules and the dead-letter handler; add and remove.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Trigger } from "../api/types";
import { Empty, ErrorNotice, Spinner } from "../components/ui";
import { useConnection } from "../connections/context";

function describe(trigger: Trigger): string {
  if (trigger.kind === "kv")
    return `KV ${trigger.collection} · ${trigger.ops.join(", ")}${trigger.prefix ? ` · prefix ${trigger.prefix}` : ""}`;
  if (trigger.kind === "schedule") return `Schedule ${trigger.cron} (${trigger.timezone})`;
  return `Dead letters${trigger.forScript ? ` of ${trigger.forScript}` : " of the app"}`;
}

export function TriggersPanel({ app, name }: { app: string; name: string }) {
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const triggers = useQuery({ queryKey: ["triggers", info.id, app], queryFn: () => client.listTriggers(app) });
  const [kind, setKind] = useState<"kv" | "schedule" | "dead_letter">("kv");
  const [collection, setCollection] = useState("");
  const [ops, setOps] = useState({ insert: true, update: true, delete: true });
  const [prefix, setPrefix] = useState("");
  const [cron, setCron] = useState("*/5 * * * *");
  const [timezone, setTimezone] = useState("UTC");
  const [maxAttempts, setMaxAttempts] = useState("5");
  const [backoffMs, setBackoffMs] = useState("1000");
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["triggers", info.id, app] });
  const add = useMutation({
    mutationFn: () =>
      client.addTrigger(app, {
        kind,
        script: name,
        maxAttempts: Number(maxAttempts),
        backoffMs: Number(backoffMs),
        ...(kind === "kv" && {
          collection,
          ops: Object.entries(ops)
            .filter(([, on]) => on)
            .map(([op]) => op),
          ...(prefix && { prefix }),
        }),
        ...(kind === "schedule" && { cron, timezone }),
      }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => client.removeTrigger(id), onSuccess: refresh });
  const mine = triggers.data?.filter((t) => t.script === name) ?? [];
  return (
    <div className="card" data-testid="triggers">
      <div className="card-head">Triggers</div>
      {triggers.isLoading && (
        <div className="card-body">
          <Spinner />
        </div>
      )}
      {triggers.data && mine.length === 0 && <Empty>Runs only on HTTP requests. Add a trigger below.</Empty>}
      <div className="list">
        {mine.map((t) => (
          <div key={t.id} className="list-item" style={{ cursor: "default" }}>
            <span className="grow">{describe(t)}</span>
            <span className="muted small">
              {t.maxAttempts}× · {t.backoffMs}ms
            </span>
            <button
              type="button"
              className="btn small danger"
              onClick={() => remove.mutate(t.id)}
              aria-label={`Remove trigger ${describe(t)}`}
            >
              Remove
            </button>
          </div>
        ))}
      </div>
      <form
        className="card-body stack"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <div className="row">
          {(["kv", "schedule", "dead_letter"] as const).map((k) => (
            <label key={k} className="row small">
              <input type="radio" name="trigger-kind" checked={kind === k} onChange={() => setKind(k)} />{" "}
              {k === "kv" ? "KV change" : k === "schedule" ? "Schedule" : "Dead letters"}
            </label>
          ))}
        </div>
        {kind === "kv" && (
          <>
            <div className="row">
              <input
                className="input mono"
                style={{ flex: 1 }}
                placeholder="collection"
                value={collection}
                onChange={(e) => setCollection(e.target.value)}
                data-testid="trigger-collection"
              />
              <input
                className="input mono"
                style={{ width: 110 }}
                placeholder="key prefix"
                value={prefix}
                onChange={(e) => setPrefix(e.target.value)}
              />
            </div>
            <div className="row small">
              {(["insert", "update", "delete"] as const).map((op) => (
                <label key={op} className="row">
                  <input type="checkbox" checked={ops[op]} onChange={(e) => setOps({ ...ops, [op]: e.target.checked })} /> {op}
                </label>
              ))}
            </div>
          </>
        )}
        {kind === "schedule" && (
          <div className="row">
            <input
              className="input mono"
              style={{ flex: 1 }}
              value={cron}
              onChange={(e) => setCron(e.target.value)}
              aria-label="Cron expression"
            />
            <input
              className="input"
              style={{ width: 130 }}
              value={timezone}
              onChange={(e) => setTimezone(e.target.value)}
              aria-label="Time zone"
            />
          </div>
        )}
        <div className="row small">
          <label className="field">
            Max attempts
            <input
              className="input"
              type="number"
              min={1}
              max={100}
              style={{ width: 90 }}
              value={maxAttempts}
              onChange={(e) => setMaxAttempts(e.target.value)}
              data-testid="trigger-attempts"
            />
          </label>
          <label className="field">
            First retry (ms)
            <input
              className="input"
              type="number"
              min={1}
              style={{ width: 110 }}
              value={backoffMs}
              onChange={(e) => setBackoffMs(e.target.value)}
              data-testid="trigger-backoff"
            />
          </label>
        </div>
        <ErrorNotice error={add.error ?? remove.error} />
        <div>
          <button type="submit" className="btn" disabled={add.isPending || (kind === "kv" && !collection)} data-testid="trigger-add">
            Add trigger
          </button>
        </div>
      </form>
    </div>
  );
}
