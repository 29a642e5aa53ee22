// Dead letters: list, inspect the original event and every attempt, replay or delete one or many.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useDeleteDeadLetters, useReplayDeadLetters } from "../../api/mutations";
import { appsQuery, deadLettersQuery } from "../../api/queries";
import { Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { formatDateTime } from "../../lib/format";
import { DeadLetterDetail } from "./DeadLetterDetail";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function DeadLettersView() {
  const api = useApi();
  const [app, setApp] = useState("");
  const apps = useQuery(appsQuery(api));
  const letters = useQuery(deadLettersQuery(api, app || undefined));
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [selectedId, setSelectedId] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const replay = useReplayDeadLetters();
  const remove = useDeleteDeadLetters();
  const done = (message: string) => {
    setNotice(message);
    setChecked(new Set());
    setSelectedId(undefined);
  };
  const doReplay = (ids: string[]) =>
    replay.mutate(ids, { onSuccess: (r) => done(`Replayed ${plural(r.replayed.length, "dead letter")} as new events.`) });
  const doDelete = (ids: string[]) => {
    if (confirm(`Delete ${plural(ids.length, "dead letter")}? Their events are not replayed.`))
      remove.mutate(ids, { onSuccess: (r) => done(`Deleted ${plural(r.deleted.length, "dead letter")}.`) });
  };
  const list = letters.data?.deadLetters ?? [];
  const selected = list.find((l) => l.id === selectedId);
  const toggle = (id: string) => {
    const next = new Set(checked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChecked(next);
  };
  const ids = [...checked];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Dead letters</h1>
        <span className="badge neutral">{letters.data?.total ?? 0}</span>
        <div className="spacer" />
        <select className="select" value={app} onChange={(e) => setApp(e.target.value)} aria-label="App">
          <option value="">All apps</option>
          {apps.data?.map((a) => (
            <option key={a.id}>{a.id}</option>
          ))}
        </select>
        <button
          type="button"
          className="btn primary"
          disabled={ids.length === 0 || replay.isPending}
          onClick={() => doReplay(ids)}
          data-testid="dl-replay"
        >
          Replay {ids.length > 0 ? ids.length : ""}
        </button>
        <button
          type="button"
          className="btn danger"
          disabled={ids.length === 0 || remove.isPending}
          onClick={() => doDelete(ids)}
          data-testid="dl-delete"
        >
          Delete {ids.length > 0 ? ids.length : ""}
        </button>
      </div>
      {notice && (
        <div className="notice ok spaced" role="status" data-testid="dl-notice">
          {notice}
        </div>
      )}
      <ErrorNotice error={letters.error ?? replay.error ?? remove.error} />
      <div className="events-layout">
        <div className="card fill">
          <div className="list-item static list-header">
            <input
              type="checkbox"
              aria-label="Select all"
              checked={list.length > 0 && checked.size === list.length}
              onChange={(e) => setChecked(e.target.checked ? new Set(list.map((l) => l.id)) : new Set())}
            />
            <span className="grow">Script · last error</span>
            <span>Attempts</span>
            <span className="w-150">Failed at</span>
          </div>
          <div className="scroll grow-y" data-testid="dl-list">
            {letters.isLoading && (
              <div className="card-body">
                <Spinner />
              </div>
            )}
            {letters.data && list.length === 0 && <Empty>No dead letters. Events that fail every attempt land here.</Empty>}
            {list.map((letter) => (
              <div key={letter.id} className={`list-item static ${letter.id === selectedId ? "active" : ""}`} data-testid="dl-item">
                <input
                  type="checkbox"
                  aria-label={`Select ${letter.id}`}
                  checked={checked.has(letter.id)}
                  onChange={() => toggle(letter.id)}
                />
                <button type="button" className="grow link-button" onClick={() => setSelectedId(letter.id)}>
                  <span className="mono">
                    {letter.app}/{letter.script}
                  </span>{" "}
                  <span className="muted small">{letter.attempts.at(-1)?.error.message}</span>
                </button>
                <span className="small">{letter.attempts.length}</span>
                <span className="muted small w-150">{formatDateTime(letter.createdAt)}</span>
              </div>
            ))}
          </div>
        </div>
        <div className="card fill">
          <div className="card-head">Details</div>
          <div className="card-body scroll stack grow-y" data-testid="dl-detail">
            {!selected && <Empty>Select a dead letter to see its event and attempts.</Empty>}
            {selected && (
              <DeadLetterDetail letter={selected} onReplay={() => doReplay([selected.id])} onDelete={() => doDelete([selected.id])} />
            )}
          </div>
        </div>
      </div>
    </div>
  );
}
