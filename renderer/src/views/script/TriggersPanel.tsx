// The script's triggers: KV changes, schedules (with their next runs) and the dead-letter handler.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useAddTrigger, useRemoveTrigger } from "../../api/mutations";
import { triggersQuery } from "../../api/queries";
import type { Trigger } from "../../api/types";
import { Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { CronField } from "./CronField";

function describe(trigger: Trigger): string {
  if (trigger.kind === "kv")
    return `KV ${trigger.collection} · ${trigger.ops.join(", ")}${trigger.prefix ? ` · prefix ${trigger.prefix}` : ""}`;
  if (trigger.kind === "schedule") return `Schedule ${trigger.cron} (${trigger.timezone})`;
  return `Dead letters${trigger.forScript ? ` of ${trigger.forScript}` : " of the app"}`;
}

type Kind = "kv" | "schedule" | "dead_letter";
const KINDS: readonly { kind: Kind; label: string }[] = [
  { kind: "kv", label: "KV change" },
  { kind: "schedule", label: "Schedule" },
  { kind: "dead_letter", label: "Dead letters" },
];

export function TriggersPanel({ app, name }: { app: string; name: string }) {
  const triggers = useQuery(triggersQuery(useApi(), app));
  const [kind, setKind] = useState<Kind>("kv");
  const [collection, setCollection] = useState("");
  const [ops, setOps] = useState({ insert: true, update: true, delete: true });
  const [prefix, setPrefix] = useState("");
  const [cron, setCron] = useState("*/5 * * * *");
  const [timezone, setTimezone] = useState("UTC");
  const [maxAttempts, setMaxAttempts] = useState("5");
  const [backoffMs, setBackoffMs] = useState("1000");
  const add = useAddTrigger(app);
  const remove = useRemoveTrigger(app);
  const submit = () => {
    const retry = { maxAttempts: Number(maxAttempts), backoffMs: Number(backoffMs) };
    const chosenOps = Object.entries(ops)
      .filter(([, on]) => on)
      .map(([op]) => op);
    add.mutate(
      kind === "kv"
        ? { kind, script: name, ...retry, collection, ops: chosenOps, ...(prefix && { prefix }) }
        : kind === "schedule"
          ? { kind, script: name, ...retry, cron, timezone }
          : { kind, script: name, ...retry },
    );
  };
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
          <div key={t.id} className="list-item static">
            <span className="grow">{describe(t)}</span>
            <span className="muted small">
              {t.maxAttempts}× · {t.backoffMs}ms
            </span>
            <button
              type="button"
              className="btn small danger"
              onClick={() => {
                if (confirm(`Remove the trigger "${describe(t)}"?`)) remove.mutate(t.id);
              }}
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
          submit();
        }}
      >
        <div className="row" role="radiogroup" aria-label="Trigger kind">
          {KINDS.map((k) => (
            <label key={k.kind} className="row small">
              <input type="radio" name="trigger-kind" checked={kind === k.kind} onChange={() => setKind(k.kind)} /> {k.label}
            </label>
          ))}
        </div>
        {kind === "kv" && (
          <>
            <div className="row nowrap">
              <input
                className="input mono grow"
                placeholder="collection"
                aria-label="Collection"
                value={collection}
                onChange={(e) => setCollection(e.target.value)}
                data-testid="trigger-collection"
              />
              <input
                className="input mono w-110"
                placeholder="key prefix"
                aria-label="Key prefix"
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
        {kind === "schedule" && <CronField cron={cron} timezone={timezone} onCron={setCron} onTimezone={setTimezone} />}
        <div className="row small">
          <label className="field">
            Max attempts
            <input
              className="input w-90"
              type="number"
              min={1}
              max={100}
              value={maxAttempts}
              onChange={(e) => setMaxAttempts(e.target.value)}
              data-testid="trigger-attempts"
            />
          </label>
          <label className="field">
            First retry (ms)
            <input
              className="input w-110"
              type="number"
              min={1}
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
